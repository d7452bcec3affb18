#!/usr/bin/env bash
# Prints the directory of llama.cpp's vocab-only GGUF files (models/ggml-vocab-*.gguf: real tokenizers that
# TokenizerTests use), from the llama-cpp-python source distribution (scripts/fetch-llama-cpp-source.sh).
set -euo pipefail
src=$(bash "$(dirname "$0")/fetch-llama-cpp-source.sh")
[ -f "$src/models/ggml-vocab-gpt-2.gguf" ] || { echo "error: $src/models has no vocab files" >&2; exit 1; }
echo "$src/models"
