#!/usr/bin/env bash
# End-to-end test of the .deb on a real systemd: unpacks a fresh copy of a cached Debian bookworm root, boots it
# with systemd-nspawn, installs the package with apt inside it and checks from outside with nsenter that the
# units, socket activation, READY, Restart=, the watchdog, reload, journal fields, upgrade, remove and purge
# behave. Prints one PASS/FAIL line per check and MEASURE lines for BENCHMARKS.md; exits 1 when a check failed.
# Always tears the container down.
#   usage: tests/e2e/run.sh dist/outpost_<version>_amd64.deb      (as root; make e2e builds the .deb first)
#   OUTPOST_TEST_MODEL=FILE.gguf (make e2e sets it to Gemma 3 270M) adds the model-serving check: the hardened
#   service answers a completion with the same greedy text as "outpost run" outside it.
#   E2E_KEEP=1 keeps the container's root directory for a post-mortem.
set -uo pipefail
cd "$(dirname "$0")/../.."

deb=${1:?usage: tests/e2e/run.sh PATH/outpost_VERSION_amd64.deb}
[ -f "$deb" ] || { echo "error: $deb does not exist" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "error: the end-to-end test boots a container and must run as root" >&2; exit 2; }
deb=$(realpath "$deb")
version=$(dpkg-deb -f "$deb" Version)
# The "previous build" is the fresh .deb; the upgrade installs the same binaries under a higher version.
next_version=$version+e2e1

work=$(mktemp -d "${E2E_WORK:-/var/tmp}/outpost-e2e.XXXXXX")
root=$work/root
nspawn_pid=""
ct=""
failed=0
started_ms=$(date +%s%3N)

teardown() {
    if [ -n "$nspawn_pid" ] && kill -0 "$nspawn_pid" 2>/dev/null; then
        # SIGTERM makes systemd-nspawn ask the container's systemd for an orderly shutdown.
        kill -TERM "$nspawn_pid" 2>/dev/null
        for _ in $(seq 1 100); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$nspawn_pid" 2>/dev/null
        wait "$nspawn_pid" 2>/dev/null
    fi
    if [ "${E2E_KEEP:-0}" = 1 ]; then
        echo "kept $work"
    else
        rm -rf --one-file-system "$work"
    fi
}
trap teardown EXIT
trap 'exit 130' INT TERM

now_ms() { date +%s%3N; }
# grep that reads all its input: "grep -q" stops early, and under pipefail the writer's SIGPIPE fails the pipe.
contains() { grep "$@" >/dev/null; }
# Runs a command inside the booted container, in all its namespaces, with a clean environment.
in_ct() { nsenter -t "$ct" -a env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }
prop() { in_ct systemctl show -P "$2" "$1"; }
# The service's main PID; fails when there is none (never hand "kill" a 0: that is the caller's process group).
main_pid() { local pid; pid=$(prop outpostd.service MainPID); [ -n "$pid" ] && [ "$pid" != 0 ] && echo "$pid"; }
# Polls a command every 0.2 s until it succeeds or SECONDS pass.
wait_for() {
    local deadline=$(( $(now_ms) + $1 * 1000 )); shift
    until "$@" >/dev/null 2>&1; do
        [ "$(now_ms)" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}
health() { in_ct curl -sf --max-time 5 --unix-socket /run/outpost/outpost.sock http://localhost/v1/health | contains -x '{"status":"ok"}'; }
running() { [ "$(prop outpostd.service ActiveState)/$(prop outpostd.service SubState)" = active/running ]; }
new_main_pid() { local pid; pid=$(prop outpostd.service MainPID); [ "$pid" != 0 ] && [ "$pid" != "$1" ] && running; }

# check NAME FUNCTION: runs the function, prints PASS with the last line it printed as the detail, or FAIL with
# everything it printed.
check() {
    local name=$1 output status; shift
    output=$("$@" 2>&1); status=$?
    if [ "$status" = 0 ]; then
        echo "PASS $name${output:+ (${output##*$'\n'})}"
    else
        echo "FAIL $name"
        [ -z "$output" ] || printf '%s\n' "$output" | sed 's/^/     /'
        failed=1
    fi
    return "$status"
}
# MEASURE lines go to fd 3, the script's stdout, also from inside a check.
exec 3>&1
measure() { echo "MEASURE $*" >&3; }

# --- the package, on the host ------------------------------------------------------------------------------

lintian --fail-on error "$deb" >"$work/lintian.txt" 2>&1 &
lintian_pid=$!
(VERSION=$next_version OUT_DIR=$work DEB_COMPRESSION=gzip bash packaging/build-deb.sh >"$work/next.txt" 2>&1) &
next_pid=$!

# --- the container -----------------------------------------------------------------------------------------

tarball=$(bash tests/e2e/make-root.sh) || { echo "FAIL root (debootstrap)"; exit 1; }
mkdir -p "$root"
zstd -dc "$tarball" | tar -C "$root" --numeric-owner --xattrs -xf - || { echo "FAIL root (unpack $tarball)"; exit 1; }
cp "$deb" "$root/root/"

model=${OUTPOST_TEST_MODEL:-}
bind=()
[ -z "$model" ] || bind=(--bind-ro="$(realpath "$model")":/srv/outpost-e2e/model.gguf)
systemd-nspawn -D "$root" --register=no --keep-unit --console=passive --quiet "${bind[@]}" -b >"$work/nspawn.log" 2>&1 &
nspawn_pid=$!
# The container's systemd is the child of systemd-nspawn (found before any check: checks run in subshells).
for _ in $(seq 1 100); do
    pid=$(ps -o pid= --ppid "$nspawn_pid" | tr -d ' ' | head -n 1)
    if [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = systemd ]; then ct=$pid; break; fi
    sleep 0.1
done
boot() {
    [ -n "$ct" ] || { cat "$work/nspawn.log"; return 1; }
    local state
    # systemctl answers once systemd has opened its private socket.
    wait_for 30 in_ct test -S /run/systemd/private || { echo "systemd did not come up"; cat "$work/nspawn.log"; return 1; }
    state=$(timeout 60 nsenter -t "$ct" -a systemctl is-system-running --wait)
    [ "$state" = running ] || { echo "system state: $state"; in_ct systemctl --failed --no-pager; return 1; }
    echo "systemd PID $ct on the host, running after $(( $(now_ms) - started_ms )) ms"
}
check boot boot || exit 1

# --- install -----------------------------------------------------------------------------------------------

install_deb() {
    in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/root/$(basename "$deb")" >"$work/install.txt" 2>&1 \
        || { tail -n 20 "$work/install.txt"; return 1; }
    local status
    status=$(in_ct dpkg-query -W -f='${Status} ${Version}' outpost)
    [ "$status" = "install ok installed $version" ] || { echo "dpkg: $status"; return 1; }
    local uid
    uid=$(in_ct id -u outpost) || { echo "no user outpost"; return 1; }
    echo "$version installed; system user outpost, uid $uid"
}
check install install_deb || exit 1

# Every setting the shipped configuration documents, uncommented, is accepted by outpostd as it stands.
conffile_keys() {
    in_ct sh -c "sed -E 's/^# ([a-z_]+ = )/\\1/; s/^# (\\[models\\.)/\\1/' /etc/outpost/outpost.toml > /root/every-key.toml"
    local count documented
    count=$(in_ct grep -cE '^[a-z_]+ = ' /root/every-key.toml)
    documented=$(in_ct grep -cE '^# [a-z_]+ = ' /etc/outpost/outpost.toml)
    [ "$documented" -gt 0 ] && [ "$count" = "$documented" ] || { echo "$count of $documented settings uncommented"; return 1; }
    in_ct sh -c 'echo $$ > /run/e2e-keys.pid; exec outpostd --config /root/every-key.toml --socket /run/e2e-keys.sock \
        --state-dir /run/e2e-keys-state' >"$work/every-key.txt" 2>&1 &
    local daemon=$!
    if ! wait_for 10 in_ct curl -sf --unix-socket /run/e2e-keys.sock http://localhost/v1/health; then
        wait "$daemon"; echo "outpostd exited with $?:"; cat "$work/every-key.txt"; return 1
    fi
    in_ct sh -c 'kill -TERM "$(cat /run/e2e-keys.pid)"'
    wait "$daemon" || { echo "outpostd exited with $?"; cat "$work/every-key.txt"; return 1; }
    echo "$count documented settings accepted"
}
check conffile-keys conffile_keys

verify_units() {
    in_ct systemd-analyze verify --man=no outpostd.service outpostd.socket || return 1
    # Documentation= man pages, checked on the host against the pages the package installed.
    (cd / && MANPATH=$root/usr/share/man systemd-analyze verify --root="$root" outpostd.service outpostd.socket) || return 1
    echo "systemd-analyze verify: no findings"
}
check units-verify verify_units

security() {
    local report exposure
    report=$(in_ct systemd-analyze security --no-pager outpostd.service) || return 1
    exposure=$(printf '%s\n' "$report" | sed -n 's/.*Overall exposure level for outpostd.service: \([0-9.]*\).*/\1/p')
    [ -n "$exposure" ] || { printf '%s\n' "$report"; return 1; }
    awk -v e="$exposure" 'BEGIN { exit !(e <= 2.0) }' || { printf '%s\n' "$report" | grep '✗'; return 1; }
    echo "exposure $exposure"
}
check security security

socket_active() {
    [ "$(prop outpostd.socket ActiveState)" = active ] || { in_ct systemctl status outpostd.socket --no-pager; return 1; }
    local mode
    mode=$(in_ct stat -c '%F %a %U:%G' /run/outpost/outpost.sock) || return 1
    [ "$mode" = "socket 660 outpost:outpost" ] || { echo "socket file: $mode"; return 1; }
    echo "$mode"
}
check socket-active socket_active

# The service is stopped, the socket keeps listening; the first connection starts the service, and the unit is
# active (not activating) only once READY=1 arrived.
socket_activation() {
    in_ct systemctl stop outpostd.service 2>/dev/null
    [ "$(prop outpostd.service ActiveState)" = inactive ] || { echo "not stopped"; return 1; }
    in_ct test -S /run/outpost/outpost.sock || { echo "the socket file went with the service"; return 1; }
    health || { echo "no answer through the socket"; in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    running || { echo "service: $(prop outpostd.service ActiveState)/$(prop outpostd.service SubState)"; return 1; }
    in_ct outpost status >/dev/null || { in_ct outpost status; return 1; }
    echo "health answered, service active/running, outpost status answered"
}
check socket-activation socket_activation

start_time() {
    local times=() t0 t1 i
    for i in 1 2 3 4 5; do
        in_ct systemctl stop outpostd.service 2>/dev/null
        # Five starts in a row would hit the unit's start rate limit (StartLimitBurst=5 in 10 s).
        in_ct systemctl reset-failed outpostd.service
        t0=$(now_ms)
        in_ct systemctl start outpostd.service || return 1
        t1=$(now_ms)
        running || return 1
        times+=($(( t1 - t0 )))
    done
    local sorted
    sorted=($(printf '%s\n' "${times[@]}" | sort -n))
    local systemd_ms=$(( ($(prop outpostd.service ActiveEnterTimestampMonotonic) - $(prop outpostd.service InactiveExitTimestampMonotonic)) / 1000 ))
    measure "start-to-active: median ${sorted[2]} ms of 5 'systemctl start' calls (${sorted[*]}), systemd's own InactiveExit->ActiveEnter ${systemd_ms} ms"
    echo "systemctl start returned with the unit active in ${sorted[0]}..${sorted[4]} ms"
}
check start-time start_time

idle_rss() {
    sleep 3
    local pid rss current
    pid=$(main_pid) || { echo "the service has no main process"; return 1; }
    rss=$(in_ct sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
    current=$(prop outpostd.service MemoryCurrent)
    [ -n "$rss" ] && [ "$rss" -lt 65536 ] || { echo "VmRSS: '$rss' kB"; return 1; }
    measure "idle-rss: VmRSS $rss kB (MemoryCurrent=$current)"
    echo "VmRSS $rss kB"
}
check idle-rss idle_rss

# Restart=on-failure: SIGKILL of the main process brings a new one within RestartSec (2 s) and a start.
kill_restart() {
    local old t0
    old=$(main_pid) || { echo "the service has no main process"; return 1; }
    t0=$(now_ms)
    in_ct kill -9 "$old"
    wait_for 15 new_main_pid "$old" || { echo "no new main process"; in_ct systemctl status outpostd --no-pager; return 1; }
    health || { echo "no answer on /v1/health"; return 1; }
    echo "PID $old killed, PID $(prop outpostd.service MainPID) serving after $(( $(now_ms) - t0 )) ms"
}
check kill-restart kill_restart

# With a 3 s watchdog, an idle agent keeps its PID (the loop feeds it), and a frozen loop is killed and
# restarted within WatchdogSec plus RestartSec.
watchdog() {
    in_ct mkdir -p /etc/systemd/system/outpostd.service.d
    printf '[Service]\nEnvironment=OUTPOST_DEBUG_ROUTES=1\nWatchdogSec=3s\nLimitCORE=0\n' \
        | in_ct tee /etc/systemd/system/outpostd.service.d/e2e-watchdog.conf >/dev/null
    in_ct systemctl daemon-reload
    in_ct systemctl restart outpostd.service || return 1
    local pid restarts t0
    pid=$(main_pid) || return 1; restarts=$(prop outpostd.service NRestarts)
    sleep 7
    [ "$(prop outpostd.service MainPID)" = "$pid" ] || { echo "an idle agent was restarted: the loop does not feed the watchdog"; return 1; }
    t0=$(now_ms)
    in_ct curl -s --max-time 30 -X POST --unix-socket /run/outpost/outpost.sock \
        'http://localhost/v1/debug/freeze?seconds=120' >/dev/null 2>&1 &
    local curl_pid=$!
    wait_for 20 new_main_pid "$pid" || { echo "the frozen agent was not restarted"; in_ct systemctl status outpostd --no-pager; return 1; }
    local took=$(( $(now_ms) - t0 ))
    wait "$curl_pid" 2>/dev/null
    [ "$(prop outpostd.service NRestarts)" -gt "$restarts" ] || { echo "NRestarts did not grow"; return 1; }
    in_ct journalctl -u outpostd.service --no-pager | contains 'Watchdog timeout' || { echo "no watchdog timeout in the journal"; return 1; }
    health || { echo "no answer on /v1/health"; return 1; }
    echo "idle PID $pid kept 7 s; frozen, killed by the watchdog and serving again after $took ms"
}
check watchdog watchdog
# Back to the unit as shipped, whatever happened above.
in_ct rm -rf /etc/systemd/system/outpostd.service.d
in_ct systemctl daemon-reload
in_ct systemctl reset-failed outpostd.service
in_ct systemctl restart outpostd.service

# journal_after CURSOR: the unit's entries after a cursor, as JSON lines.
cursor() { in_ct journalctl -u outpostd.service -n 1 -o json --no-pager | sed -n 's/.*"__CURSOR":"\([^"]*\)".*/\1/p'; }
journal_after() { in_ct journalctl -u outpostd.service --after-cursor="$1" -o json --no-pager; }

# log.level = "debug" in the file and "systemctl reload": the same process now logs every request.
reload() {
    local pid mark
    pid=$(main_pid) || return 1
    mark=$(cursor)
    health || { echo "no answer on /v1/health"; return 1; }
    in_ct sed -i 's/^# level = "info"$/level = "debug"/' /etc/outpost/outpost.toml
    in_ct grep -qx 'level = "debug"' /etc/outpost/outpost.toml || { echo "could not edit the configuration"; return 1; }
    in_ct systemctl reload outpostd.service || return 1
    running || return 1
    in_ct curl -sf --unix-socket /run/outpost/outpost.sock http://localhost/v1/version >/dev/null || return 1
    [ "$(prop outpostd.service MainPID)" = "$pid" ] || { echo "reload restarted the process"; return 1; }
    local entries
    entries=$(journal_after "$mark")
    if printf '%s\n' "$entries" | contains '"REQUEST_PATH":"/v1/health"'; then
        echo "a request was logged at level info"; return 1
    fi
    printf '%s\n' "$entries" | contains '"MESSAGE":"configuration reloaded"' || { echo "no 'configuration reloaded' entry"; return 1; }
    printf '%s\n' "$entries" | contains '"REQUEST_PATH":"/v1/version"' || { echo "no debug entry for the request after reload"; return 1; }
    in_ct curl -sf --unix-socket /run/outpost/outpost.sock http://localhost/metrics \
        | contains '^outpost_config_reloads_total{result="ok"} 1' || { echo "outpost_config_reloads_total{result=\"ok\"} is not 1"; return 1; }
    echo "same PID $pid; request logged at debug after reload; reloads_total{ok} = 1"
}
check reload reload

journal_fields() {
    local entries
    entries=$(in_ct journalctl -u outpostd.service -o json --no-pager)
    printf '%s\n' "$entries" | grep '"SOCKET":"/run/outpost/outpost.sock"' | grep '"PRIORITY":"5"' \
        | contains '"SYSLOG_IDENTIFIER":"outpostd"' || { echo "no start-up entry with SOCKET and PRIORITY=5"; return 1; }
    printf '%s\n' "$entries" | grep '"REQUEST_PATH":"/v1/version"' | grep '"PRIORITY":"7"' | grep '"STATUS":"200"' \
        | contains '"PEER_PID":"[0-9]*"' || { echo "no request entry with REQUEST_PATH, STATUS, PEER_PID and PRIORITY=7"; return 1; }
    echo "SOCKET, PRIORITY, SYSLOG_IDENTIFIER, REQUEST_PATH, STATUS, PEER_PID present"
}
check journal-fields journal_fields

# A model in the configuration: READY comes once it is loaded, and the service (syscall filter, no W+X memory,
# its own user) generates the same greedy text as the CLI run by root outside the unit.
model_serving() {
    local prompt="The capital of France is" expected answer t0 took pid rss
    printf '\n[models.gemma3]\npath = "/srv/outpost-e2e/model.gguf"\ncontext = 512\n' \
        | in_ct tee -a /etc/outpost/outpost.toml >/dev/null
    t0=$(now_ms)
    in_ct systemctl restart outpostd.service || { in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    took=$(( $(now_ms) - t0 ))
    in_ct curl -sf --unix-socket /run/outpost/outpost.sock http://localhost/v1/ready >/dev/null \
        || { echo "/v1/ready is not 200"; in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    expected=$(in_ct outpost run --model /srv/outpost-e2e/model.gguf --prompt "$prompt" --max-tokens 8 --temperature 0 2>/dev/null) \
        || { echo "outpost run failed"; return 1; }
    answer=$(in_ct curl -sf --max-time 120 --unix-socket /run/outpost/outpost.sock http://localhost/v1/completions \
        -H 'Content-Type: application/json' \
        -d "{\"model\":\"gemma3\",\"prompt\":\"$prompt\",\"max_tokens\":8,\"temperature\":0}") \
        || { echo "the completion failed"; in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    # The text as JSON encodes it: quotes and backslashes escaped.
    local encoded=${expected//\\/\\\\}
    encoded=${encoded//\"/\\\"}
    printf '%s' "$answer" | contains -F "\"text\":\"$encoded\"" || { echo "service: $answer"; echo "outpost run: $expected"; return 1; }
    pid=$(main_pid) || return 1
    rss=$(in_ct sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
    measure "with Gemma 3 270M Q4_K_M configured: systemctl restart to active $took ms (model load included), VmRSS $rss kB after one completion"
    echo "same greedy text as outpost run: \"$expected\""
}
if [ -n "$model" ]; then
    check model-serving model_serving
else
    echo "SKIP model-serving (set OUTPOST_TEST_MODEL to a GGUF file; make e2e does)"
fi

# The installed CLI (libsodium from the package's dependencies) makes, signs and verifies a bundle on a fresh
# system, trusting the keys in the package's /etc/outpost/trusted.d by default; a key not there is refused.
bundles() {
    in_ct test -d /etc/outpost/trusted.d || { echo "/etc/outpost/trusted.d is missing"; return 1; }
    in_ct sh -c 'cd /root && outpost keygen --no-password --force --secret-key team.key --public-key team.pub >/dev/null \
        && outpost keygen --no-password --force --secret-key other.key --public-key other.pub >/dev/null \
        && outpost bundle create --model /srv/outpost-e2e/model.gguf --name gemma3 --version 1.0.0 --smoke-tokens 4 \
            --output gemma3.tar >/dev/null 2>&1 \
        && outpost bundle sign gemma3.tar --secret-key other.key >/dev/null' || { echo "create or sign failed"; return 1; }
    local refused verified
    refused=$(in_ct sh -c 'cd /root && outpost bundle verify gemma3.tar 2>&1; echo "exit $?"')
    printf '%s\n' "$refused" | contains "no trusted keys: /etc/outpost/trusted.d holds no \*.pub file" \
        || { echo "with no trusted key: $refused"; return 1; }
    in_ct install -m 0644 /root/team.pub /etc/outpost/trusted.d/team.pub
    refused=$(in_ct sh -c 'cd /root && outpost bundle verify gemma3.tar 2>&1; echo "exit $?"')
    printf '%s\n' "$refused" | contains "check 'trusted-key' failed" || { echo "signed by another key: $refused"; return 1; }
    printf '%s\n' "$refused" | contains '^exit 1$' || { echo "exit status: $refused"; return 1; }
    in_ct sh -c 'cd /root && outpost bundle sign gemma3.tar --secret-key team.key >/dev/null' || { echo "sign failed"; return 1; }
    verified=$(in_ct sh -c 'cd /root && outpost bundle verify gemma3.tar 2>/dev/null') || { echo "verify failed: $verified"; return 1; }
    printf '%s\n' "$verified" | contains '^verified: gemma3 1.0.0$' || { echo "verify said: $verified"; return 1; }
    echo "a bundle of the model made, signed and verified against /etc/outpost/trusted.d"
}
if [ -n "$model" ]; then
    check bundles bundles
else
    echo "SKIP bundles (set OUTPOST_TEST_MODEL to a GGUF file; make e2e does)"
fi

# The store under systemd: postinst made the encrypted credential, the service reads it, `outpost install` puts
# a signed bundle into the encrypted store and serves it under its own name, a restart reads the credential again
# and serves the same version, and a second version rolls back to the first.
store() {
    in_ct test -s /etc/credstore.encrypted/outpost-store.key || { echo "postinst made no credential"; return 1; }
    local mode size
    mode=$(in_ct stat -c %a /etc/credstore.encrypted/outpost-store.key)
    size=$(in_ct stat -c %s /etc/credstore.encrypted/outpost-store.key)
    [ "$mode" = 400 ] && [ "$size" -gt 32 ] || { echo "credential mode $mode, $size bytes (want 0400, encrypted)"; return 1; }
    in_ct sh -c 'cd /root && outpost bundle create --model /srv/outpost-e2e/model.gguf --name site-model --version 1.0.0 \
            --smoke-tokens 4 --output site-1.tar >/dev/null 2>&1 \
        && outpost bundle create --model /srv/outpost-e2e/model.gguf --name site-model --version 1.1.0 \
            --smoke-tokens 4 --output site-2.tar >/dev/null 2>&1 \
        && outpost bundle sign site-1.tar --secret-key team.key >/dev/null && outpost bundle sign site-2.tar --secret-key team.key >/dev/null' \
        || { echo "bundles not made"; return 1; }
    local out
    out=$(in_ct sh -c 'cd /root && outpost install site-1.tar 2>&1') || { echo "install failed: $out"; in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    printf '%s\n' "$out" | contains '^installed site-model 1.0.0, active now' || { echo "install said: $out"; return 1; }
    local answer
    answer=$(in_ct curl -sf --max-time 120 --unix-socket /run/outpost/outpost.sock http://localhost/v1/completions \
        -H 'Content-Type: application/json' -d '{"model":"site-model","prompt":"Hello","max_tokens":4,"temperature":0}') \
        || { echo "no completion from the stored model"; in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    in_ct systemctl restart outpostd.service || { in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    local again
    again=$(in_ct curl -sf --max-time 120 --unix-socket /run/outpost/outpost.sock http://localhost/v1/completions \
        -H 'Content-Type: application/json' -d '{"model":"site-model","prompt":"Hello","max_tokens":4,"temperature":0}') \
        || { echo "no completion after a restart"; in_ct journalctl -u outpostd -n 20 --no-pager; return 1; }
    local text1 text2
    text1=$(printf '%s' "$answer" | sed -n 's/.*"text":"\([^"]*\)".*/\1/p')
    text2=$(printf '%s' "$again" | sed -n 's/.*"text":"\([^"]*\)".*/\1/p')
    [ -n "$text1" ] && [ "$text1" = "$text2" ] || { echo "before: $answer after: $again"; return 1; }
    in_ct sh -c 'cd /root && outpost install site-2.tar >/dev/null 2>&1 && outpost rollback site-model >/dev/null' \
        || { echo "second install or rollback failed"; return 1; }
    out=$(in_ct outpost versions)
    printf '%s\n' "$out" | contains '^\* site-model 1.0.0' || { echo "versions: $out"; return 1; }
    in_ct sh -c 'for f in /var/lib/outpost/store/blobs/*; do head -c 4 "$f"; echo; done' | contains '^GGUF' \
        && { echo "a stored blob starts with a GGUF header"; return 1; }
    in_ct rm -f /etc/outpost/trusted.d/team.pub /root/gemma3.tar /root/site-1.tar /root/site-2.tar
    echo "credential 0400, install, serve, restart and rollback through the encrypted store"
}
if [ -n "$model" ]; then
    check store store
else
    echo "SKIP store (set OUTPOST_TEST_MODEL to a GGUF file; make e2e does)"
fi

# The configuration edited above and a state file survive an upgrade, and the new version serves.
upgrade() {
    [ "$next_status" = 0 ] || { cat "$work/next.txt"; return 1; }
    local next
    next=$(tail -n 1 "$work/next.txt")
    cp "$next" "$root/root/"
    printf '# kept across upgrades\n' | in_ct tee -a /etc/outpost/outpost.toml >/dev/null
    in_ct sh -c 'echo e2e-state > /var/lib/outpost/e2e-state && chown outpost:outpost /var/lib/outpost/e2e-state'
    local pid config_before
    pid=$(main_pid) || return 1
    config_before=$(in_ct sha256sum /etc/outpost/outpost.toml)
    in_ct env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "/root/$(basename "$next")" >"$work/upgrade.txt" 2>&1 \
        || { tail -n 20 "$work/upgrade.txt"; return 1; }
    [ "$(in_ct dpkg-query -W -f='${Version}' outpost)" = "$next_version" ] || { echo "version after upgrade: $(in_ct dpkg-query -W -f='${Version}' outpost)"; return 1; }
    [ "$(in_ct sha256sum /etc/outpost/outpost.toml)" = "$config_before" ] || { echo "the configuration changed"; return 1; }
    ! in_ct sh -c 'ls /etc/outpost/*.dpkg-* 2>/dev/null' | contains . || { echo "dpkg left $(in_ct sh -c 'ls /etc/outpost/*.dpkg-*')"; return 1; }
    [ "$(in_ct cat /var/lib/outpost/e2e-state)" = e2e-state ] || { echo "the state file is gone"; return 1; }
    [ "$(in_ct stat -c %U /var/lib/outpost/e2e-state)" = outpost ] || return 1
    wait_for 10 new_main_pid "$pid" || { echo "the service was not restarted on upgrade"; return 1; }
    health || { echo "no answer on /v1/health"; return 1; }
    echo "$version -> $next_version: config and state kept, restarted (PID $pid -> $(prop outpostd.service MainPID))"
}
wait "$next_pid"; next_status=$?
check upgrade upgrade

# remove keeps configuration, state and user; purge deletes them and everything the package made.
remove() {
    in_ct env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q outpost >"$work/remove.txt" 2>&1 || { tail -n 20 "$work/remove.txt"; return 1; }
    ! in_ct test -e /usr/bin/outpostd || { echo "/usr/bin/outpostd is still there"; return 1; }
    [ "$(prop outpostd.service ActiveState)" != active ] && [ "$(prop outpostd.socket ActiveState)" != active ] \
        || { echo "units still active after remove"; return 1; }
    in_ct test -f /etc/outpost/outpost.toml || { echo "remove deleted the configuration"; return 1; }
    in_ct test -f /var/lib/outpost/e2e-state || { echo "remove deleted the state"; return 1; }
    in_ct getent passwd outpost >/dev/null || { echo "remove deleted the user"; return 1; }
    echo "binaries gone, units stopped; configuration, state and user kept"
}
check remove remove

purge() {
    in_ct env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q outpost >"$work/purge.txt" 2>&1 || { tail -n 20 "$work/purge.txt"; return 1; }
    local left=""
    for path in /usr/bin/outpostd /usr/bin/outpost /usr/lib/systemd/system/outpostd.service /usr/lib/systemd/system/outpostd.socket \
        /usr/lib/sysusers.d/outpost.conf /usr/share/doc/outpost /etc/outpost /var/lib/outpost /run/outpost \
        /etc/credstore.encrypted/outpost-store.key; do
        in_ct test -e "$path" && left="$left $path"
    done
    left="$left $(in_ct find /etc/systemd/system -name 'outpostd*' 2>/dev/null | tr '\n' ' ')"
    in_ct getent passwd outpost >/dev/null && left="$left user:outpost"
    for group in outpost outpost-admin; do in_ct getent group "$group" >/dev/null && left="$left group:$group"; done
    local status
    status=$(in_ct dpkg-query -W -f='${Status}' outpost 2>/dev/null)
    case "$status" in ""|*" not-installed") ;; *) left="$left dpkg:$status" ;; esac
    left=$(echo $left)
    [ -z "$left" ] || { echo "left behind: $left"; return 1; }
    echo "binaries, units, /etc/outpost, /var/lib/outpost, /run/outpost, the store key, user and groups gone"
}
check purge purge

# --- the package's own figures, and lintian ----------------------------------------------------------------

lint() {
    grep -v 'running with root privileges' "$work/lintian.txt"
    [ "$lintian_status" = 0 ] || return 1
    echo "$(grep -c '^E:' "$work/lintian.txt") errors, $(grep -c '^W:' "$work/lintian.txt") warnings"
}
wait "$lintian_pid"; lintian_status=$?
check lintian lint

measure "deb-size: $(stat -c %s "$deb") bytes ($(basename "$deb"))"
measure "installed-size: $(dpkg-deb -f "$deb" Installed-Size) KiB"
measure "e2e wall time: $(( ($(now_ms) - started_ms) / 1000 )) s"

[ "$failed" = 0 ] && echo "e2e: all checks passed" || echo "e2e: FAILED"
exit "$failed"
