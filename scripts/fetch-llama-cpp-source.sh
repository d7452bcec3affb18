#!/usr/bin/env bash
# Downloads and unpacks the llama-cpp-python source distribution from PyPI (it vendors llama.cpp) without
# building anything; cached. Prints the llama.cpp source directory.
set -euo pipefail
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
cache=${OUTPOST_CACHE:-$HOME/.cache/outpost}
src=$cache/src/llama_cpp_python-$version/vendor/llama.cpp
if [ ! -f "$src/CMakeLists.txt" ]; then
    mkdir -p "$cache/src"
    tarball=$cache/src/llama_cpp_python-$version.tar.gz
    if [ ! -f "$tarball" ]; then
        # Only this package as source (its build backend comes as wheels, so pip's metadata step is quick).
        python3 -m pip download -q --no-deps --no-binary llama-cpp-python -d "$cache/src" "llama-cpp-python==$version" >&2
    fi
    [ -f "$tarball" ] || { echo "error: could not download llama-cpp-python $version's source distribution" >&2; exit 1; }
    tar -xzf "$tarball" -C "$cache/src"
fi
echo "$src"
