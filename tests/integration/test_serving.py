"""The OpenAI-compatible API of the real outpostd serving the real Gemma 3 270M model."""
import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from conftest import OUTPOST, Daemon, UnixHTTPConnection
from test_gemma3 import model_path


@pytest.fixture(scope="module")
def served():
    # A directory other users can traverse, so that the access-control test can connect as `nobody`.
    workdir = tempfile.mkdtemp(prefix="outpost-serving-", dir="/tmp")
    os.chmod(workdir, 0o755)
    config = f"""
[server]
socket_mode = "0666"

[models.gemma]
path = "{model_path()}"
context = 512
threads = 2
parallel = 2
max_queue = 1
result_cache_bytes = 0

[models.cached]
path = "{model_path()}"
context = 256
threads = 2
parallel = 1
"""
    d = Daemon(workdir, config).start()
    yield d
    d.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def post(d, path, body, timeout=120):
    c = d.connection(timeout)
    c.request("POST", path, body=json.dumps(body) if not isinstance(body, (bytes, str)) else body,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, r.getheader("Retry-After"), data


def sse_events(raw):
    return [line[len(b"data: "):].decode() for line in raw.split(b"\n") if line.startswith(b"data: ")]


def test_models_and_readiness(served):
    status, body = served.get("/v1/models")
    assert status == 200
    data = json.loads(body)["data"]
    assert [m["id"] for m in data] == ["cached", "gemma"] and data[1]["context_length"] == 512
    assert json.loads(served.get("/v1/ready")[1])["models"] == ["cached", "gemma"]


def test_greedy_completion_equals_outpost_run(served):
    prompt = "The quick brown fox"
    status, _, body = post(served, "/v1/completions", {"model": "gemma", "prompt": prompt, "max_tokens": 24, "temperature": 0})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["object"] == "text_completion" and answer["model"] == "gemma"
    assert answer["usage"]["completion_tokens"] == 24 and answer["choices"][0]["finish_reason"] == "length"
    run = subprocess.run([OUTPOST, "run", "--model", model_path(), "--prompt", prompt, "--max-tokens", "24",
                          "--temperature", "0", "--threads", "2", "--json"], capture_output=True, text=True, timeout=300)
    assert answer["choices"][0]["text"] == json.loads(run.stdout)["text"]


def test_streaming_equals_non_streaming(served):
    body = {"model": "gemma", "prompt": "Water boils at", "max_tokens": 16, "temperature": 0}
    whole = json.loads(post(served, "/v1/completions", body)[2])["choices"][0]["text"]
    status, _, raw = post(served, "/v1/completions", dict(body, stream=True))
    assert status == 200
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    pieces = [json.loads(e)["choices"][0]["text"] for e in events[:-1]]
    assert "".join(pieces) == whole
    assert json.loads(events[-2])["choices"][0]["finish_reason"] == "length"


def test_chat_completion_and_stream(served):
    messages = [{"role": "user", "content": "Name a colour."}]
    status, _, body = post(served, "/v1/chat/completions", {"model": "gemma", "messages": messages, "max_tokens": 8, "temperature": 0})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["object"] == "chat.completion" and answer["choices"][0]["message"]["role"] == "assistant"
    status, _, raw = post(served, "/v1/chat/completions",
                          {"model": "gemma", "messages": messages, "max_tokens": 8, "temperature": 0, "stream": True})
    events = sse_events(raw)
    chunks = [json.loads(e) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks) == answer["choices"][0]["message"]["content"]


@pytest.mark.parametrize("body,status,fragment", [
    ({"model": "nope", "prompt": "x"}, 404, "model 'nope' does not exist"),
    ("{not json", 400, "not valid JSON"),
    ({"prompt": "x"}, 400, "missing field 'model'"),
    ({"model": "gemma", "prompt": 5}, 400, "field 'prompt'"),
    ({"model": "gemma", "prompt": "x", "temperature": "hot"}, 400, "field 'temperature'"),
    ({"model": "gemma", "prompt": "x", "temperature": -1}, 400, "temperature"),
    ({"model": "gemma", "prompt": "x", "n": 9}, 400, "'n' must be between 1 and 8"),
    ({"model": "gemma", "prompt": "x", "max_tokens": 0}, 400, "max_tokens"),
    ({"model": "gemma", "prompt": "word " * 600}, 400, "context of 512"),
    ({"model": "gemma", "prompt": "word " * 6000}, 400, "bytes, at least"),
    ({"model": "gemma", "prompt": "x", "stop": ["s" * 300]}, 400, "each 'stop' string may be at most 256 bytes; one is 300"),
    ('{"model": "gemma", "prompt": "x", "top_p": 1e-46}', 400, "field 'top_p' is out of range: 1e-46 is too small"),
    ('{"model": "gemma", "prompt": "x", "temperature": 1e308}', 400, "field 'temperature' is out of range: 1e308"),
    ('{"model": "gemma", "prompt": "x\\ud800"}', 400, "field 'prompt' is not valid JSON: lone UTF-16 surrogate"),
    ('{"model": "gemma", "prompt": "a\u0001b"}', 400, "field 'prompt' is not valid JSON: raw control character U+0001"),
    (b'{"model": "gemma", "prompt": "a\xff"}', 400, "field 'prompt' is not valid JSON: invalid UTF-8"),
    ('{"model": "gemma", "prompt": "\\q"}', 400, "unknown escape"),
    ('[1,]', 400, "not valid JSON"),
    ('{"model": "gemma", "prompt": "x",}', 400, "not valid JSON"),
    ({"model": "gemma", "prompt": "x", "tools": [{"type": "function"}]}, 400, "field 'tools' is not supported"),
    ({"model": "gemma", "prompt": "x", "logit_bias": {"5": 10}}, 400, "field 'logit_bias' is not supported"),
    ({"model": "gemma", "prompt": "x", "echo": True}, 400, "field 'echo' is not supported"),
    ({"model": "gemma", "prompt": "x", "response_format": {"type": "json_object"}}, 400, "field 'response_format' is not supported"),
])
def test_bad_requests(served, body, status, fragment):
    got, _, raw = post(served, "/v1/completions", body)
    assert got == status, raw
    assert fragment in json.loads(raw)["error"]["message"]


@pytest.mark.parametrize("messages,fragment", [
    ([{"role": "wizard", "content": "hi"}], "field 'messages.0.role' must be one of system, developer, user, assistant, got 'wizard'"),
    ([{"role": "tool", "content": "42"}], "tool calls are not supported"),
    ([{"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "x"}}]}],
     "field 'messages.0.content.1.type' is 'image_url': only text parts are supported"),
    ([{"role": "user", "content": 5}], "field 'messages.0.content' has the wrong type"),
    ([{"role": "user"}], "missing field 'messages.0.content'"),
])
def test_bad_chat_requests(served, messages, fragment):
    got, _, raw = post(served, "/v1/chat/completions", {"model": "gemma", "messages": messages})
    assert got == 400, raw
    assert fragment in json.loads(raw)["error"]["message"]


def test_chat_content_as_text_parts_equals_content_as_a_string(served):
    def answer(content):
        status, _, raw = post(served, "/v1/chat/completions", {"model": "gemma", "max_tokens": 8, "temperature": 0,
                                                                "messages": [{"role": "user", "content": content}]})
        assert status == 200, raw
        return json.loads(raw)["choices"][0]["message"]["content"]
    assert answer([{"type": "text", "text": "Name three "}, {"type": "text", "text": "colours."}]) == answer("Name three colours.")


def test_queue_full_gives_429(served):
    results = []

    def long_request():
        results.append(post(served, "/v1/completions", {"model": "gemma", "prompt": "Once upon a time", "max_tokens": 200, "temperature": 0})[0])

    threads = [threading.Thread(target=long_request) for _ in range(3)]  # two running (parallel 2), one queued (max_queue 1)
    for t in threads:
        t.start()
        time.sleep(0.2)
    status, retry_after, raw = post(served, "/v1/completions", {"model": "gemma", "prompt": "x", "max_tokens": 1})
    for t in threads:
        t.join(300)
    assert status == 429, raw
    assert retry_after == "1" and json.loads(raw)["error"]["code"] == "queue_full"
    assert results == [200, 200, 200]


def metric(d, name, labels='model="gemma"'):
    text = d.get("/metrics")[1]
    m = re.search(re.escape(name + "{" + labels + "}") + r" ([0-9.e+]+)", text)
    return float(m.group(1)) if m else 0.0


def test_disconnected_stream_stops_generating(served):
    before = metric(served, "outpost_model_generated_tokens_total")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(served.socket)
    body = json.dumps({"model": "gemma", "prompt": "Once upon a time", "max_tokens": 400, "temperature": 0, "stream": True})
    s.sendall(f"POST /v1/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n{body}".encode())
    got = b""
    while got.count(b"data: ") < 3:
        got += s.recv(4096)
    s.close()
    time.sleep(1)  # whatever was running must have stopped by now: no more steps
    steps = metric(served, "outpost_model_steps_total")
    time.sleep(1)
    assert metric(served, "outpost_model_steps_total") == steps, "the model kept stepping after its only client left"
    assert metric(served, "outpost_model_active_sequences") == 0
    used = metric(served, "outpost_model_generated_tokens_total") - before
    assert used < 100, f"{used} tokens generated for a stream whose client left after 3 events"


def test_access_control_refuses_uids_outside_the_allow_list(served):
    script = ("import json, socket\n"
              f"s = socket.socket(socket.AF_UNIX); s.connect({served.socket!r})\n"
              "body = json.dumps({'model': 'gemma', 'prompt': 'x', 'max_tokens': 1})\n"
              "s.sendall(('POST /v1/completions HTTP/1.1\\r\\nContent-Length: %d\\r\\n\\r\\n%s' % (len(body), body)).encode())\n"
              "print(s.recv(65536).decode())\n")
    out = subprocess.run(["runuser", "-u", "nobody", "--", "python3", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("HTTP/1.1 403 "), out.stdout[:200]
    assert "may not use model 'gemma'" in out.stdout
    assert 'outpost_access_denied_total{model="gemma"} 1' in served.get("/metrics")[1]
    assert "access denied: model 'gemma'" in served.log()


def test_cli_models_and_generate(served):
    out = subprocess.run([OUTPOST, "models", "--socket", served.socket], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.splitlines() == ["cached\tgemma3\tcontext 256", "gemma\tgemma3\tcontext 512"]
    out = subprocess.run([OUTPOST, "generate", "gemma", "The capital of France is", "--max-tokens", "8", "--temperature", "0",
                          "--stream", "--socket", served.socket], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(" the capital of")


def test_official_openai_client_over_the_socket(served):
    import openai
    import httpx
    client = openai.OpenAI(base_url="http://localhost/v1", api_key="unused",
                           http_client=httpx.Client(transport=httpx.HTTPTransport(uds=served.socket)))
    completion = client.completions.create(model="gemma", prompt="The quick brown fox", max_tokens=8, temperature=0)
    assert completion.choices[0].text.startswith(" jumps")
    stream = client.chat.completions.create(model="gemma", messages=[{"role": "user", "content": "Hi"}], max_tokens=8,
                                            temperature=0, stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream)
    assert len(text) > 0
    assert [m.id for m in client.models.list().data] == ["cached", "gemma"]
    with_logprobs = client.chat.completions.create(model="gemma", messages=[{"role": "user", "content": "Hi"}], max_tokens=4,
                                                   temperature=0, logprobs=True, top_logprobs=2)
    content = with_logprobs.choices[0].logprobs.content
    assert len(content) == with_logprobs.usage.completion_tokens and len(content[0].top_logprobs) == 2


def test_per_uid_rate_limit(served):
    workdir = tempfile.mkdtemp(prefix="outpost-ratelimit-", dir="/tmp")
    os.chmod(workdir, 0o755)
    config = f"""
[server]
socket_mode = "0666"

[access]
requests_per_minute = 6
burst = 2

[models.gemma]
path = "{model_path()}"
context = 128
allow_users = ["nobody"]
"""
    d = Daemon(workdir, config).start()
    try:
        script = ("import json, socket\n"
                  "codes = []\n"
                  "for _ in range(3):\n"
                  f"    s = socket.socket(socket.AF_UNIX); s.connect({d.socket!r})\n"
                  "    body = json.dumps({'model': 'gemma', 'prompt': 'x', 'max_tokens': 1})\n"
                  "    s.sendall(('POST /v1/completions HTTP/1.1\\r\\nContent-Length: %d\\r\\n\\r\\n%s' % (len(body), body)).encode())\n"
                  "    reply = s.recv(65536).decode()\n"
                  "    codes.append(reply.split()[1])\n"
                  "    if codes[-1] == '429': print(reply)\n"
                  "print(codes)\n")
        out = subprocess.run(["runuser", "-u", "nobody", "--", "python3", "-c", script], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip().endswith("['200', '200', '429']"), out.stdout
        # One token every 10 s: the wait is the rest of those 10 s.
        wait = int(re.search(r"Retry-After: (\d+)", out.stdout).group(1))
        assert 1 <= wait <= 10 and "rate_limited" in out.stdout
        # root is not limited
        for _ in range(3):
            assert post(d, "/v1/completions", {"model": "gemma", "prompt": "x", "max_tokens": 1})[0] == 200
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def solo_and_together(d, prompts, max_tokens):
    body = lambda p: {"model": "gemma", "prompt": p, "max_tokens": max_tokens, "temperature": 0}
    alone = [json.loads(post(d, "/v1/completions", body(p))[2])["choices"][0]["text"] for p in prompts]
    together = [None] * len(prompts)

    def one(i):
        together[i] = json.loads(post(d, "/v1/completions", body(prompts[i]))[2])["choices"][0]["text"]

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(prompts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    return alone, together


def test_batching_is_invisible(served):
    # Two parallel sequences (the fixture's `parallel`) and one waiting (its `max_queue`): prompts of different
    # lengths join and leave the batch at different steps; each text must equal the one it gets alone.
    prompts = ["The quick brown fox", "Once upon a time, in a small village by the sea,", "1, 2, 3, 4,"]
    before = metric(served, "outpost_model_batch_sequences_sum")
    steps_before = metric(served, "outpost_model_steps_total")
    alone, together = solo_and_together(served, prompts, 24)
    assert together == alone
    # Some steps did run more than one sequence.
    batched = metric(served, "outpost_model_batch_sequences_sum") - before
    assert batched > metric(served, "outpost_model_steps_total") - steps_before


def test_logprobs_in_both_shapes(served):
    status, _, raw = post(served, "/v1/completions", {"model": "gemma", "prompt": "The capital of France is", "max_tokens": 4,
                                                     "temperature": 0, "logprobs": 3})
    assert status == 200, raw
    lp = json.loads(raw)["choices"][0]["logprobs"]
    assert len(lp["tokens"]) == len(lp["token_logprobs"]) == len(lp["top_logprobs"]) == 4
    for token, value, top in zip(lp["tokens"], lp["token_logprobs"], lp["top_logprobs"]):
        assert value <= 0 and len(top) <= 3
        # Greedy: the chosen token is the most likely one.
        assert abs(max(top.values()) - value) < 1e-6 and top[token] == value
        assert sum(2.718281828 ** v for v in top.values()) <= 1.0001
    assert lp["text_offset"][0] == 0
    status, _, raw = post(served, "/v1/chat/completions", {"model": "gemma", "messages": [{"role": "user", "content": "Hi"}],
                                                          "max_tokens": 3, "temperature": 0, "logprobs": True, "stream": True})
    chunks = [json.loads(e) for e in sse_events(raw)[:-1]]
    entries = [e for c in chunks if c["choices"][0].get("logprobs") for e in c["choices"][0]["logprobs"]["content"]]
    assert len(entries) == 3 and all(e["top_logprobs"] == [] and bytes(e["bytes"]).decode(errors="replace") == e["token"] for e in entries)
    for body, fragment in [({"logprobs": 21}, "'logprobs' must be between 0 and 20"), ({"logprobs": True}, "expected an integer")]:
        status, _, raw = post(served, "/v1/completions", dict({"model": "gemma", "prompt": "x"}, **body))
        assert status == 400 and fragment in json.loads(raw)["error"]["message"]
    status, _, raw = post(served, "/v1/chat/completions", {"model": "gemma", "messages": [{"role": "user", "content": "x"}], "top_logprobs": 2})
    assert status == 400 and "needs 'logprobs'" in json.loads(raw)["error"]["message"]


def test_several_choices_each_equal_a_single_request_with_its_seed(served):
    body = {"model": "gemma", "prompt": "My favourite animal is", "max_tokens": 12, "temperature": 0.9, "seed": 5}
    status, _, raw = post(served, "/v1/completions", dict(body, n=2))
    assert status == 200, raw
    answer = json.loads(raw)
    assert [c["index"] for c in answer["choices"]] == [0, 1]
    singles = [json.loads(post(served, "/v1/completions", dict(body, seed=5 + i))[2]) for i in range(2)]
    assert [c["text"] for c in answer["choices"]] == [s["choices"][0]["text"] for s in singles]
    assert answer["usage"]["completion_tokens"] == sum(s["usage"]["completion_tokens"] for s in singles)
    # Streamed chat: every chunk names its choice, each choice ends with its finish_reason, then [DONE].
    status, _, raw = post(served, "/v1/chat/completions", {"model": "gemma", "messages": [{"role": "user", "content": "Hi"}],
                                                          "max_tokens": 6, "temperature": 0.9, "seed": 1, "n": 2, "stream": True})
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e)["choices"][0] for e in events[:-1]]
    assert {c["index"] for c in chunks} == {0, 1}
    assert sorted(c["index"] for c in chunks if c.get("finish_reason")) == [0, 1]


def test_exact_result_cache(served):
    body = {"model": "cached", "prompt": "The three primary colours are", "max_tokens": 12, "temperature": 0}
    hits = lambda: metric(served, "outpost_model_result_cache_total", 'model="cached",result="hit"')
    before = hits()
    first = json.loads(post(served, "/v1/completions", body)[2])
    second = json.loads(post(served, "/v1/completions", body)[2])
    assert hits() == before + 1
    assert second["choices"] == first["choices"] and second["usage"] == first["usage"]
    # The cached answer equals a fresh one from the model without the cache.
    fresh = json.loads(post(served, "/v1/completions", dict(body, model="gemma"))[2])
    assert fresh["choices"][0]["text"] == first["choices"][0]["text"]
    # A fixed seed is deterministic too; a stream replays the cached text.
    seeded = dict(body, temperature=0.9, seed=7)
    a = json.loads(post(served, "/v1/completions", seeded)[2])["choices"][0]["text"]
    raw = post(served, "/v1/completions", dict(seeded, stream=True))[2]
    assert "".join(json.loads(e)["choices"][0]["text"] for e in sse_events(raw)[:-1]) == a
    assert hits() == before + 2
    # Without a seed, sampling is not cached.
    misses = metric(served, "outpost_model_result_cache_total", 'model="cached",result="miss"')
    post(served, "/v1/completions", dict(body, temperature=0.9))
    assert metric(served, "outpost_model_result_cache_total", 'model="cached",result="miss"') == misses


def test_follow_up_turn_reuses_the_shared_prefix(served):
    before = metric(served, "outpost_model_prefix_tokens_reused_total", 'model="cached"')
    turn = [{"role": "user", "content": "Give me a word that rhymes with cat."}]
    first = json.loads(post(served, "/v1/chat/completions", {"model": "cached", "messages": turn, "max_tokens": 6, "temperature": 0.5})[2])
    turn += [first["choices"][0]["message"], {"role": "user", "content": "And another one?"}]
    second = json.loads(post(served, "/v1/chat/completions", {"model": "cached", "messages": turn, "max_tokens": 6, "temperature": 0.5})[2])
    reused = metric(served, "outpost_model_prefix_tokens_reused_total", 'model="cached"') - before
    assert reused >= first["usage"]["prompt_tokens"] - 1, (reused, first["usage"], second["usage"])


def test_admin_routes_are_for_root_and_unload_and_reload_models(served):
    script = ("import socket\n"
              f"s = socket.socket(socket.AF_UNIX); s.connect({served.socket!r})\n"
              "s.sendall(b'POST /v1/admin/reload HTTP/1.1\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
              "print(s.recv(65536).decode())\n")
    out = subprocess.run(["runuser", "-u", "nobody", "--", "python3", "-c", script], capture_output=True, text=True, timeout=60)
    assert out.stdout.startswith("HTTP/1.1 403 "), out.stdout[:300] + out.stderr
    assert 'outpost_admin_denied_total{action="reload"} 1' in served.get("/metrics")[1]
    assert "admin denied: the admin routes (reload)" in served.log()
    loaded = lambda: {m["id"]: m["loaded"] for m in json.loads(served.get("/v1/models")[1])["data"]}
    status, _, raw = post(served, "/v1/admin/unload", {"model": "cached"})
    assert status == 200, raw
    assert loaded() == {"cached": False, "gemma": True}
    assert post(served, "/v1/admin/unload", {"model": "cached"})[0] == 404
    status, _, raw = post(served, "/v1/admin/reload", b"")
    assert status == 200 and "loaded cached" in json.loads(raw)["changes"], raw
    assert loaded() == {"cached": True, "gemma": True}
    # Unloaded, a configured model loads again on its next request.
    assert post(served, "/v1/admin/unload", {"model": "cached"})[0] == 200
    assert post(served, "/v1/completions", {"model": "cached", "prompt": "x", "max_tokens": 1})[0] == 200
    assert loaded() == {"cached": True, "gemma": True}


def test_sighup_adds_and_removes_models_without_dropping_requests():
    import signal as signals
    workdir = tempfile.mkdtemp(prefix="outpost-hup-", dir="/tmp")
    model = lambda name: f'[models.{name}]\npath = "{model_path()}"\ncontext = 128\nthreads = 2\n'
    d = Daemon(workdir, model("first")).start()
    try:
        outcome = {}

        def stream():
            outcome["raw"] = post(d, "/v1/completions", {"model": "first", "prompt": "Once upon a time", "max_tokens": 48,
                                                         "temperature": 0, "stream": True})[2]

        t = threading.Thread(target=stream)
        t.start()
        deadline = time.monotonic() + 30
        while metric(d, "outpost_model_generated_tokens_total", 'model="first"') == 0 and \
                metric(d, "outpost_model_active_sequences", 'model="first"') == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        with open(d.config, "w") as f:
            f.write(model("second"))
        d.signal(signals.SIGHUP)
        while time.monotonic() < deadline:
            names = [m["id"] for m in json.loads(d.get("/v1/models")[1])["data"]]
            if names == ["second"]:
                break
            time.sleep(0.05)
        assert names == ["second"], d.log()
        t.join(120)
        events = sse_events(outcome["raw"])
        assert events[-1] == "[DONE]" and json.loads(events[-2])["choices"][0]["finish_reason"] == "length"
        assert json.loads(events[-2])["usage"]["completion_tokens"] == 48
        assert post(d, "/v1/completions", {"model": "first", "prompt": "x", "max_tokens": 1})[0] == 404
        assert post(d, "/v1/completions", {"model": "second", "prompt": "x", "max_tokens": 1})[0] == 200
        assert "model first unloading: no longer configured; requests in flight finish first" in d.log()
        deadline = time.monotonic() + 10
        while "model first unloaded" not in d.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "model first unloaded" in d.log()
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def test_models_load_on_first_use_unload_after_keep_alive_and_respect_the_memory_budget():
    workdir = tempfile.mkdtemp(prefix="outpost-lazy-", dir="/tmp")
    config = f"""
[agent]
memory_budget_mb = 600

[models.lazy]
path = "{model_path()}"
context = 128
threads = 2
preload = false
keep_alive = 2

[models.huge]
path = "{model_path()}"
context = 32768
parallel = 4
preload = false

[models.slow]
path = "{model_path()}"
context = 512
threads = 2
parallel = 1
request_timeout = 1
"""
    d = Daemon(workdir, config).start()
    try:
        listed = lambda: {m["id"]: m["loaded"] for m in json.loads(d.get("/v1/models")[1])["data"]}
        assert d.get("/v1/ready")[0] == 200
        assert listed() == {"huge": False, "lazy": False, "slow": True}
        # A request past its timeout ends with 504 (the counting goes on for far longer than a second).
        status, _, raw = post(d, "/v1/completions", {"model": "slow", "prompt": "1, 2, 3, 4, 5,", "max_tokens": 500, "temperature": 0})
        assert status == 504 and "timeout of 1 s" in json.loads(raw)["error"]["message"], raw
        status, _, raw = post(d, "/v1/completions", {"model": "lazy", "prompt": "The quick brown fox", "max_tokens": 4, "temperature": 0})
        assert status == 200, raw
        assert listed() == {"huge": False, "lazy": True, "slow": True}
        deadline = time.monotonic() + 15
        while listed()["lazy"] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert listed() == {"huge": False, "lazy": False, "slow": True}
        assert "model lazy unloaded after 2 s without requests" in d.log()
        # 4 sequences of 32768 tokens need 2.3 GiB of KV cache: refused, with the sizes in the message.
        status, _, raw = post(d, "/v1/completions", {"model": "huge", "prompt": "x", "max_tokens": 1})
        assert status == 503, raw
        message = json.loads(raw)["error"]["message"]
        assert "memory budget" in message and "600 MiB" in message, message
        assert post(d, "/v1/completions", {"model": "lazy", "prompt": "x", "max_tokens": 1})[0] == 200
    finally:
        d.stop()
        shutil.rmtree(workdir, ignore_errors=True)
