#!/usr/bin/env bash
# Start/stop a private Docker daemon for msdfix tests and CI (no registry access needed).
#
#   eval "$(tests/support/dockerd.sh start)"   # starts dockerd (idempotent), exports DOCKER_HOST
#   tests/support/dockerd.sh status            # exit 0 when the daemon answers
#   tests/support/dockerd.sh stop
#
# Everything lives under $MSDFIX_DOCKER_DIR (default /tmp/msdfix-docker):
#   data/ (--data-root), exec/ (--exec-root), docker.sock, dockerd.pid, dockerd.log
# Must run as root (or via sudo). Uses Debian's /usr/bin/docker client (built-in BuildKit via
# DOCKER_BUILDKIT=1; there is no buildx plugin). Storage driver: overlay2, falling back to vfs
# when overlay2 does not work (override with MSDFIX_DOCKER_STORAGE_DRIVER).
# Only the `export ...` lines go to stdout; all diagnostics go to stderr.
set -euo pipefail

DIR="${MSDFIX_DOCKER_DIR:-/tmp/msdfix-docker}"
SOCK="$DIR/docker.sock"
PIDFILE="$DIR/dockerd.pid"
LOG="$DIR/dockerd.log"
DOCKER="${MSDFIX_DOCKER_CLI:-/usr/bin/docker}"
[ -x "$DOCKER" ] || DOCKER="$(command -v docker || true)"
DOCKERD="$(command -v dockerd || echo /usr/sbin/dockerd)"
TIMEOUT="${MSDFIX_DOCKER_TIMEOUT:-60}"

log() { echo "dockerd.sh: $*" >&2; }

print_env() {
    echo "export DOCKER_HOST=unix://$SOCK"
    echo "export DOCKER_BUILDKIT=1"
}

answers() { DOCKER_HOST="unix://$SOCK" "$DOCKER" info >/dev/null 2>&1; }

running_pid() {
    [ -f "$PIDFILE" ] || return 1
    local pid; pid="$(cat "$PIDFILE" 2>/dev/null || true)"
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

launch() {  # $1 = storage driver; returns 0 when the daemon answers
    local driver="$1" bridge_opts=()
    mkdir -p "$DIR/data" "$DIR/exec"
    rm -f "$SOCK" "$PIDFILE"
    # A private bridge name so we do not collide with a system dockerd's docker0.
    if [ -n "${MSDFIX_DOCKER_BRIDGE_IP:-}" ]; then bridge_opts+=(--bip "$MSDFIX_DOCKER_BRIDGE_IP"); fi
    log "starting $DOCKERD (storage driver $driver, log $LOG)"
    # setsid: detach from the caller's process group so `eval $(...)` returns promptly.
    DOCKER_HOST= setsid "$DOCKERD" \
        --data-root "$DIR/data" \
        --exec-root "$DIR/exec" \
        -H "unix://$SOCK" \
        --pidfile "$PIDFILE" \
        --storage-driver "$driver" \
        "${bridge_opts[@]}" \
        >>"$LOG" 2>&1 </dev/null &
    local pid=$! waited=0
    while [ "$waited" -lt "$TIMEOUT" ]; do
        if answers; then
            log "daemon up (pid $pid, driver $driver) after ${waited}s"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            log "dockerd exited early with driver $driver; last log lines:"
            tail -n 15 "$LOG" >&2 || true
            return 1
        fi
        sleep 1; waited=$((waited + 1))
    done
    log "dockerd did not answer within ${TIMEOUT}s (driver $driver); stopping it"
    kill "$pid" 2>/dev/null || true
    return 1
}

cmd_start() {
    if [ "$(id -u)" != 0 ]; then
        log "must run as root (try: sudo $0 start)"; exit 1
    fi
    [ -x "$DOCKERD" ] || { log "dockerd not found (apt-get install docker.io)"; exit 1; }
    [ -x "$DOCKER" ] || { log "docker client not found (apt-get install docker.io)"; exit 1; }
    if answers; then
        log "already running at unix://$SOCK"; print_env; return 0
    fi
    if pid="$(running_pid)"; then
        log "dockerd pid $pid exists but does not answer; stopping it first"; cmd_stop
    fi
    local drivers
    if [ -n "${MSDFIX_DOCKER_STORAGE_DRIVER:-}" ]; then
        drivers="$MSDFIX_DOCKER_STORAGE_DRIVER"
    elif [ -f "$DIR/driver" ]; then
        drivers="$(cat "$DIR/driver")"   # data-root is tied to the driver used first
    else
        drivers="overlay2 vfs"
    fi
    for d in $drivers; do
        if launch "$d"; then
            echo "$d" >"$DIR/driver"; print_env; return 0
        fi
    done
    log "could not start dockerd (tried: $drivers). See $LOG"
    exit 1
}

cmd_stop() {
    local pid
    if ! pid="$(running_pid)"; then log "not running"; return 0; fi
    kill "$pid"
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || { log "stopped (pid $pid)"; rm -f "$PIDFILE"; return 0; }
        sleep 1
    done
    log "dockerd pid $pid did not stop in 30s; sending SIGKILL"
    kill -9 "$pid" 2>/dev/null || true
}

cmd_status() {
    if answers; then log "running at unix://$SOCK"; print_env; else log "not running"; exit 1; fi
}

case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    env) print_env ;;
    *) echo "usage: $0 start|stop|status|env  (dir: $DIR)" >&2; exit 2 ;;
esac
