#!/usr/bin/env bash
# The import check must pass on the tree as it is and fail, naming the file, on each planted wrong import.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/check-imports.py >/dev/null
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
plant() {  # TARGET-FILE MODULE EXPECTED-FRAGMENT
    rm -rf "$tmp/Sources" && cp -r Sources "$tmp/Sources"
    sed -i "0,/^import /s//import $2\nimport /" "$tmp/$1"
    if out=$(python3 scripts/check-imports.py "$tmp" 2>&1); then
        echo "FAIL: check-imports accepted 'import $2' in $1" >&2
        exit 1
    fi
    grep -qF "$3" <<<"$out" || { echo "FAIL: expected '$3' in: $out" >&2; exit 1; }
    echo "ok: refuses import $2 in $1"
}
plant Sources/Inference/BatchEngine.swift Agent "Inference (level 3) imports Agent (level 5)"
plant Sources/Tokenizer/Tokenizer.swift Platform "Tokenizer is on the numeric side and imports Platform"
plant Sources/Config/Config.swift Telemetry "Config (level 2) imports Telemetry (level 2)"
plant Sources/outpost/main.swift Agent "outpost must not import Agent"
echo "check-imports: 4 planted wrong imports refused, main accepted"
