"""The model store through the real agent: `outpost install` of signed bundles (SmolLM2 and Gemma 3 under one
name), serving from the encrypted store, nothing of the model readable on disk, a smoke test that refuses a
bundle, downgrades, rollback, a tampered blob found at restart with an automatic rollback, a wrong key refused
without touching anything, and kill -9 at many points of an install."""
import hashlib
import json
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import OUTPOST, Daemon, ok_cli as ok, run_cli as run
from test_gemma3 import model_path as gemma_path
from test_smollm2 import model_path as smollm2_path


@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    """Signed bundles of model "assistant": 1.0.0 SmolLM2, 2.0.0 Gemma, 3.0.0 with a smoke text it cannot give."""
    work = str(tmp_path_factory.mktemp("store-bundles"))
    ok([OUTPOST, "keygen", "--no-password", "--secret-key", "team.key", "--public-key", "team.pub"], work)
    os.makedirs(os.path.join(work, "trusted"))
    os.rename(os.path.join(work, "team.pub"), os.path.join(work, "trusted", "team.pub"))
    for version, model, extra in [("1.0.0", smollm2_path(), []), ("2.0.0", gemma_path(), []),
                                  ("3.0.0", smollm2_path(), ["--smoke-expected", " Lyon, obviously."])]:
        ok([OUTPOST, "bundle", "create", "--model", model, "--name", "assistant", "--version", version, "--smoke-tokens", "8",
            "--output", f"assistant-{version}.tar", *extra], work)
        ok([OUTPOST, "bundle", "sign", f"assistant-{version}.tar", "--secret-key", "team.key"], work)
    return work


class Site:
    def __init__(self, work, bundles, key="store.key"):
        self.work, self.bundles = work, bundles
        self.key = os.path.join(work, key)
        if not os.path.exists(self.key):
            with open(self.key, "wb") as f:
                f.write(os.urandom(32))
        self.config = f'[bundles]\ntrusted_dir = "{bundles}/trusted"\n[store]\nmin_free_mb = 0\n'
        self.daemon = None

    def start(self, key=None):
        self.daemon = Daemon(self.work, self.config, extra_args=("--store-key-file", key or self.key)).start()
        return self.daemon

    def stop(self):
        self.daemon.stop()

    def cli(self, *args, expect=0):
        out = run([OUTPOST, *args, "--socket", self.daemon.socket], self.bundles)
        assert out.returncode == expect, f"{args}: {out.returncode} {out.stdout} {out.stderr}"
        return out

    def versions(self):
        return json.loads(self.cli("versions", "--json").stdout)

    def active(self):
        return [row["version"] for row in self.versions() if row["active"]]

    def complete(self, prompt="The capital of France is"):
        c = self.daemon.connection(timeout=120)
        try:
            c.request("POST", "/v1/completions", body=json.dumps({"model": "assistant", "prompt": prompt, "max_tokens": 8, "temperature": 0}),
                      headers={"Content-Type": "application/json"})
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()


def state_files(work, below="store"):
    """The files of the store (the spool beside it holds audit records that name models on purpose)."""
    result = []
    for root, _, files in os.walk(os.path.join(work, "state", below)):
        result += [os.path.join(root, name) for name in files]
    return sorted(result)


def smoke_text(bundles, version):
    manifest = json.loads(ok([OUTPOST, "bundle", "manifest", f"assistant-{version}.tar"], bundles).stdout)
    return manifest["smoke_test"]["expected"]


def test_install_serve_downgrade_rollback(bundles, workdir):
    site = Site(workdir, bundles)
    site.start()
    installed = json.loads(site.cli("install", "assistant-1.0.0.tar", "--json").stdout)
    assert installed["model"] == "assistant" and installed["version"] == "1.0.0" and installed["active"] is True
    assert installed["smoke_test"].startswith("passed")
    status, body = site.complete()
    assert status == 200 and json.loads(body)["choices"][0]["text"] == smoke_text(bundles, "1.0.0")
    rows = site.versions()
    assert [(r["model"], r["version"], r["active"], r["status"]) for r in rows] == [("assistant", "1.0.0", True, "ready")]
    assert rows[0]["installed_by"].startswith("uid 0 pid ")

    # Nothing on disk gives the model away: no GGUF header, no sampled 4 KiB run of either model file, no name.
    site.cli("install", "assistant-2.0.0.tar")
    assert site.active() == ["2.0.0"]
    status, body = site.complete()
    assert status == 200 and json.loads(body)["choices"][0]["text"] == smoke_text(bundles, "2.0.0")
    rng = random.Random(5)
    runs = []
    for path in (smollm2_path(), gemma_path()):
        size = os.path.getsize(path)
        with open(path, "rb") as f:
            for offset in [0] + [rng.randrange(0, size - 4096) for _ in range(24)]:
                f.seek(offset)
                runs.append(f.read(4096))
    for path in state_files(workdir):
        with open(path, "rb") as f:
            data = f.read()
        assert b"GGUF" not in data[:64] and b"assistant" not in data and b"smollm" not in data.lower(), path
        assert not any(run in data for run in runs), f"{path} holds model bytes"

    # A downgrade needs saying so; rollback goes to the previous good version, with its smoke test.
    refused = site.cli("install", "assistant-1.0.0.tar", expect=1)
    assert "older than the active 2.0.0" in refused.stderr or "already installed" in refused.stderr, refused.stderr
    site.cli("rollback", "assistant")
    assert site.active() == ["1.0.0"]
    status, body = site.complete()
    assert json.loads(body)["choices"][0]["text"] == smoke_text(bundles, "1.0.0")
    site.cli("activate", "assistant", "2.0.0")
    assert site.active() == ["2.0.0"]

    # A bundle whose smoke test fails is never activated, and says why.
    failed = site.cli("install", "assistant-3.0.0.tar", expect=1)
    assert "smoke test failed" in failed.stderr and "Lyon, obviously." in failed.stderr, failed.stderr
    assert site.active() == ["2.0.0"]
    row = [r for r in site.versions() if r["version"] == "3.0.0"][0]
    assert row["status"] == "failed" and "smoke test failed" in row["failure"]
    site.cli("activate", "assistant", "3.0.0", expect=1)
    site.cli("remove", "assistant", "2.0.0", expect=1)  # active
    site.cli("remove", "assistant", "3.0.0")

    # Each change is an audit record and counted.
    log = site.daemon.log()
    assert "audit=store_install" in log and "audit=store_rollback" in log and "result=failed" in log
    metrics = site.daemon.get("/metrics")[1]
    assert 'outpost_store_operations_total{operation="install",result="ok"} 2' in metrics
    assert 'outpost_store_operations_total{operation="install",result="failed"} 2' in metrics

    # Restart: the store opens again with the key and serves the active version.
    site.stop()
    site.start()
    assert site.active() == ["2.0.0"]
    assert site.complete()[0] == 200
    site.stop()


def test_tampered_blob_rolls_back_at_start_and_a_wrong_key_changes_nothing(bundles, workdir):
    site = Site(workdir, bundles)
    site.start()
    site.cli("install", "assistant-1.0.0.tar")
    site.cli("install", "assistant-2.0.0.tar")
    site.stop()
    # Flip one byte in the middle of the largest blob (Gemma's, the active version).
    blobs = os.path.join(workdir, "state", "store", "blobs")
    largest = max((os.path.join(blobs, name) for name in os.listdir(blobs)), key=os.path.getsize)
    with open(largest, "r+b") as f:
        f.seek(os.path.getsize(largest) // 2)
        byte = f.read(1)
        f.seek(os.path.getsize(largest) // 2)
        f.write(bytes([byte[0] ^ 0x20]))
    site.start()
    assert site.active() == ["1.0.0"]
    status, body = site.complete()
    assert status == 200 and json.loads(body)["choices"][0]["text"] == smoke_text(bundles, "1.0.0")
    log = site.daemon.log()
    assert "fails authentication" in log and os.path.basename(largest) in log and "rolled back to 1.0.0" in log, log
    row = [r for r in site.versions() if r["version"] == "2.0.0"][0]
    assert row["status"] == "failed"
    site.stop()

    # Another key: a clear error, the bundle model unavailable with the reason, not one file changed.
    before = {path: hashlib.sha256(open(path, "rb").read()).hexdigest() for path in state_files(workdir)}
    other = os.path.join(workdir, "other.key")
    with open(other, "w") as f:
        f.write(os.urandom(32).hex() + "\n")
    site.config += '[models.assistant]\nbundle = "assistant"\n'
    daemon = site.start(key=other)
    assert "does not open the store" in daemon.log() and "nothing was changed" in daemon.log()
    status, body = daemon.get("/v1/ready")
    assert status == 503 and "store" in body, body
    assert site.complete()[0] == 503
    daemon.stop()
    after = {path: hashlib.sha256(open(path, "rb").read()).hexdigest() for path in state_files(workdir)}
    assert before == after


def test_kill_9_during_install_leaves_one_consistent_active_version(bundles, workdir):
    site = Site(workdir, bundles)
    site.start()
    site.cli("install", "assistant-1.0.0.tar")
    # How long a whole install takes here; the kills are spread over it (upload, verify and store, fsyncs and
    # renames, smoke test, activation) and one lands just after it.
    started = time.monotonic()
    site.cli("install", "assistant-2.0.0.tar")
    duration = time.monotonic() - started
    site.cli("rollback", "assistant")
    site.cli("remove", "assistant", "2.0.0")
    site.stop()
    outcomes = []
    for fraction in [0.02, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.0, 1.3]:
        delay = duration * fraction
        daemon = site.start()
        installer = subprocess.Popen([OUTPOST, "install", "assistant-2.0.0.tar", "--socket", daemon.socket], cwd=bundles,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        daemon.proc.send_signal(signal.SIGKILL)
        daemon.proc.wait()
        installer.wait(timeout=60)
        daemon = site.start()
        active = site.active()
        assert len(active) == 1 and active[0] in ("1.0.0", "2.0.0"), (delay, active)
        assert site.complete()[0] == 200
        outcomes.append(active[0])
        # What a killed process leaves is gone: no temporary files, no partial upload, no unreferenced blob.
        leftovers = [p for p in state_files(workdir, "") if ".tmp-" in p or p.endswith(".partial")]
        assert not leftovers, leftovers
        referenced = {row["version"] for row in site.versions()}
        blobs = os.listdir(os.path.join(workdir, "state", "store", "blobs"))
        assert len(blobs) == len(referenced), (delay, blobs, referenced)
        if active[0] == "2.0.0":
            site.cli("rollback", "assistant")
        if "2.0.0" in referenced:
            site.cli("remove", "assistant", "2.0.0")
        daemon.stop()
    print(f"install takes {duration:.2f} s; active after each kill:", outcomes)
    assert "1.0.0" in outcomes and outcomes[-1] == "2.0.0", outcomes


def test_an_install_that_would_not_fit_is_refused_before_it_starts(bundles, workdir):
    site = Site(workdir, bundles)
    site.config = site.config.replace("min_free_mb = 0", "min_free_mb = 1073741824")
    site.start()
    refused = site.cli("install", "assistant-1.0.0.tar", expect=1)
    assert "507" in refused.stderr and "not enough space" in refused.stderr and "min_free_mb" in refused.stderr, refused.stderr
    assert site.versions() == []
    assert os.listdir(os.path.join(workdir, "state", "uploads")) == []
    assert os.listdir(os.path.join(workdir, "state", "store", "blobs")) == []
    site.stop()
