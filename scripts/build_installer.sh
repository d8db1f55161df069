#!/usr/bin/env bash
# Build the one-folder Caliper program with PyInstaller and run its self-check.
#
#   scripts/build_installer.sh [DIST_DIR]
#
# Uses the project's virtual environment (.venv) and installs PyInstaller into
# it when missing.  Prints the size of the built folder and the time the
# self-check took; exits non-zero when the build or the self-check fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
DIST=${1:-dist}
WORK=${WORK_DIR:-build/pyinstaller}
"$PY" -m PyInstaller --version >/dev/null 2>&1 || "$PY" -m pip install -q "pyinstaller>=6.6"
start=$(date +%s)
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$DIST" --workpath "$WORK" build_installer.spec
echo "build: $(( $(date +%s) - start )) s"
echo "size: $(du -sh "$DIST/caliper" | cut -f1) ($DIST/caliper)"
home=$(mktemp -d)
t0=$(date +%s%N)
CALIPER_HOME="$home" QT_QPA_PLATFORM=offscreen "$DIST/caliper/caliper" --self-check
t1=$(date +%s%N)
echo "self-check: $(( (t1 - t0) / 1000000 )) ms"
rm -rf "$home"
