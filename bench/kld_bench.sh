#!/usr/bin/env bash
# bench/kld_bench.sh: how close our logits are to llama.cpp's, measured as quantisation work measures it.
# llama-perplexity writes base log-probabilities for CHUNKS chunks of CTX tokens of an English text with batch
# CTX; then llama-perplexity itself at batch 8 (its own spread across batch sizes: the yardstick) and
# `outpost perplexity --kl-divergence` are compared with that base. Both print llama-perplexity's statistics.
#
#   CHUNKS=6 CTX=512 TEXT=/usr/share/common-licenses/GPL-3 bash bench/kld_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
CHUNKS=${CHUNKS:-6}
CTX=${CTX:-512}
TEXT=${TEXT:-/usr/share/common-licenses/GPL-3}
OUTPOST=${OUTPOST:-.build/release/outpost}
MODEL=${MODEL:-$(bash scripts/fetch-model.sh)}
LLAMA_BIN=${LLAMA_CPP_BIN:-$(bash scripts/build-llama-cpp.sh)}
[ -x "$OUTPOST" ] || { echo "error: $OUTPOST not found; run 'make release' first" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
base=$work/base.kld
summary() { grep -E "Mean    KLD|99\.9%   KLD|99\.0%   KLD|Median  KLD|Mean    Δp|Same top p" "$1"; }

echo "== base: llama-perplexity -c $CTX -b $CTX --chunks $CHUNKS on $(basename "$TEXT"), $(basename "$MODEL")"
"$LLAMA_BIN/llama-perplexity" -m "$MODEL" -f "$TEXT" -c "$CTX" -b "$CTX" --chunks "$CHUNKS" -t 2 -fa off \
    --kl-divergence-base "$base" --log-file "$work/base.log" >/dev/null 2>&1
echo "== yardstick: llama-perplexity -b 8 -ub 8 against its own base"
"$LLAMA_BIN/llama-perplexity" -m "$MODEL" -c "$CTX" -b 8 -ub 8 -t 2 -fa off --kl-divergence-base "$base" --kl-divergence \
    --log-file "$work/yardstick.log" >/dev/null 2>&1
summary "$work/yardstick.log"
echo "== outpost perplexity --kl-divergence against the same base (kernels: ${OUTPOST_KERNELS:-best})"
"$OUTPOST" perplexity --model "$MODEL" --kl-divergence --kl-divergence-base "$base" --threads 2 > "$work/ours.log"
summary "$work/ours.log"
