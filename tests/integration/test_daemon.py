"""The real outpostd binary, driven from outside over its Unix socket."""
import json
import re
import os
import signal
import socket
import stat
import subprocess
import threading
import time

import pytest

from conftest import OUTPOST, OUTPOSTD, Daemon, UnixHTTPConnection, raw_exchange


def test_health_ready_version(daemon):
    assert daemon.get("/v1/health") == (200, '{"status":"ok"}')
    status, body = daemon.get("/v1/ready")
    assert status == 200 and json.loads(body)["status"] == "ready"
    status, body = daemon.get("/v1/version")
    version = json.loads(body)
    assert status == 200
    assert version["version"] == "0.1.0"
    assert version["build"]["configuration"] in ("debug", "release")
    assert re.fullmatch(r"[0-9a-f]{7,40}(-dirty)?", version["commit"]), version["commit"]


def test_unknown_route_is_404_json(daemon):
    status, body = daemon.get("/v1/nothing-here")
    assert status == 404
    error = json.loads(body)["error"]
    assert "/v1/nothing-here" in error["message"] and error["type"] == "invalid_request_error"


def test_socket_mode_is_0660(daemon):
    mode = stat.S_IMODE(os.stat(daemon.socket).st_mode)
    assert mode == 0o660, oct(mode)


def test_two_hundred_requests_on_one_keepalive_connection(daemon):
    c = daemon.connection()
    peers = set()
    for i in range(200):
        c.request("GET", "/v1/health")
        r = c.getresponse()
        assert r.status == 200 and r.read() == b'{"status":"ok"}'
        peers.add(c.sock.fileno())
    assert len(peers) == 1
    c.close()


def test_pipelined_requests_answered_in_order(daemon):
    reqs = b"".join(b"GET /v1/%s HTTP/1.1\r\nHost: x\r\n\r\n" % p for p in [b"health", b"nothing", b"version"] * 5)
    reply = raw_exchange(daemon.socket, reqs)
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", reply)]
    assert statuses == [200, 404, 200] * 5


def test_garbage_and_huge_header_then_still_answers(daemon):
    reply = raw_exchange(daemon.socket, b"\x00\x01\x02 this is not http\r\n\r\n")
    assert reply.startswith(b"HTTP/1.1 400 "), reply[:80]
    huge = b"GET /v1/health HTTP/1.1\r\nX-Big: " + b"a" * 200_000 + b"\r\n\r\n"
    reply = raw_exchange(daemon.socket, huge)
    assert reply.startswith(b"HTTP/1.1 431 "), reply[:80]
    assert b'"error"' in reply
    assert daemon.get("/v1/health")[0] == 200
    metrics = daemon.get("/metrics")[1]
    assert 'outpost_http_protocol_errors_total{status="400"} 1' in metrics
    assert 'outpost_http_protocol_errors_total{status="431"} 1' in metrics


def test_body_limit_gives_413(workdir):
    d = Daemon(workdir, "[server]\nmax_body_bytes = 100\n").start()
    try:
        reply = raw_exchange(d.socket, b"POST /v1/health HTTP/1.1\r\nContent-Length: 1000\r\n\r\n")
        assert reply.startswith(b"HTTP/1.1 413 "), reply[:80]
    finally:
        d.stop()


def test_metrics_exposition(daemon):
    # The fixture's readiness probe was the first /v1/health.
    for _ in range(2):
        daemon.get("/v1/health")
    daemon.get("/v1/missing")
    text = daemon.get("/metrics")[1]
    assert 'outpost_http_requests_total{route="/v1/health",method="GET",status="200"} 3' in text
    assert 'outpost_http_requests_total{route="unmatched",method="GET",status="404"} 1' in text
    assert 'outpost_http_request_duration_seconds_count{route="/v1/health",status="200"} 3' in text
    assert "# TYPE outpost_http_request_duration_seconds histogram" in text
    assert "outpost_http_open_connections 1" in text
    rss = [l for l in text.splitlines() if l.startswith("process_resident_memory_bytes ")]
    assert rss and float(rss[0].split()[1]) > 1e6
    start = [l for l in text.splitlines() if l.startswith("process_start_time_seconds ")]
    assert start and abs(float(start[0].split()[1]) - time.time()) < 120


def test_sigterm_during_slow_request_completes_it_and_exits_zero(daemon):
    result = {}

    def slow():
        c = daemon.connection(timeout=20)
        c.request("GET", "/v1/debug/sleep?seconds=1.5")
        r = c.getresponse()
        result["status"], result["body"], result["connection"] = r.status, r.read(), r.getheader("Connection")

    t = threading.Thread(target=slow)
    t.start()
    time.sleep(0.4)
    daemon.signal(signal.SIGTERM)
    time.sleep(0.2)
    # No new connections once draining: the listener is closed.
    try:
        refused = daemon.get("/v1/health", timeout=2)[0] != 200
    except OSError:
        refused = True
    assert refused
    t.join(10)
    assert result.get("status") == 200, result
    assert result["connection"] == "close"
    assert daemon.proc.wait(10) == 0
    assert not os.path.exists(daemon.socket)


def test_shutdown_deadline_bounds_the_drain(workdir):
    d = Daemon(workdir, "[server]\nshutdown_timeout_seconds = 0.5\n").start()
    c = d.connection(timeout=20)
    c.request("GET", "/v1/debug/sleep?seconds=30")
    time.sleep(0.2)
    started = time.monotonic()
    d.signal(signal.SIGTERM)
    assert d.proc.wait(10) == 0
    assert time.monotonic() - started < 5


def test_stale_socket_is_replaced_but_live_one_is_not_stolen(workdir):
    path = os.path.join(workdir, "outpost.sock")
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(path)
    stale.close()  # the file stays, nobody listens: stale
    d = Daemon(workdir).start()
    try:
        assert d.get("/v1/health")[0] == 200
        second_dir = os.path.join(workdir, "second")
        os.mkdir(second_dir)
        other = Daemon(second_dir)
        other.args[other.args.index("--socket") + 1] = path
        other.start(wait=False)
        assert other.proc.wait(10) == 1
        assert "already listening" in other.log()
        assert d.get("/v1/health")[0] == 200
    finally:
        d.stop()


def test_regular_file_at_socket_path_is_not_removed(workdir):
    path = os.path.join(workdir, "outpost.sock")
    with open(path, "w") as f:
        f.write("precious")
    d = Daemon(workdir).start(wait=False)
    assert d.proc.wait(10) == 1
    assert "not a socket" in d.log()
    assert open(path).read() == "precious"


def test_config_errors_stop_startup_with_position(workdir):
    cases = [
        ("[server]\nsokcet = \"/x\"\n", ":2:1: unknown key 'server.sokcet'"),
        ("[server]\nmax_connections = \"many\"\n", ":2:"),
        ("[server\n", ":1:"),
        ("[log]\nlevel = \"loud\"\n", "log.level"),
    ]
    for text, expected in cases:
        d = Daemon(workdir, text).start(wait=False)
        assert d.proc.wait(10) == 78, d.log()
        log = d.log()
        assert d.config + expected in log or (expected in log and d.config in log), log


def test_explicit_missing_config_is_an_error_default_is_not(workdir):
    d = Daemon(workdir)
    d.args[d.args.index("--config") + 1] = os.path.join(workdir, "missing.toml")
    d.start(wait=False)
    assert d.proc.wait(10) == 78
    assert "missing.toml" in d.log()


def test_flags_override_the_config_file(workdir):
    d = Daemon(workdir, '[server]\nsocket = "/nonexistent-dir/should-not-be-used.sock"\n').start()
    try:
        assert d.get("/v1/health")[0] == 200
        status = json.loads(d.get("/v1/status")[1])
        assert status["socket"] == d.socket
    finally:
        d.stop()


def test_sighup_reload_keeps_running_on_bad_config(daemon):
    with open(daemon.config, "w") as f:
        f.write("[log]\nlevel = \"debug\"\n")
    daemon.signal(signal.SIGHUP)
    time.sleep(0.3)
    daemon.get("/v1/health")
    time.sleep(0.1)
    assert "GET /v1/health 200" in daemon.log()  # debug level now logs requests
    with open(daemon.config, "w") as f:
        f.write("[log]\nlevel = 5\n")
    daemon.signal(signal.SIGHUP)
    time.sleep(0.3)
    assert daemon.get("/v1/health")[0] == 200
    assert "reload failed" in daemon.log() and "log.level" in daemon.log()
    metrics = daemon.get("/metrics")[1]
    assert 'outpost_config_reloads_total{result="failed"} 1' in metrics
    assert 'outpost_config_reloads_total{result="ok"} 1' in metrics


def test_socket_activation(workdir):
    path = os.path.join(workdir, "activated.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    fd = listener.fileno()
    d = Daemon(workdir)
    # LISTEN_PID must be the daemon's own pid: the shell execs it, keeping its pid.
    command = " ".join(f"'{a}'" for a in d.args)
    proc = subprocess.Popen(["sh", "-c", f'LISTEN_PID=$$ LISTEN_FDS=1 exec {command}'],
                            env=d.env, pass_fds=(3,), preexec_fn=lambda: os.dup2(fd, 3),
                            stderr=open(d.stderr_path, "w"))
    d.proc = proc
    listener.close()
    try:
        c = UnixHTTPConnection(path)
        deadline = time.monotonic() + 10
        while True:
            try:
                c.request("GET", "/v1/status")
                break
            except OSError:
                assert time.monotonic() < deadline
                time.sleep(0.05)
        r = c.getresponse()
        assert r.status == 200
        assert not os.path.exists(d.socket), "must not create its own socket when activated"
        assert "socket-activated" in d.log()
    finally:
        assert d.stop() == 0
    assert os.path.exists(path), "the activated socket's path belongs to systemd and stays"


def test_cli_status_text_and_json(daemon):
    out = subprocess.run([OUTPOST, "status", "--socket", daemon.socket], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert "outpostd 0.1.0" in out.stdout and daemon.socket in out.stdout and "uptime:" in out.stdout
    out = subprocess.run([OUTPOST, "status", "--socket", daemon.socket, "--json"], capture_output=True, text=True, timeout=10)
    status = json.loads(out.stdout)
    assert status["pid"] == daemon.proc.pid and status["state"] == "serving"


def test_cli_reports_a_missing_agent_in_one_line(workdir):
    missing = os.path.join(workdir, "none.sock")
    out = subprocess.run([OUTPOST, "status", "--socket", missing], capture_output=True, text=True, timeout=10)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and missing in lines[0] and "outpostd running" in lines[0], out.stderr


def test_cli_help_and_version():
    for args in (["--help"], ["status", "--help"], ["help", "status"]):
        out = subprocess.run([OUTPOST, *args], capture_output=True, text=True)
        assert out.returncode == 0 and "Usage: outpost" in out.stdout
    out = subprocess.run([OUTPOST, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("outpost 0.1.0")
    out = subprocess.run([OUTPOST, "frobnicate"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown command" in out.stderr
    out = subprocess.run([OUTPOSTD, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "--state-dir" in out.stdout
    out = subprocess.run([OUTPOSTD, "--bogus"], capture_output=True, text=True)
    assert out.returncode == 2 and "unknown option --bogus" in out.stderr


@pytest.mark.parametrize("args,fragment", [
    (["generate", "gemma"], "expected MODEL and PROMPT, got 1 argument"),
    (["generate", "gemma", "hi", "--max-tokens", "1e99"], "--max-tokens expects an integer, got '1e99'"),
    (["generate", "gemma", "hi", "--max-tokens", "0"], "--max-tokens must be at least 1"),
    (["generate", "gemma", "hi", "--temperature", "nan"], "--temperature expects a number, got 'nan'"),
    (["generate", "--max-tokens", "--socket", "x", "gemma", "hi"], "option --max-tokens needs a value, got the option --socket"),
    (["generate", "gemma", "hi", "--socket", ""], "--socket needs a path, got an empty string"),
    (["status", "--socket", "/tmp/" + "s" * 200], "--socket path is 205 bytes; a Unix socket path holds at most 107"),
    (["chat"], "expected MODEL, got 0 arguments"),
    (["run", "--prompt", "x"], "--model FILE is required"),
    (["tokenize", "--model"], "option --model needs a value"),
    (["bench", "--model", "m.gguf", "--threads", "0"], "--threads must be between 1 and 256"),
    (["models", "--bogus"], "unknown option --bogus"),
])
def test_cli_usage_errors_exit_2_naming_the_mistake(args, fragment):
    out = subprocess.run([OUTPOST, *args], capture_output=True, text=True, timeout=10)
    assert out.returncode == 2, (out.returncode, out.stderr)
    assert fragment in out.stderr, out.stderr
    assert f"Try 'outpost {args[0]} --help'." in out.stderr
