#!/usr/bin/env bash
# Builds llama.cpp's command-line tools from the llama-cpp-python source distribution on PyPI (the peer we
# compare with and the reference for fixtures). Cached outside the checkout; prints the bin directory.
# Targets: llama-tokenize, llama-perplexity, llama-simple, llama-bench, llama-cli, llama-server.
set -euo pipefail
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
cache=${OUTPOST_CACHE:-$HOME/.cache/outpost}
build=$cache/llama.cpp-$version-build
targets=${LLAMA_TARGETS:-llama-tokenize llama-perplexity llama-simple llama-bench llama-cli llama-server}

missing=""
for p in cmake g++ make; do command -v "$p" >/dev/null || missing="$missing $p"; done
if [ -n "$missing" ]; then
    SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq cmake g++ make >&2
fi

src=$(bash "$(dirname "$0")/fetch-llama-cpp-source.sh")

all_built=1
for t in $targets; do [ -x "$build/bin/$t" ] || all_built=0; done
if [ "$all_built" = 0 ]; then
    cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
        -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=ON -DBUILD_SHARED_LIBS=OFF >&2
    # shellcheck disable=SC2086
    cmake --build "$build" -j "$(nproc)" --target $targets >&2
fi
echo "$build/bin"
