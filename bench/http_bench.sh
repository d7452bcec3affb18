#!/usr/bin/env bash
# bench/http_bench.sh: HTTP-layer benchmark of outpostd against nginx, over Unix sockets.
#
# Usage:  bench/http_bench.sh                       (from any directory)
#         ONLY_NGINX=1 DURATION=2 bench/http_bench.sh   (nginx only: before outpostd exists)
#         OUTPOSTD=/path/to/outpostd REPEAT=3 bench/http_bench.sh
#
# What it does
#   1. builds bench/loadgen.c into ${BENCH_BUILD:-.build/bench}/loadgen
#   2. installs nginx-light with apt-get if nginx is missing (idempotent)
#   3. starts nginx (worker_processes 1, daemon off, backgrounded; prefix/pid/logs in a temp dir)
#      on unix:$TMP/nginx.sock returning 200 {"status":"ok"} for every path
#   4. starts "$OUTPOSTD" --socket $TMP/outpost.sock --state-dir $TMP/state and waits until
#      GET /v1/health answers 2xx
#   5. for each connection count in $CONNS runs loadgen against outpost, then nginx
#      (alternating), $DURATION s each after $WARMUP s warm-up, and prints a table
#   6. outpostd RSS (VmRSS) when idle after startup and again after the load
#   7. time from exec to READY=1 (sd_notify over NOTIFY_SOCKET), 10 cold starts, median/max,
#      each stopped with SIGTERM (time to exit and exit status are reported too); these
#      starts are not CPU-pinned and use a fresh, empty state dir each
#   All results are also printed as a markdown block for BENCHMARKS.md.
#
# Fairness: both servers get one core for their loop. nginx runs one worker; when the machine
#   has >= 2 CPUs the server under test is pinned to CPU $SERVER_CPU and loadgen to
#   CPU $LOADGEN_CPU with taskset (PIN=0 disables pinning). Both are driven by the same
#   single-threaded loadgen, one request in flight per keep-alive connection. Server CPU use
#   (all threads, utime+stime) is sampled per run and reported as % of a core and µs/request.
#
# Environment
#   DURATION=5          seconds measured per run
#   WARMUP=1            seconds of warm-up per run (not measured)
#   CONNS="1 16 64"     connection counts
#   OUTPOSTD=<repo>/.build/release/outpostd   daemon binary
#   ONLY_NGINX=0        1: skip everything outpost (no daemon start, RSS, READY timing): for
#                       testing the harness and loadgen against nginx before outpostd exists
#   BENCH_BUILD=<repo>/.build/bench           where loadgen is built
#   LOADGEN_THREADS=1   loadgen threads
#   REPEAT=1            runs per (server, conns) cell, alternating; the median-rps run is reported
#   BUSY_POLL=auto      auto|1|0: loadgen --busy-poll (auto = on when pinned, i.e. loadgen has its
#                       own core; avoids idle-wake-up latency dominating the 1-connection case)
#   READY_RUNS=10       number of exec->READY measurements
#   PIN=auto            auto|1|0: CPU pinning (auto = on when nproc >= 2)
#   SERVER_CPU=1 LOADGEN_CPU=0
#   NGINX_KEEPALIVE_REQUESTS=1000000   nginx keepalive_requests (nginx default is 1000)
#   KEEP_TMP=0          1: keep the temp dir (configs, logs) after the run
#
# Exit status: non-zero if a server cannot be started or never becomes healthy, or if a
# loadgen run completes no request at all. Every process started here (nginx, outpostd,
# loadgen) is stopped on exit, including after SIGINT/SIGTERM (which take effect once the
# loadgen run in progress ends, at most WARMUP+DURATION s later).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
CONNS=${CONNS:-"1 16 64"}
OUTPOSTD=${OUTPOSTD:-$ROOT/.build/release/outpostd}
ONLY_NGINX=${ONLY_NGINX:-0}
BENCH_BUILD=${BENCH_BUILD:-$ROOT/.build/bench}
LOADGEN_THREADS=${LOADGEN_THREADS:-1}
READY_RUNS=${READY_RUNS:-10}
REPEAT=${REPEAT:-1}
BUSY_POLL=${BUSY_POLL:-auto}
PIN=${PIN:-auto}
SERVER_CPU=${SERVER_CPU:-1}
LOADGEN_CPU=${LOADGEN_CPU:-0}
NGINX_KEEPALIVE_REQUESTS=${NGINX_KEEPALIVE_REQUESTS:-1000000}
KEEP_TMP=${KEEP_TMP:-0}
HEALTH=/v1/health

die() { echo "http_bench: error: $*" >&2; exit 1; }
log() { echo "http_bench: $*" >&2; }

# ---------------------------------------------------------------- cleanup ---
TMP=$(mktemp -d "${TMPDIR:-/tmp}/outpost-bench.XXXXXX")
NGINX_PID=""
OUTPOST_PID=""
stop_pid() { # pid: SIGTERM, wait up to 5 s, then SIGKILL
    local pid=$1 i
    [[ -n "$pid" ]] || return 0
    kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    stop_pid "$OUTPOST_PID"
    stop_pid "$NGINX_PID"
    if [[ "$KEEP_TMP" == 1 ]]; then log "kept $TMP"; else rm -rf "$TMP"; fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# fail fast, before starting anything, when the daemon is not built yet
if [[ "$ONLY_NGINX" != 1 && ! -x "$OUTPOSTD" ]]; then
    die "outpostd binary not found or not executable at '$OUTPOSTD' (build it with 'swift build -c release', set OUTPOSTD=..., or run with ONLY_NGINX=1 to benchmark nginx alone)"
fi

# ------------------------------------------------------------------ build ---
command -v gcc >/dev/null || die "gcc not found (apt-get install gcc)"
mkdir -p "$BENCH_BUILD"
LOADGEN="$BENCH_BUILD/loadgen"
gcc -O2 -Wall -Wextra -Werror -o "$LOADGEN" "$ROOT/bench/loadgen.c" || die "building loadgen failed"

# ------------------------------------------------------------------ nginx ---
find_nginx() { command -v nginx 2>/dev/null || { [[ -x /usr/sbin/nginx ]] && echo /usr/sbin/nginx; } || true; }
NGINX=$(find_nginx)
if [[ -z "$NGINX" ]]; then
    log "nginx not found, installing nginx-light"
    SUDO=""
    [[ $(id -u) -eq 0 ]] || SUDO=sudo
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get install -y -q nginx-light >/dev/null ||
        { $SUDO apt-get update -q >/dev/null && $SUDO apt-get install -y -q nginx-light >/dev/null; } ||
        die "could not install nginx-light"
    NGINX=$(find_nginx)
    [[ -n "$NGINX" ]] || die "nginx still not found after installing nginx-light"
fi
NGINX_VERSION=$("$NGINX" -v 2>&1 | sed 's/^nginx version: //')

# ---------------------------------------------------------------- pinning ---
NCPU=$(nproc)
if [[ "$PIN" == auto ]]; then
    if [[ $NCPU -ge 2 ]] && command -v taskset >/dev/null; then PIN=1; else PIN=0; fi
fi
SRV_PREFIX=()
LG_PREFIX=()
if [[ "$PIN" == 1 ]]; then
    command -v taskset >/dev/null || die "PIN=1 needs taskset (util-linux)"
    SRV_PREFIX=(taskset -c "$SERVER_CPU")
    LG_PREFIX=(taskset -c "$LOADGEN_CPU")
    PIN_DESC="server pinned to CPU $SERVER_CPU, loadgen to CPU $LOADGEN_CPU"
else
    PIN_DESC="no CPU pinning"
fi
if [[ "$BUSY_POLL" == auto ]]; then BUSY_POLL=$PIN; fi
LG_ARGS=(--threads "$LOADGEN_THREADS")
LG_DESC="loadgen threads=$LOADGEN_THREADS"
if [[ "$BUSY_POLL" == 1 ]]; then
    LG_ARGS+=(--busy-poll)
    LG_DESC+=", busy-poll"
fi
[[ "$REPEAT" =~ ^[1-9][0-9]*$ ]] || die "REPEAT must be a positive integer"

# ---------------------------------------------------------------- helpers ---
# field "key=value ..." key  -> value
field() { sed -n "s/.*\\b$2=\\([^ ]*\\).*/\\1/p" <<<"$1"; }

# wait_healthy NAME SOCKET PID: until GET $HEALTH answers 2xx (10 s)
wait_healthy() {
    local name=$1 sock=$2 pid=$3 i out
    for ((i = 0; i < 200; i++)); do
        kill -0 "$pid" 2>/dev/null || return 1
        if [[ -S "$sock" ]]; then
            out=$("$LOADGEN" --socket "$sock" --path "$HEALTH" --connections 1 --duration 0.05 --timeout 1 2>/dev/null) || out=""
            if [[ -n "$out" && "$(field "$out" requests)" -gt 0 && "$(field "$out" non2xx)" -eq 0 ]]; then
                return 0
            fi
        fi
        sleep 0.05
    done
    log "$name did not answer GET $HEALTH with 2xx within 10 s"
    return 1
}

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo "?"; }
fmt_mib() {
    if [[ "$1" == "?" ]]; then echo "?"; else awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; fi
}

# run_load SOCKET CONNS -> prints loadgen's key=value line
run_load() {
    local out
    out=$("${LG_PREFIX[@]}" "$LOADGEN" --socket "$1" --path "$HEALTH" --connections "$2" \
        --duration "$DURATION" --warmup "$WARMUP" "${LG_ARGS[@]}") ||
        die "loadgen against $1 with $2 connections completed no request: $out"
    echo "$out"
}

# ------------------------------------------------------------ start nginx ---
mkdir -p "$TMP/nginx/tmp"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process on;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/tmp/body;
    proxy_temp_path $TMP/nginx/tmp/proxy;
    fastcgi_temp_path $TMP/nginx/tmp/fastcgi;
    uwsgi_temp_path $TMP/nginx/tmp/uwsgi;
    scgi_temp_path $TMP/nginx/tmp/scgi;
    keepalive_requests $NGINX_KEEPALIVE_REQUESTS;
    server {
        listen unix:$TMP/nginx.sock;
        location / {
            default_type application/json;
            return 200 '{"status":"ok"}';
        }
    }
}
EOF
"${SRV_PREFIX[@]}" "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" \
    >"$TMP/nginx/stdout.log" 2>&1 &
NGINX_PID=$!
if ! wait_healthy nginx "$TMP/nginx.sock" "$NGINX_PID"; then
    cat "$TMP/nginx/error.log" "$TMP/nginx/stdout.log" >&2 2>/dev/null || true
    die "nginx failed to start"
fi

# ---------------------------------------------------------- start outpost ---
RSS_IDLE="?"
RSS_AFTER="?"
if [[ "$ONLY_NGINX" != 1 ]]; then
    mkdir -p "$TMP/state"
    "${SRV_PREFIX[@]}" "$OUTPOSTD" --socket "$TMP/outpost.sock" --state-dir "$TMP/state" \
        >"$TMP/outpostd.log" 2>&1 &
    OUTPOST_PID=$!
    if ! wait_healthy outpostd "$TMP/outpost.sock" "$OUTPOST_PID"; then
        tail -n 40 "$TMP/outpostd.log" >&2 || true
        die "outpostd did not become healthy (log above)"
    fi
    sleep 1 # let startup work settle before reading the idle RSS
    RSS_IDLE=$(rss_kb "$OUTPOST_PID")
fi

# ------------------------------------------------------------- load runs ---
# CPU ticks (utime+stime, all threads) of the given pids
cpu_ticks() {
    local pid line t=0 rest
    local -a f
    for pid in "$@"; do
        read -r line <"/proc/$pid/stat" 2>/dev/null || continue
        rest=${line##*) }
        read -r -a f <<<"$rest"
        t=$((t + f[11] + f[12]))
    done
    echo "$t"
}
# steal and total jiffies from /proc/stat
steal_total() { awk '/^cpu / { print $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9; exit }' /proc/stat; }
CLK_TCK=$(getconf CLK_TCK)
MAX_STEAL=0

# nginx master + workers
NGINX_PIDS=("$NGINX_PID")
for f in /proc/[0-9]*/stat; do
    read -r line <"$f" 2>/dev/null || continue
    rest=${line##*) }
    read -r -a fields <<<"$rest"
    [[ "${fields[1]}" == "$NGINX_PID" ]] && NGINX_PIDS+=("$(basename "$(dirname "$f")")")
done

# measure NAME SOCKET CONNS PIDS... -> loadgen's key=value line + server_cpu_pct, cpu_us_per_req, steal_pct
measure() {
    local name=$1 sock=$2 conns=$3 out c0 c1 s0 t0 s1 t1 steal cpu_pct cpu_req req
    shift 3
    c0=$(cpu_ticks "$@")
    read -r s0 t0 < <(steal_total)
    out=$(run_load "$sock" "$conns") || return 1
    read -r s1 t1 < <(steal_total)
    c1=$(cpu_ticks "$@")
    steal=$(awk -v a=$((s1 - s0)) -v b=$((t1 - t0)) 'BEGIN { v = (b > 0) ? 100 * a / b : 0; printf "%.1f", v }')
    req=$(field "$out" requests)
    # CPU is sampled over warm-up + duration; requests only over the duration: scale
    cpu_pct=$(awk -v c=$((c1 - c0)) -v hz="$CLK_TCK" -v w="$WARMUP" -v d="$DURATION" 'BEGIN { printf "%.0f", 100 * c / hz / (w + d) }')
    cpu_req=$(awk -v c=$((c1 - c0)) -v hz="$CLK_TCK" -v w="$WARMUP" -v d="$DURATION" -v r="$req" \
        'BEGIN { if (r > 0) printf "%.1f", 1e6 * c / hz * d / (w + d) / r; else print "-" }')
    echo "$out server_cpu_pct=$cpu_pct cpu_us_per_req=$cpu_req steal_pct=$steal"
}

# median_by_rps: lines on stdin -> the line with the median rps (lower median for even counts)
median_by_rps() {
    local -a lines
    mapfile -t lines < <(while read -r l; do echo "$(field "$l" rps) $l"; done | sort -n -k1,1 | cut -d' ' -f2-)
    echo "${lines[$(((${#lines[@]} - 1) / 2))]}"
}

note() { # note LINE -> " (errors=.. non2xx=..)" or ""
    local e n
    e=$(field "$1" errors) n=$(field "$1" non2xx)
    [[ "$e" == 0 && "$n" == 0 ]] || echo " (errors=$e non2xx=$n)"
}

log "nginx $NGINX_VERSION (worker_processes 1), $PIN_DESC, $LG_DESC, ${DURATION}s per run after ${WARMUP}s warm-up, $REPEAT run(s) per cell"
ROWS=()
CPU_ROWS=()
for c in $CONNS; do
    o_runs="" n_runs=""
    for ((r = 1; r <= REPEAT; r++)); do
        if [[ "$ONLY_NGINX" != 1 ]]; then
            kill -0 "$OUTPOST_PID" 2>/dev/null || die "outpostd exited during the benchmark (log: $TMP/outpostd.log, KEEP_TMP=1 keeps it)"
            out=$(measure outpost "$TMP/outpost.sock" "$c" "$OUTPOST_PID")
            log "outpost $out"
            o_runs+="$out"$'\n'
        fi
        out=$(measure nginx "$TMP/nginx.sock" "$c" "${NGINX_PIDS[@]}")
        log "nginx   $out"
        n_runs+="$out"$'\n'
    done
    for l in $(printf '%s' "$o_runs$n_runs" | sed -n 's/.*steal_pct=\([0-9.]*\).*/\1/p'); do
        MAX_STEAL=$(awk -v a="$MAX_STEAL" -v b="$l" 'BEGIN { m = (b > a) ? b : a; print m }')
    done
    nl=$(printf '%s' "$n_runs" | median_by_rps)
    n_rps=$(field "$nl" rps) n_p50=$(field "$nl" p50_us) n_p99=$(field "$nl" p99_us)
    o_rps="-" o_p50="-" o_p99="-" ratio="-" o_note="" o_cpu="-" o_cpr="-"
    if [[ "$ONLY_NGINX" != 1 ]]; then
        ol=$(printf '%s' "$o_runs" | median_by_rps)
        o_rps=$(field "$ol" rps) o_p50=$(field "$ol" p50_us) o_p99=$(field "$ol" p99_us) o_note=$(note "$ol")
        o_cpu=$(field "$ol" server_cpu_pct)% o_cpr=$(field "$ol" cpu_us_per_req)
        ratio=$(awk -v a="$o_rps" -v b="$n_rps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
    fi
    ROWS+=("| $c | $o_rps$o_note | $o_p50 | $o_p99 | $n_rps$(note "$nl") | $n_p50 | $n_p99 | $ratio |")
    CPU_ROWS+=("| $c | $o_cpu | $o_cpr | $(field "$nl" server_cpu_pct)% | $(field "$nl" cpu_us_per_req) |")
done

if [[ "$ONLY_NGINX" != 1 ]]; then
    RSS_AFTER=$(rss_kb "$OUTPOST_PID")
    stop_pid "$OUTPOST_PID"
    OUTPOST_PID=""
fi

# ------------------------------------------------------- exec -> READY=1 ---
READY_LINE="(skipped: ONLY_NGINX=1)"
if [[ "$ONLY_NGINX" != 1 ]]; then
    mkdir -p "$TMP/ready"
    READY_LINE=$(python3 - "$OUTPOSTD" "$TMP/ready" "$READY_RUNS" <<'EOF'
import os, select, signal, socket, statistics, subprocess, sys, tempfile, time

daemon, base, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
ready_ms, stop_ms, bad_exit = [], [], []
for i in range(runs):
    d = tempfile.mkdtemp(dir=base)
    os.mkdir(os.path.join(d, "state"))
    notify = os.path.join(d, "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(notify)
    env = dict(os.environ, NOTIFY_SOCKET=notify)
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    with open(os.path.join(d, "outpostd.log"), "wb") as logf:
        t0 = time.monotonic()
        p = subprocess.Popen([daemon, "--socket", os.path.join(d, "outpost.sock"),
                              "--state-dir", os.path.join(d, "state")],
                             env=env, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        t_ready = None
        deadline = t0 + 10.0
        while t_ready is None and time.monotonic() < deadline and p.poll() is None:
            r, _, _ = select.select([s], [], [], 0.02)
            if r:
                data = s.recv(65536)
                if b"READY=1" in data.split(b"\n"):
                    t_ready = time.monotonic()
        if p.poll() is None:
            t_term = time.monotonic()
            p.send_signal(signal.SIGTERM)
            try:
                rc = p.wait(timeout=10)
                stop_ms.append((time.monotonic() - t_term) * 1000)
            except subprocess.TimeoutExpired:
                p.kill()
                rc = p.wait()
                bad_exit.append("run %d: did not exit within 10 s of SIGTERM" % i)
        else:
            rc = p.returncode
            bad_exit.append("run %d: exited with %s before SIGTERM" % (i, rc))
        if rc not in (0, None) and rc != -signal.SIGTERM and not bad_exit:
            bad_exit.append("run %d: exit status %s after SIGTERM" % (i, rc))
    s.close()
    if t_ready is None:
        sys.stderr.write("outpostd sent no READY=1 within 10 s (run %d, log %s/outpostd.log)\n" % (i, d))
        with open(os.path.join(d, "outpostd.log"), "rb") as f:
            sys.stderr.write(f.read()[-4000:].decode(errors="replace"))
        sys.exit(1)
    ready_ms.append((t_ready - t0) * 1000)
msg = "median %.1f ms, max %.1f ms (%d runs)" % (statistics.median(ready_ms), max(ready_ms), runs)
if stop_ms:
    msg += "; SIGTERM -> exit median %.1f ms, max %.1f ms" % (statistics.median(stop_ms), max(stop_ms))
if bad_exit:
    msg += "; WARNING: " + "; ".join(bad_exit[:3])
print(msg)
EOF
    ) || die "exec->READY measurement failed"
fi

# ----------------------------------------------------------------- report ---
CPU_MODEL=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
report() {
    echo "### HTTP layer: outpostd vs nginx ($(date -u +%Y-%m-%d))"
    echo
    echo "- Host: ${CPU_MODEL:-unknown CPU}, $NCPU CPUs, Linux $(uname -r)"
    echo "- $NGINX_VERSION, worker_processes 1, \`return 200 '{\"status\":\"ok\"}'\`; $PIN_DESC"
    echo "- loadgen (bench/loadgen.c): GET $HEALTH over a Unix socket, keep-alive, 1 request in flight per connection, $LG_DESC; ${DURATION}s measured after ${WARMUP}s warm-up$([[ $REPEAT -gt 1 ]] && echo ", median of $REPEAT alternating runs"); latencies in µs"
    echo
    echo "| conns | outpost rps | p50 | p99 | nginx rps | p50 | p99 | outpost/nginx |"
    echo "|------:|------------:|----:|----:|----------:|----:|----:|--------------:|"
    printf '%s\n' "${ROWS[@]}"
    echo
    echo "Server CPU while loaded (% of one core; CPU µs per request):"
    echo
    echo "| conns | outpost CPU | outpost µs/req | nginx CPU | nginx µs/req |"
    echo "|------:|------------:|---------------:|----------:|-------------:|"
    printf '%s\n' "${CPU_ROWS[@]}"
    echo
    echo "- Max hypervisor steal during a run: ${MAX_STEAL}%$(awk -v s="$MAX_STEAL" -v r="$REPEAT" 'BEGIN { if (s > 2 && r < 3) print " (noisy host: consider REPEAT=3)" }')"
    if [[ "$ONLY_NGINX" == 1 ]]; then
        echo "- outpostd: skipped (ONLY_NGINX=1)"
    else
        echo "- outpostd RSS: idle after startup $(fmt_mib "$RSS_IDLE"), after the load $(fmt_mib "$RSS_AFTER")"
        echo "- outpostd exec -> READY=1: $READY_LINE"
    fi
}
echo
report
echo
echo "Markdown for BENCHMARKS.md:"
echo '```markdown'
report
echo '```'
