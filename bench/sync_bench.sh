#!/usr/bin/env bash
# bench/sync_bench.sh: rolling one Gemma 3 270M bundle (253 MB) from a loopback registry (Debian's
# docker-registry) to a running agent: time from `outpost sync now` to the new version active and answering
# (download, digest checks, encrypted store, smoke test, activation), and bytes fetched, beside `skopeo copy` of
# the same manifest into an OCI layout and `curl` fetching the model blob alone, in the same run.
#
#   bash bench/sync_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUTPOST=$(realpath "${OUTPOST:-.build/release/outpost}")
OUTPOSTD=$(realpath "${OUTPOSTD:-.build/release/outpostd}")
MODEL=${MODEL:-$(bash scripts/fetch-model.sh)}
[ -x "$OUTPOSTD" ] || { echo "error: $OUTPOSTD not found; run 'make release' first" >&2; exit 1; }
command -v docker-registry >/dev/null || { echo "error: docker-registry not installed (apt-get install docker-registry)" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/registry.yml" <<YML
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $work/storage
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry.yml" >"$work/registry.log" 2>&1 &
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$port/v2/" >/dev/null && break; sleep 0.1; done
registry=http://127.0.0.1:$port
cd "$work"
"$OUTPOST" keygen --no-password --secret-key k.key --public-key k.pub >/dev/null
mkdir trusted && cp k.pub trusted/
"$OUTPOST" bundle create --model "$MODEL" --name gemma --version 1.0.0 --output g.tar >/dev/null 2>&1
"$OUTPOST" bundle sign g.tar --secret-key k.key >/dev/null
digest=$("$OUTPOST" bundle push g.tar --registry "$registry" --repository bench/models --tag gemma-1.0.0 2>/dev/null | tail -1)
"$OUTPOST" release publish --registry "$registry" --repository bench/models --channel stable --secret-key k.key gemma=gemma-1.0.0 >/dev/null
head -c 32 /dev/urandom > store.key
cat > c.toml <<TOML
[bundles]
trusted_dir = "$work/trusted"
[store]
min_free_mb = 0
[sync]
registry = "$registry"
repository = "bench/models"
interval_seconds = 86400
TOML
t0=$(date +%s.%N)
"$OUTPOSTD" --config c.toml --socket "$work/s.sock" --state-dir "$work/state" --store-key-file store.key 2>d.log &
until "$OUTPOST" versions --socket "$work/s.sock" --json 2>/dev/null | grep -q '"active":true'; do sleep 0.05; done
t1=$(date +%s.%N)
fetched=$("$OUTPOST" sync status --socket "$work/s.sock" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["bytes_fetched"])')
curl -sf --unix-socket "$work/s.sock" http://localhost/v1/completions -H 'Content-Type: application/json' \
    -d '{"model":"gemma","prompt":"Hello","max_tokens":4,"temperature":0}' >/dev/null
agent=$(python3 -c "print(f'{$t1 - $t0:.2f}')")

model_digest=$(sha256sum "$MODEL" | cut -d' ' -f1)
t0=$(date +%s.%N)
curl -sf "$registry/v2/bench/models/blobs/sha256:$model_digest" -o blob.bin
t1=$(date +%s.%N)
curl_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
skopeo_s="(skopeo not installed)"
if command -v skopeo >/dev/null; then
    t0=$(date +%s.%N)
    skopeo copy --quiet --src-tls-verify=false "docker://127.0.0.1:$port/bench/models@$digest" oci:skopeo-layout >/dev/null
    t1=$(date +%s.%N)
    skopeo_s=$(python3 -c "print(f'{$t1 - $t0:.2f}')")
fi
echo "model: $(basename "$MODEL") ($(stat -c %s "$MODEL") bytes), loopback docker-registry over http"
echo "agent: start -> release read, bundle fetched, verified, stored encrypted, smoke-tested, active: ${agent} s; bytes fetched: $fetched"
echo "skopeo copy of the same manifest into an OCI layout: ${skopeo_s} s"
echo "curl of the model blob alone: ${curl_s} s"
