#!/usr/bin/env bash
# bench/inference_bench.sh: `outpost bench` against llama.cpp's `llama-bench` on the same model, threads and
# sizes, alternating the two for several rounds; prints both figures, the ratios and the medians.
#
#   ROUNDS=5 THREADS="1 2" PROMPT=256 GEN=128 bash bench/inference_bench.sh
#
# llama-bench is built from the llama-cpp-python sdist by scripts/build-llama-cpp.sh (cached); the model comes
# from scripts/fetch-model.sh. OUTPOST defaults to .build/release/outpost (make release builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
THREADS=${THREADS:-"1 2"}
PROMPT=${PROMPT:-256}
GEN=${GEN:-128}
OUTPOST=${OUTPOST:-.build/release/outpost}
MODEL=${MODEL:-$(bash scripts/fetch-model.sh)}
LLAMA_BIN=${LLAMA_CPP_BIN:-$(bash scripts/build-llama-cpp.sh)}
[ -x "$OUTPOST" ] || { echo "error: $OUTPOST not found; run 'make release' first" >&2; exit 1; }

python3 - "$OUTPOST" "$LLAMA_BIN/llama-bench" "$MODEL" "$ROUNDS" "$THREADS" "$PROMPT" "$GEN" <<'PY'
import json, statistics, subprocess, sys
outpost, llama_bench, model, rounds, threads, prompt, gen = sys.argv[1:]
rounds, prompt, gen = int(rounds), int(prompt), int(gen)

def ours(t):
    out = subprocess.run([outpost, "bench", "--model", model, "--threads", str(t), "--prompt-tokens", str(prompt),
                          "--gen-tokens", str(gen), "--repetitions", "1", "--json"], check=True, capture_output=True, text=True)
    r = json.loads(out.stdout)
    return r["prompt_tps"], r["gen_tps"], r["peak_rss_bytes"]

def theirs(t):
    out = subprocess.run([llama_bench, "-m", model, "-t", str(t), "-p", str(prompt), "-n", str(gen), "-r", "1", "-o", "json"],
                         check=True, capture_output=True, text=True)
    results = json.loads(out.stdout)
    pp = next(r["avg_ts"] for r in results if r["n_prompt"] == prompt and r["n_gen"] == 0)
    tg = next(r["avg_ts"] for r in results if r["n_gen"] == gen and r["n_prompt"] == 0)
    return pp, tg

def peak_rss_llama(t):
    out = subprocess.run(["/usr/bin/time", "-f", "%M", llama_bench, "-m", model, "-t", str(t), "-p", str(prompt),
                          "-n", str(gen), "-r", "1"], capture_output=True, text=True)
    return int(out.stderr.strip().splitlines()[-1]) * 1024

lines = []
for t in [int(x) for x in threads.split()]:
    samples = {"our_pp": [], "our_tg": [], "their_pp": [], "their_tg": []}
    rss = 0
    for r in range(rounds):
        a, b, rss = ours(t)
        c, d = theirs(t)
        samples["our_pp"].append(a); samples["our_tg"].append(b)
        samples["their_pp"].append(c); samples["their_tg"].append(d)
        print(f"threads={t} round {r + 1}: outpost pp{prompt} {a:.1f} tg{gen} {b:.1f} | llama.cpp pp{prompt} {c:.1f} tg{gen} {d:.1f}", flush=True)
    m = {k: statistics.median(v) for k, v in samples.items()}
    their_rss = peak_rss_llama(t)
    lines.append(f"| {t} | {m['our_pp']:.1f} | {m['their_pp']:.1f} | {m['our_pp'] / m['their_pp']:.2f}x | "
                 f"{m['our_tg']:.1f} | {m['their_tg']:.1f} | {m['our_tg'] / m['their_tg']:.2f}x | "
                 f"{rss / 2**20:.0f} MiB | {their_rss / 2**20:.0f} MiB |")
print()
print(f"Medians over {rounds} alternated rounds, pp{prompt} / tg{gen}, tokens/s:")
print()
print("| threads | outpost pp | llama.cpp pp | ratio | outpost tg | llama.cpp tg | ratio | outpost peak RSS | llama-bench peak RSS |")
print("|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
print("\n".join(lines))
PY
