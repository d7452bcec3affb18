"""Fixtures that start the real outpostd binary on a temporary socket and talk HTTP to it over AF_UNIX."""
import http.client
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUTPOSTD = os.path.abspath(os.environ.get("OUTPOSTD", os.path.join(ROOT, ".build/debug/outpostd")))
OUTPOST = os.path.abspath(os.environ.get("OUTPOST", os.path.join(ROOT, ".build/debug/outpost")))


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=10):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Daemon:
    """One outpostd process with its own socket, state dir and config file."""

    def __init__(self, workdir, config_text="", env=None, extra_args=()):
        self.workdir = workdir
        self.socket = os.path.join(workdir, "outpost.sock")
        self.config = os.path.join(workdir, "outpost.toml")
        with open(self.config, "w") as f:
            f.write(config_text)
        self.stderr_path = os.path.join(workdir, "stderr.log")
        environment = dict(os.environ)
        environment.pop("NOTIFY_SOCKET", None)
        environment.pop("LISTEN_FDS", None)
        environment.pop("JOURNAL_STREAM", None)
        environment["OUTPOST_DEBUG_ROUTES"] = "1"
        environment.update(env or {})
        self.args = [OUTPOSTD, "--config", self.config, "--socket", self.socket,
                     "--state-dir", os.path.join(workdir, "state"), *extra_args]
        self.env = environment
        self.proc = None

    def start(self, wait=True):
        self.stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.args, env=self.env, stderr=self.stderr, stdout=subprocess.DEVNULL)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=10):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"outpostd exited with {self.proc.returncode}: {self.log()}")
            try:
                if self.get("/v1/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        raise AssertionError("outpostd did not answer /v1/health in time: " + self.log())

    def connection(self, timeout=10):
        return UnixHTTPConnection(self.socket, timeout=timeout)

    def get(self, path, timeout=10):
        c = self.connection(timeout)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read().decode()
        finally:
            c.close()

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=15):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def log(self):
        try:
            with open(self.stderr_path) as f:
                return f.read()
        except OSError:
            return ""


def run_cli(args, cwd, stdin="", timeout=600):
    """Runs a command (the CLI, minisign) in `cwd` with text output captured."""
    return subprocess.run(args, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=timeout)


def ok_cli(args, cwd, stdin="", timeout=600):
    """The same, asserting exit status 0."""
    out = run_cli(args, cwd, stdin, timeout)
    assert out.returncode == 0, f"{args}: {out.stdout} {out.stderr}"
    return out


@pytest.fixture
def workdir():
    with tempfile.TemporaryDirectory(prefix="outpost-it-") as d:
        yield d


@pytest.fixture
def daemon(workdir):
    d = Daemon(workdir).start()
    yield d
    d.stop()


def raw_exchange(path, data, timeout=5, shutdown=True):
    """Sends raw bytes and returns everything the server sends back until it closes."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    try:
        try:
            s.sendall(data)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        s.close()
