#!/usr/bin/env bash
# bench/store_bench.sh: how long outpostd takes to load Gemma 3 270M from the encrypted store (decrypt into
# anonymous memory, chunks in parallel, then build the model) beside loading the same GGUF file from a plain path
# (mmap, then build the model), as the agent's own "model ... loaded ... N ms" line reports it. Rounds alternate
# the two; the best of ROUNDS is reported. The target: the store at most 2x the plain file.
#
#   ROUNDS=5 bash bench/store_bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-5}
OUTPOST=$(realpath "${OUTPOST:-.build/release/outpost}")
OUTPOSTD=$(realpath "${OUTPOSTD:-.build/release/outpostd}")
MODEL=${MODEL:-$(bash scripts/fetch-model.sh)}
[ -x "$OUTPOSTD" ] || { echo "error: $OUTPOSTD not found; run 'make release' first" >&2; exit 1; }

python3 - "$OUTPOST" "$OUTPOSTD" "$MODEL" "$ROUNDS" <<'PY'
import os, re, subprocess, sys, tempfile, time
outpost, outpostd, model, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def wait_for(predicate, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False

with tempfile.TemporaryDirectory() as work:
    run = lambda *a: subprocess.run(a, cwd=work, check=True, capture_output=True)
    with open(os.path.join(work, "store.key"), "wb") as f:
        f.write(os.urandom(32))
    run(outpost, "keygen", "--no-password", "--secret-key", "k.key", "--public-key", "k.pub")
    os.makedirs(os.path.join(work, "trusted"))
    os.rename(os.path.join(work, "k.pub"), os.path.join(work, "trusted", "k.pub"))
    run(outpost, "bundle", "create", "--model", model, "--name", "stored", "--version", "1.0.0", "--output", "b.tar")
    run(outpost, "bundle", "sign", "b.tar", "--secret-key", "k.key")
    configs = {
        "plain file": f'[models.plain]\npath = "{model}"\ncontext = 512\nparallel = 1\n',
        "store": f'[bundles]\ntrusted_dir = "{work}/trusted"\n[store]\nmin_free_mb = 0\n[models.stored]\nbundle = "stored"\ncontext = 512\nparallel = 1\n',
    }
    sock = os.path.join(work, "s.sock")

    def start(name):
        with open(os.path.join(work, "c.toml"), "w") as f:
            f.write(configs[name])
        log = open(os.path.join(work, "d.log"), "w")
        proc = subprocess.Popen([outpostd, "--config", "c.toml", "--socket", sock, "--state-dir", "state", "--store-key-file", "store.key"],
                                cwd=work, stderr=log, stdout=subprocess.DEVNULL)
        return proc

    def loaded_ms():
        text = open(os.path.join(work, "d.log")).read()
        found = re.search(r"model \S+ loaded.*?, ([0-9.]+) ms", text)
        return float(found.group(1)) if found else None

    # Install the bundle once (through the agent, as a site would).
    proc = start("store")
    wait_for(lambda: os.path.exists(sock))
    run(outpost, "install", "b.tar", "--socket", sock)
    proc.terminate(); proc.wait()
    times = {name: [] for name in configs}
    for round in range(rounds + 1):
        for name in configs:
            proc = start(name)
            assert wait_for(lambda: loaded_ms() is not None), open(os.path.join(work, "d.log")).read()
            if round > 0:
                times[name].append(loaded_ms())
            proc.terminate(); proc.wait()
    best = {name: min(values) for name, values in times.items()}
    print(f"model: {os.path.basename(model)} ({os.path.getsize(model) / 1e6:.0f} MB); best of {rounds} alternated starts, "
          f"as outpostd's 'model ... loaded' line reports")
    for name, value in best.items():
        print(f"{name:<12}{value:9.1f} ms   (all: {', '.join(f'{v:.0f}' for v in times[name])})")
    print(f"store / plain file: {best['store'] / best['plain file']:.2f}x (target <= 2.0)")
PY
