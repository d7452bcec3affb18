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


class Receiver:
    """A collector endpoint that checks every body against the reference schema: opentelemetry-proto's
    json_format parses it into ExportLogsServiceRequest (a body that does not parse is answered 400 and kept in
    `invalid`, which the test requires to stay empty)."""

    def __init__(self):
        import http.server
        import threading

        from google.protobuf import json_format
        from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
        from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest

        self.up = False
        self.bodies = []
        self.records = []
        self.resources = []
        self.invalid = []
        self.metrics = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not receiver.up:
                    self.send_response(503)
                    self.send_header("Retry-After", "1")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 200
                try:
                    assert self.path in ("/v1/logs", "/v1/metrics"), self.path
                    receiver.bodies.append(body)
                    if self.path == "/v1/metrics":
                        message = json_format.Parse(body, ExportMetricsServiceRequest())
                        for resource_metrics in message.resource_metrics:
                            for scope_metrics in resource_metrics.scope_metrics:
                                for metric in scope_metrics.metrics:
                                    receiver.metrics.append(metric)
                        raise StopIteration
                    message = json_format.Parse(body, ExportLogsServiceRequest())
                    for resource_logs in message.resource_logs:
                        receiver.resources.append({a.key: a.value.string_value for a in resource_logs.resource.attributes})
                        for scope_logs in resource_logs.scope_logs:
                            for record in scope_logs.log_records:
                                receiver.records.append({"body": record.body.string_value, "severity": record.severity_text,
                                                         "time": record.time_unix_nano,
                                                         "attributes": {a.key: a.value.string_value for a in record.attributes}})
                except StopIteration:
                    pass
                except Exception as error:  # noqa: BLE001 - any failure to parse is the finding
                    receiver.invalid.append(f"{error}: {body[:300]!r}")
                    status = 400
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_export_to_a_collector_that_comes_back(bundles, workdir):  # noqa: F811
    import time

    receiver = Receiver()
    try:
        site = Site(workdir, bundles)
        site.config += f'[telemetry]\nendpoint = "{receiver.url}"\nexport_interval_seconds = 1\nsite_id = "shop-42"\n'
        daemon = site.start()
        site.cli("install", "assistant-1.0.0.tar")
        secret = "zebra quartz prompt 7741"
        site.complete(secret)
        # The collector is down: the records wait, the error is shown.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not json.loads(site.cli("telemetry", "status", "--json").stdout)["export"]["last_error"]:
            time.sleep(0.2)
        status = json.loads(site.cli("telemetry", "status", "--json").stdout)
        assert "503" in status["export"]["last_error"] and status["backlog_records"] > 0, status
        receiver.up = True
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any(r["attributes"].get("outpost.audit") == "store_install" for r in receiver.records):
            time.sleep(0.2)
        installs = [r for r in receiver.records if r["attributes"].get("outpost.audit") == "store_install"]
        assert installs, receiver.records
        assert receiver.invalid == []
        assert installs[0]["attributes"]["outpost.result"] == "ok" and installs[0]["attributes"]["outpost.kind"] == "audit"
        assert int(installs[0]["attributes"]["outpost.sequence"]) >= 1 and installs[0]["time"] > 1_700_000_000 * 10**9
        assert all(r["outpost.site_id"] == "shop-42" and r["service.name"] == "outpostd" for r in receiver.resources), receiver.resources
        # Delivered records are acknowledged (the backlog drains) and no prompt text ever left the site.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and json.loads(site.cli("telemetry", "status", "--json").stdout)["backlog_records"] > 0:
            time.sleep(0.2)
        status = json.loads(site.cli("telemetry", "status", "--json").stdout)
        assert status["backlog_records"] == 0 and status["export"]["exported_records"] >= len(installs), status
        assert not any(secret.encode() in body for body in receiver.bodies)
        sequences = [int(r["attributes"]["outpost.sequence"]) for r in receiver.records]
        assert len(sequences) == len(set(sequences)), "no duplicates without a crash"
        # Metric snapshots, by the reference schema: the completion counted as a monotonic cumulative sum, latency
        # as a histogram whose buckets add up to its count.
        by_name = {}
        for metric in receiver.metrics:
            by_name.setdefault(metric.name, []).append(metric)
        requests = by_name["outpost_model_requests_total"][-1]
        assert requests.WhichOneof("data") == "sum" and requests.sum.is_monotonic and requests.sum.aggregation_temporality == 2
        points = {tuple((a.key, a.value.string_value) for a in p.attributes): p.as_double for p in requests.sum.data_points}
        assert points[(("model", "assistant"), ("status", "200"))] >= 1, points
        latency = by_name["outpost_http_request_duration_seconds"][-1]
        assert latency.WhichOneof("data") == "histogram"
        for point in latency.histogram.data_points:
            assert sum(point.bucket_counts) == point.count and len(point.bucket_counts) == len(point.explicit_bounds) + 1
        assert by_name["outpost_http_open_connections"][-1].WhichOneof("data") == "gauge"
        daemon.stop()
    finally:
        receiver.stop()
