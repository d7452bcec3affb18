"""sd_notify against a real AF_UNIX datagram socket set as NOTIFY_SOCKET."""
import os
import signal
import socket
import time

from conftest import Daemon


class NotifyListener:
    def __init__(self, workdir):
        self.path = os.path.join(workdir, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # (monotonic time, {key: value})

    def receive(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096).decode()
        except socket.timeout:
            return None
        fields = dict(line.split("=", 1) for line in data.splitlines() if "=" in line)
        self.messages.append((time.monotonic(), fields))
        return fields

    def wait_for(self, key, value=None, timeout=10, on_message=None):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fields = self.receive(deadline - time.monotonic())
            if fields is None:
                break
            if on_message:
                on_message(fields)
            if key in fields and (value is None or fields[key] == value):
                return fields
        raise AssertionError(f"no {key}={value} within {timeout}s; got {[m for _, m in self.messages]}")


def test_ready_after_listening_then_stopping_on_sigterm(workdir):
    notify = NotifyListener(workdir)
    d = Daemon(workdir, env={"NOTIFY_SOCKET": notify.path}).start(wait=False)
    socket_at_ready = {}

    def check(fields):
        if fields.get("READY") == "1":
            # At READY the API socket must already accept connections.
            probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            probe.connect(d.socket)
            probe.close()
            socket_at_ready["ok"] = True

    fields = notify.wait_for("READY", "1", on_message=check)
    assert socket_at_ready.get("ok")
    assert fields["STATUS"].startswith("Serving on")
    assert any("STATUS" in m and "READY" not in m for _, m in notify.messages), "a STATUS line before READY"
    d.signal(signal.SIGTERM)
    notify.wait_for("STOPPING", "1")
    assert d.proc.wait(10) == 0


def test_watchdog_period_and_hung_loop(workdir):
    notify = NotifyListener(workdir)
    d = Daemon(workdir, env={"NOTIFY_SOCKET": notify.path, "WATCHDOG_USEC": "400000"}).start(wait=False)
    notify.wait_for("READY", "1")
    pings = []
    deadline = time.monotonic() + 2.2
    while time.monotonic() < deadline:
        fields = notify.receive(deadline - time.monotonic())
        if fields and fields.get("WATCHDOG") == "1":
            pings.append(notify.messages[-1][0])
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert len(pings) >= 8, pings
    # Half of WATCHDOG_USEC (0.2 s), never late by more than the loop's tick.
    assert all(0.15 <= g <= 0.3 for g in gaps), gaps
    # Freeze the serving loop: the pings must stop while it hangs.
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(d.socket)
    s.sendall(b"POST /v1/debug/freeze?seconds=1.2 HTTP/1.1\r\nContent-Length: 0\r\n\r\n")
    time.sleep(0.15)
    while notify.receive(0.01):
        pass
    frozen_from = time.monotonic()
    silent = []
    while time.monotonic() < frozen_from + 0.9:
        fields = notify.receive(0.05)
        if fields and fields.get("WATCHDOG"):
            silent.append(time.monotonic() - frozen_from)
    assert not silent, f"watchdog fed while the loop was frozen: {silent}"
    notify.wait_for("WATCHDOG", "1", timeout=3)  # and resume afterwards
    s.close()
    d.stop()


def test_reload_protocol_on_sighup(workdir):
    notify = NotifyListener(workdir)
    d = Daemon(workdir, env={"NOTIFY_SOCKET": notify.path}).start(wait=False)
    notify.wait_for("READY", "1")
    before = time.clock_gettime(time.CLOCK_MONOTONIC)
    d.signal(signal.SIGHUP)
    fields = notify.wait_for("RELOADING", "1")
    usec = int(fields["MONOTONIC_USEC"])
    assert abs(usec / 1e6 - before) < 5
    notify.wait_for("READY", "1")
    d.stop()


def test_no_notify_socket_means_no_notifications(workdir):
    d = Daemon(workdir).start()
    assert d.get("/v1/health")[0] == 200
    assert d.stop() == 0
