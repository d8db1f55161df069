#!/usr/bin/env bash
# A throw-away Orthanc PACS on the loopback interface, for Caliper's PACS tests
# and for trying `caliper pacs` by hand.
#
#   scripts/orthanc.sh start WORKDIR [HTTP_PORT] [DICOM_PORT] [CALIPER_AET] [CALIPER_PORT] [ORTHANC_AET]
#   scripts/orthanc.sh load  WORKDIR DIR       # POST every file under DIR to /instances
#   scripts/orthanc.sh stop  WORKDIR
#   scripts/orthanc.sh status WORKDIR
#
# Ports left out (or 0) are chosen free.  `start` installs the Debian packages
# orthanc + orthanc-dicomweb when they are missing, writes its own config into
# WORKDIR (storage too), runs the Orthanc binary in the background bound to
# 127.0.0.1 only and waits for /system.  WORKDIR/orthanc.env then holds
# HTTP_PORT, DICOM_PORT, ORTHANC_AET, CALIPER_AET, CALIPER_PORT and PID.
# Exit codes: 0 ok, 1 failure, 2 usage, 3 Orthanc cannot be installed.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
TEMPLATES="$HERE/orthanc"

usage() { sed -n '4,8p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "orthanc.sh: $*" >&2; exit 1; }

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

plugin_path() {
    local p
    for p in $(dpkg -L orthanc-dicomweb 2>/dev/null | grep -E 'libOrthancDicomWeb\.so' || true) \
             /usr/share/orthanc/plugins/libOrthancDicomWeb.so; do
        if [ -f "$p" ]; then echo "$p"; return 0; fi
    done
    return 1
}

ensure_installed() {
    if command -v Orthanc >/dev/null 2>&1 && plugin_path >/dev/null; then return 0; fi
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "orthanc.sh: Orthanc missing and not root (no sudo)" >&2; exit 3; }
        sudo="sudo -n"
    fi
    echo "orthanc.sh: installing orthanc orthanc-dicomweb" >&2
    if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -o DPkg::Lock::Timeout=600 \
            orthanc orthanc-dicomweb >&2; then
        $sudo apt-get update -o DPkg::Lock::Timeout=600 >&2 || true
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -o DPkg::Lock::Timeout=600 \
            orthanc orthanc-dicomweb >&2 || { echo "orthanc.sh: apt-get install orthanc failed" >&2; exit 3; }
    fi
    command -v Orthanc >/dev/null 2>&1 && plugin_path >/dev/null \
        || { echo "orthanc.sh: Orthanc or its DICOMweb plugin still missing after install" >&2; exit 3; }
}

# Build the LD_PRELOAD shim that keeps Orthanc on 127.0.0.1 (Orthanc 1.10 has no bind option).
build_shim() {
    local out="$1/loopback_bind.so"
    if command -v cc >/dev/null 2>&1 && cc -shared -fPIC -O2 -o "$out" "$TEMPLATES/loopback_bind.c" -ldl 2>/dev/null; then
        echo "$out"
    fi
}

http_get() {  # URL -> exit status 0 when the server answers 200
    if command -v curl >/dev/null 2>&1; then
        curl -sf -o /dev/null --max-time 2 "$1"
    else
        python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null
    fi
}

cmd_start() {
    local work="${1:?}" http="${2:-0}" dicom="${3:-0}" caet="${4:-CALIPER}" cport="${5:-0}" oaet="${6:-ORTHANC}"
    mkdir -p "$work/storage"
    work="$(cd "$work" && pwd)"
    if [ -f "$work/orthanc.env" ]; then
        # shellcheck disable=SC1091
        . "$work/orthanc.env"
        if kill -0 "$PID" 2>/dev/null; then die "already running in $work (pid $PID)"; fi
    fi
    ensure_installed
    [ "$http" = 0 ] && http="$(free_port)"
    [ "$dicom" = 0 ] && dicom="$(free_port)"
    [ "$cport" = 0 ] && cport="$(free_port)"
    local plugin; plugin="$(plugin_path)"
    sed -e "s|@WORKDIR@|$work|g" -e "s|@PLUGIN@|$plugin|g" -e "s|@HTTP_PORT@|$http|g" \
        -e "s|@DICOM_PORT@|$dicom|g" -e "s|@ORTHANC_AET@|$oaet|g" -e "s|@CALIPER_AET@|$caet|g" \
        -e "s|@CALIPER_PORT@|$cport|g" "$TEMPLATES/orthanc.json.in" > "$work/orthanc.json"
    local shim; shim="$(build_shim "$work")"
    [ -n "$shim" ] || echo "orthanc.sh: warning: no C compiler, Orthanc listens on all interfaces (HTTP still refuses remote clients)" >&2
    LD_PRELOAD="${shim}" nohup Orthanc "$work/orthanc.json" > "$work/orthanc.log" 2>&1 < /dev/null &
    local pid=$!
    cat > "$work/orthanc.env" <<ENV
HTTP_PORT=$http
DICOM_PORT=$dicom
ORTHANC_AET=$oaet
CALIPER_AET=$caet
CALIPER_PORT=$cport
PID=$pid
ENV
    local i
    for i in $(seq 1 300); do
        if http_get "http://127.0.0.1:$http/system"; then
            echo "orthanc.sh: Orthanc up (pid $pid) http://127.0.0.1:$http dicom $oaet@127.0.0.1:$dicom" >&2
            cat "$work/orthanc.env"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || { tail -n 20 "$work/orthanc.log" >&2; die "Orthanc exited during start-up"; }
        sleep 0.1
    done
    kill "$pid" 2>/dev/null || true
    tail -n 20 "$work/orthanc.log" >&2
    die "Orthanc did not answer /system within 30 s"
}

cmd_load() {
    local work="${1:?}" dir="${2:?}" ok=0 bad=0 f
    [ -f "$work/orthanc.env" ] || die "not started in $work"
    # shellcheck disable=SC1091
    . "$work/orthanc.env"
    [ -d "$dir" ] || die "no such folder: $dir"
    while IFS= read -r -d '' f; do
        if command -v curl >/dev/null 2>&1; then
            if curl -sf -o /dev/null -X POST -H 'Content-Type: application/dicom' \
                    --data-binary "@$f" "http://127.0.0.1:$HTTP_PORT/instances"; then
                ok=$((ok + 1)); else bad=$((bad + 1)); echo "orthanc.sh: rejected $f" >&2; fi
        elif python3 - "$f" "$HTTP_PORT" <<'PY'
import sys, urllib.request
data = open(sys.argv[1], "rb").read()
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[2]}/instances", data=data, method="POST")
urllib.request.urlopen(req, timeout=30)
PY
        then ok=$((ok + 1)); else bad=$((bad + 1)); echo "orthanc.sh: rejected $f" >&2; fi
    done < <(find "$dir" -type f -print0 | sort -z)
    echo "orthanc.sh: loaded $ok files ($bad rejected)" >&2
    [ "$ok" -gt 0 ] || die "nothing loaded from $dir"
}

cmd_stop() {
    local work="${1:?}"
    [ -f "$work/orthanc.env" ] || { echo "orthanc.sh: not started in $work" >&2; return 0; }
    # shellcheck disable=SC1091
    . "$work/orthanc.env"
    if kill -0 "$PID" 2>/dev/null; then
        kill -CONT "$PID" 2>/dev/null || true   # a test may have paused it
        kill "$PID"
        local i
        for i in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$PID" 2>/dev/null && kill -9 "$PID" 2>/dev/null || true
    fi
    rm -f "$work/orthanc.env"
    echo "orthanc.sh: stopped" >&2
}

cmd_status() {
    local work="${1:?}"
    [ -f "$work/orthanc.env" ] || { echo "stopped"; return 1; }
    # shellcheck disable=SC1091
    . "$work/orthanc.env"
    if kill -0 "$PID" 2>/dev/null && http_get "http://127.0.0.1:$HTTP_PORT/system"; then
        echo "running"; cat "$work/orthanc.env"
    else
        echo "stopped"; return 1
    fi
}

[ $# -ge 2 ] || usage
action="$1"; shift
case "$action" in
    start) cmd_start "$@" ;;
    load) [ $# -ge 2 ] || usage; cmd_load "$@" ;;
    stop) cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    *) usage ;;
esac
