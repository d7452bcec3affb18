"""The telemetry spool through the real agent: audit events are on disk before the action they describe is
answered (a kill -9 right after the answer loses none), warnings are kept too, a torn tail left by a crash is
repaired at start, and `outpost telemetry status|tail` read it."""
import json
import os
import signal

from conftest import OUTPOST, run_cli as run
from test_store import Site, bundles  # noqa: F401  (the module fixture of signed bundles)


def test_audit_events_survive_a_kill_right_after_the_answer(bundles, workdir):  # noqa: F811
    site = Site(workdir, bundles)
    daemon = site.start()
    site.cli("install", "assistant-1.0.0.tar")
    # The install was answered: its audit event must be on disk now, whatever happens next.
    daemon.proc.send_signal(signal.SIGKILL)
    daemon.proc.wait()
    # A crash in the middle of a write leaves a torn tail: simulate one on the audit lane.
    audit = os.path.join(workdir, "state", "spool", "audit")
    last = sorted(os.listdir(audit))[-1]
    with open(os.path.join(audit, last), "ab") as f:
        f.write(b"OPSR\x40\x00\x00\x00garbage")
    daemon = site.start()
    lines = [json.loads(line) for line in site.cli("telemetry", "tail", "--kind", "audit").stdout.splitlines()]
    installs = [l for l in lines if l["record"]["fields"].get("AUDIT") == "store_install"]
    assert installs and installs[0]["record"]["fields"]["RESULT"] == "ok", lines
    assert "assistant 1.0.0 installed" in installs[0]["record"]["message"]
    assert installs[0]["record"]["fields"]["ACTOR"].startswith("uid 0 pid ")
    status = json.loads(site.cli("telemetry", "status", "--json").stdout)
    assert status["backlog_records"] >= len(lines) and status["corrupt"] == 0 and status["spool_max_bytes"] == 256 << 20
    human = site.cli("telemetry", "status").stdout
    assert "backlog" in human and "dropped: none" in human
    # Warnings are spooled as well (here: the access groups that do not exist on this machine).
    warnings = [json.loads(line) for line in site.cli("telemetry", "tail", "--kind", "warning").stdout.splitlines()]
    assert any("does not exist" in w["record"]["message"] for w in warnings), warnings
    refused = run([OUTPOST, "telemetry", "tail", "--kind", "nonsense", "--socket", daemon.socket], workdir)
    assert refused.returncode == 1 and "kind must be one of" in refused.stderr, refused.stderr
    daemon.stop()
