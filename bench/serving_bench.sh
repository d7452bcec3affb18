#!/usr/bin/env bash
# bench/serving_bench.sh: outpostd against llama.cpp's llama-server, 1/2/4/8 concurrent streams and time to first
# token under load (see bench/serving_bench.py). llama-server is built from the llama-cpp-python sdist by
# scripts/build-llama-cpp.sh (cached); the model comes from scripts/fetch-model.sh.
#
#   ROUNDS=3 THREADS=2 GEN=64 MODES=greedy,sampled bash bench/serving_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUTPOSTD=${OUTPOSTD:-.build/release/outpostd}
MODEL=${MODEL:-$(bash scripts/fetch-model.sh)}
LLAMA_BIN=${LLAMA_CPP_BIN:-$(bash scripts/build-llama-cpp.sh)}
[ -x "$OUTPOSTD" ] || { echo "error: $OUTPOSTD not found; run 'make release' first" >&2; exit 1; }
exec python3 bench/serving_bench.py --outpostd "$OUTPOSTD" --llama-server "$LLAMA_BIN/llama-server" --model "$MODEL" \
  --threads "${THREADS:-2}" --gen "${GEN:-64}" --rounds "${ROUNDS:-3}" --streams "${STREAMS:-1,2,4,8}" \
  --modes "${MODES:-greedy,sampled}"
