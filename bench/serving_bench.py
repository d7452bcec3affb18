#!/usr/bin/env python3
"""Aggregate generation throughput with 1, 2, 4 and 8 concurrent streams: outpostd against llama.cpp's
llama-server with the same slots, model, threads and lengths, both on a Unix socket, alternated for several
rounds; then the time to first token of a short prompt while 3 other streams run, beside its idle value.

    python3 bench/serving_bench.py --outpostd .build/release/outpostd --llama-server DIR/llama-server --model FILE

bench/serving_bench.sh fills in the paths (and builds llama-server from the llama-cpp-python sdist, cached).
Each round runs every stream count twice: greedy (temperature 0) and sampled with llama-server's default chain
(temperature 0.8, top-k 40, top-p 0.95, min-p 0.05: what an OpenAI client sends when it sets nothing else), each
request with a distinct prompt, so neither server answers from a cache; throughput counts the
tokens each server reports generating (usage.completion_tokens / the number of content chunks), over the wall
time from the first request sent to the last stream done.
"""
import argparse
import http.client
import json
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import threading
import time

TOPICS = ["a lighthouse keeper", "a lost robot", "the first city on Mars", "a dragon who hates gold", "an old violin",
          "a river that flows uphill", "a chess game between rivals", "the last bookshop", "a winter in the mountains",
          "a detective cat", "a ship made of glass", "a garden on the moon", "a clockmaker's apprentice",
          "the quietest town", "a map with no roads", "a storm that sang"]


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=600):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


SAMPLING = {
    "greedy": {"temperature": 0},
    "sampled": {"temperature": 0.8, "top_k": 40, "top_p": 0.95, "min_p": 0.05},
}


def stream(sock, model, prompt, max_tokens, marks, sampling=SAMPLING["greedy"]):
    """Streams one completion; records (time of first content, time done, tokens) into marks."""
    body = {"model": model, "prompt": prompt, "max_tokens": max_tokens, "stream": True, **sampling}
    c = UnixHTTPConnection(sock)
    c.request("POST", "/v1/completions", body=json.dumps(body), headers={"Content-Type": "application/json"})
    r = c.getresponse()
    assert r.status == 200, r.read()
    first = None
    chunks = 0
    usage = None
    buffer = b""
    while True:
        data = r.read1(65536) if hasattr(r, "read1") else r.read(4096)
        if not data:
            break
        buffer += data
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if not line.startswith(b"data: ") or line == b"data: [DONE]":
                    continue
                obj = json.loads(line[6:])
                if obj.get("usage"):
                    usage = obj["usage"].get("completion_tokens")
                choices = obj.get("choices") or []
                if choices and choices[0].get("text"):
                    chunks += 1
                    if first is None:
                        first = time.monotonic()
    c.close()
    marks.append((first, time.monotonic(), usage if usage is not None else chunks))


def wait_ready(sock, path, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            c = UnixHTTPConnection(sock, timeout=5)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on {sock} did not become ready")


def aggregate(sock, model, n, gen, round_index, mode):
    marks = []
    prompts = [f"Write a long story about {TOPICS[(round_index * 8 + i) % len(TOPICS)]} (take {round_index}.{i}, {mode}):"
               for i in range(n)]
    start = time.monotonic()
    threads = [threading.Thread(target=stream, args=(sock, model, p, gen, marks, SAMPLING[mode])) for p in prompts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = max(m[1] for m in marks) - start
    return sum(m[2] for m in marks) / wall


def ttft(sock, model, busy, round_index):
    background = []
    threads = []
    if busy:
        for i in range(3):
            t = threading.Thread(target=stream, args=(sock, model, f"Tell a long tale about {TOPICS[i + 3]} ({round_index}):", 400, background))
            t.start()
            threads.append(t)
        time.sleep(1.5)  # the three are generating
    marks = []
    sent = time.monotonic()
    stream(sock, model, f"Say hi ({round_index}, {busy}).", 4, marks)
    result = marks[0][0] - sent
    for t in threads:
        t.join()
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--outpostd", required=True)
    p.add_argument("--llama-server", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--slots", type=int, default=8)
    p.add_argument("--context", type=int, default=512, help="tokens per slot")
    p.add_argument("--gen", type=int, default=64)
    p.add_argument("--streams", default="1,2,4,8")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--modes", default="greedy,sampled", help="greedy, sampled or both")
    args = p.parse_args()
    modes = args.modes.split(",")
    work = tempfile.mkdtemp(prefix="outpost-serving-bench-")
    ours_sock = os.path.join(work, "outpost.sock")
    theirs_sock = os.path.join(work, "llama.sock")
    with open(os.path.join(work, "outpost.toml"), "w") as f:
        f.write(f'[models.m]\npath = "{args.model}"\ncontext = {args.context}\nthreads = {args.threads}\n'
                f'parallel = {args.slots}\nmax_queue = 64\nresult_cache_bytes = 0\n')
    log = open(os.path.join(work, "servers.log"), "w")
    ours = subprocess.Popen([args.outpostd, "--config", os.path.join(work, "outpost.toml"), "--socket", ours_sock,
                             "--state-dir", os.path.join(work, "state")], stderr=log, stdout=log)
    theirs = subprocess.Popen([args.llama_server, "-m", args.model, "-t", str(args.threads), "-tb", str(args.threads),
                               "-np", str(args.slots), "-c", str(args.slots * args.context), "--host", theirs_sock,
                               "--no-webui", "-fa", "off"], stderr=log, stdout=log)
    try:
        wait_ready(ours_sock, "/v1/ready")
        wait_ready(theirs_sock, "/health")
        streams = [int(s) for s in args.streams.split(",")]
        results = {(mode, n): {"ours": [], "theirs": []} for mode in modes for n in streams}
        for r in range(args.rounds):
            for mode in modes:
                for n in streams:
                    cell = results[(mode, n)]
                    for name, sock, model in (("ours", ours_sock, "m"), ("theirs", theirs_sock, "m")):
                        cell[name].append(aggregate(sock, model, n, args.gen, r, mode))
                    print(f"round {r + 1} {mode} streams {n}: outpost {cell['ours'][-1]:.1f} tok/s, "
                          f"llama-server {cell['theirs'][-1]:.1f} tok/s", flush=True)
        latency = {"ours": {"idle": [], "busy": []}, "theirs": {"idle": [], "busy": []}}
        for r in range(args.rounds):
            for name, sock in (("ours", ours_sock), ("theirs", theirs_sock)):
                for state in ("idle", "busy"):
                    latency[name][state].append(ttft(sock, "m", state == "busy", r))
        print()
        print(f"model {os.path.basename(args.model)}, {args.threads} threads, {args.slots} slots, {args.gen} tokens per stream, "
              f"median of {args.rounds} alternated rounds")
        for mode in modes:
            print(f"{mode} ({json.dumps(SAMPLING[mode])})")
            print("streams | outpost tok/s | llama-server tok/s | ratio | outpost vs its 1 stream")
            single = statistics.median(results[(mode, streams[0])]["ours"])
            for n in streams:
                o, t = statistics.median(results[(mode, n)]["ours"]), statistics.median(results[(mode, n)]["theirs"])
                print(f"{n:7d} | {o:13.1f} | {t:18.1f} | {o / t:5.2f} | {o / single:5.2f}x")
        for name, label in (("ours", "outpost"), ("theirs", "llama-server")):
            idle, busy = statistics.median(latency[name]["idle"]), statistics.median(latency[name]["busy"])
            print(f"{label}: time to first token idle {idle * 1000:.0f} ms, with 3 streams running {busy * 1000:.0f} ms ({busy / idle:.2f}x)")
    finally:
        for proc in (ours, theirs):
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
