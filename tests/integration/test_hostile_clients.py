"""What an adversarial probe found in the serving loop, reproduced against the real outpostd and Gemma 3 270M:
clients that hang up in every phase of a request must release their connection (descriptor, epoll registration,
the open-connections gauge) and leave the loop idle; a prompt of megabytes must neither freeze the agent nor
grow its memory with the body."""
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import OUTPOST, Daemon
from test_gemma3 import model_path

CONFIG = """
[server]
max_connections = 8
shutdown_timeout_seconds = 30

[models.gemma]
path = "{path}"
context = 512
threads = 2
parallel = 1
max_queue = 4
result_cache_bytes = 0
"""


@pytest.fixture
def agent(workdir):
    d = Daemon(workdir, CONFIG.format(path=model_path())).start()
    yield d
    d.stop()


def fds(pid):
    found = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            found[fd] = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            pass
    return found


def fd_count(pid):
    return len(fds(pid))


def loop_cpu_seconds(pid):
    """CPU time of the agent's main thread, which runs the serving loop (fields 14 and 15 of its stat)."""
    with open(f"/proc/{pid}/task/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1)) * 1024


def metric(d, name, labels=""):
    text = d.get("/metrics")[1]
    m = re.search("^" + re.escape(name + ("{" + labels + "}" if labels else "")) + r" ([0-9.e+]+)$", text, re.M)
    return float(m.group(1)) if m else 0.0


def raw_request(d, body, path="/v1/completions"):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(d.socket)
    data = json.dumps(body).encode()
    s.sendall(f"POST {path} HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data)
    return s


def read_until(s, marker):
    got = b""
    while marker not in got:
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def long_body(stream):
    return {"model": "gemma", "prompt": "Once upon a time", "max_tokens": 400, "temperature": 0, "stream": stream}


def hang_up_every_way(d):
    # 1. A stream closed after its first chunk.
    s = raw_request(d, long_body(True))
    read_until(s, b"data: ")
    s.close()
    # 2. A non-streaming client that leaves mid-generation.
    s = raw_request(d, long_body(False))
    time.sleep(0.5)
    s.close()
    # 3. A client that leaves while queued behind another (parallel = 1), then the one in front leaves too.
    front = raw_request(d, long_body(True))
    read_until(front, b"data: ")
    queued = raw_request(d, long_body(False))
    time.sleep(0.3)
    queued.close()
    front.close()
    # 4. The CLI's stream cut by a closed pipe.
    subprocess.run(f"'{OUTPOST}' generate gemma 'Once upon a time' --socket '{d.socket}' --max-tokens 400 --stream | head -c1",
                   shell=True, stdout=subprocess.DEVNULL, timeout=60)


def test_clients_that_hang_up_release_their_connection_and_the_loop_idles(agent):
    pid = agent.proc.pid
    # One complete request first, so that threads and descriptors made once on first use are already there.
    s = raw_request(agent, {"model": "gemma", "prompt": "Hi", "max_tokens": 2, "temperature": 0})
    read_until(s, b"}}")
    s.close()
    time.sleep(0.2)
    fds_before = fd_count(pid)
    listing_before = fds(pid)
    for _ in range(3):  # 12 hang-ups: more than max_connections, so a leak would lock everybody out
        hang_up_every_way(agent)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        # The scrape itself is the one open connection; its own close is then given a moment before counting.
        settled = (metric(agent, "outpost_http_open_connections") == 1
                   and metric(agent, "outpost_model_active_sequences", 'model="gemma"') == 0)
        time.sleep(0.2)
        if settled and fd_count(pid) == fds_before:
            break
    assert metric(agent, "outpost_http_open_connections") == 1
    assert metric(agent, "outpost_model_active_sequences", 'model="gemma"') == 0
    time.sleep(0.2)
    assert fd_count(pid) == fds_before, f"descriptors leaked: before {listing_before}, after {fds(pid)}"
    # Nothing is generating and nobody is connected: the loop must sleep, not spin on dead descriptors.
    before = loop_cpu_seconds(pid)
    time.sleep(2)
    used = loop_cpu_seconds(pid) - before
    assert used < 0.1, f"the idle serving loop used {used:.2f} s of CPU in 2 s"
    # Every slot is free again: eight clients at once are all served.
    results = []
    threads = [threading.Thread(target=lambda: results.append(agent.get("/v1/health")[0])) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert results == [200] * 8
    # With nobody left to drain for, SIGTERM ends at once, not after the 30 s shutdown timeout.
    started = time.monotonic()
    agent.signal(signal.SIGTERM)
    assert agent.proc.wait(20) == 0
    assert time.monotonic() - started < 5


def watch_health(d, stop, latencies):
    while not stop.is_set():
        started = time.monotonic()
        status = d.get("/v1/health", timeout=30)[0]
        latencies.append((time.monotonic() - started, status))
        time.sleep(0.01)


@pytest.mark.parametrize("prompt", ["hello " * 1_398_000, " " * 2_000_000], ids=["8MB-words", "2MB-spaces"])
def test_a_huge_prompt_neither_freezes_the_agent_nor_grows_its_memory(agent, prompt):
    pid = agent.proc.pid
    assert agent.get("/v1/health")[0] == 200
    rss_before = peak_rss(pid)
    stop, latencies = threading.Event(), []
    watcher = threading.Thread(target=watch_health, args=(agent, stop, latencies))
    watcher.start()
    try:
        s = raw_request(agent, {"model": "gemma", "prompt": prompt, "max_tokens": 4})
        answer = read_until(s, b"}}")
        s.close()
        time.sleep(0.3)
    finally:
        stop.set()
        watcher.join(30)
    assert b" 400 " in answer.split(b"\r\n", 1)[0], answer[:300]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "context_length_exceeded"
    assert "context of 512" in body["error"]["message"]
    assert latencies and all(status == 200 for _, status in latencies)
    slowest = max(latency for latency, _ in latencies)
    assert slowest < 0.1, f"/v1/health took {slowest * 1000:.0f} ms while the prompt was handled"
    grown = peak_rss(pid) - rss_before
    assert grown < 200 << 20, f"peak RSS grew by {grown >> 20} MB for a {len(prompt) >> 20} MB prompt"


def test_a_prompt_near_the_bound_is_tokenized_off_the_loop(agent):
    """A prompt just under the byte bound must be tokenized (it might fit) — and meanwhile health answers."""
    stop, latencies = threading.Event(), []
    watcher = threading.Thread(target=watch_health, args=(agent, stop, latencies))
    watcher.start()
    try:
        s = raw_request(agent, {"model": "gemma", "prompt": "\n" * 15_000 + "word " * 1500, "max_tokens": 1})
        answer = read_until(s, b"}}")
        s.close()
    finally:
        stop.set()
        watcher.join(30)
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert re.search(r"the prompt has \d+ tokens", body["error"]["message"]), body
    assert all(status == 200 for _, status in latencies)
    assert max(latency for latency, _ in latencies) < 0.1
