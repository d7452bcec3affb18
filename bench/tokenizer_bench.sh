#!/usr/bin/env bash
# bench/tokenizer_bench.sh: `outpost tokenize` against llama.cpp's `llama-tokenize` on the same vocabulary and
# texts (prose with special-token text, a run of spaces that matches ~30 nested whitespace tokens per position,
# and a large prompt), best of ROUNDS wall-clock runs of each command (both load the vocabulary, then encode),
# plus our own encoding time alone as `outpost tokenize --time` reports it.
#
#   ROUNDS=3 bash bench/tokenizer_bench.sh
#
# Replaces a wall-clock assertion that used to sit in the unit tests: speed is measured here, not asserted there.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
OUTPOST=${OUTPOST:-.build/release/outpost}
MODEL=${MODEL:-$(bash scripts/fetch-model.sh)}
LLAMA_BIN=${LLAMA_CPP_BIN:-$(LLAMA_TARGETS=llama-tokenize bash scripts/build-llama-cpp.sh)}
[ -x "$OUTPOST" ] || { echo "error: $OUTPOST not found; run 'make release' first" >&2; exit 1; }

python3 - "$OUTPOST" "$LLAMA_BIN/llama-tokenize" "$MODEL" "$ROUNDS" <<'PY'
import json, os, re, subprocess, sys, tempfile, time
outpost, llama_tokenize, model, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
texts = {
    "prose 8 KB": "The quick brown fox — 你好 😀 <start_of_turn>jumps\n\n over. " * 150,
    "spaces 10,000": " " * 10_000,
    "prose 1 MB": ("It was the best of times, it was the worst of times; the age of wisdom, the age of foolishness. " * 10_600)[:1_000_000],
}

def best(command):
    times, out = [], None
    for _ in range(rounds):
        started = time.monotonic()
        out = subprocess.run(command, check=True, capture_output=True, text=True)
        times.append(time.monotonic() - started)
    return min(times), out

print(f"model: {os.path.basename(model)}; best of {rounds}; wall clock includes loading the vocabulary")
print(f"{'text':<16}{'bytes':>10}{'tokens':>9}{'outpost s':>11}{'llama s':>10}{'ratio':>8}{'outpost encode ms':>19}")
with tempfile.TemporaryDirectory() as tmp:
    for name, text in texts.items():
        path = os.path.join(tmp, "text.txt")
        with open(path, "w") as f:
            f.write(text)
        ours, out = best([outpost, "tokenize", "--model", model, "--file", path, "--time"])
        ids = json.loads(out.stdout)
        encode_ms = float(re.search(r"in ([0-9.]+) ms", out.stderr).group(1))
        theirs, ref = best([llama_tokenize, "-m", model, "-f", path, "--ids", "--log-disable"])
        same = json.loads(ref.stdout.strip().splitlines()[-1]) == ids
        print(f"{name:<16}{len(text.encode()):>10}{len(ids):>9}{ours:>11.3f}{theirs:>10.3f}{theirs / ours:>7.2f}x{encode_ms:>19.1f}"
              + ("" if same else "   (ids differ!)"))
PY
