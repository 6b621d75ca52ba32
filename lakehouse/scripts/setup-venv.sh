#!/usr/bin/env bash
# Creates the lakehouse writer's virtualenv at .cache/lakehouse-venv from the hashed lock, so every
# package file is the one the lock names (pip --require-hashes, wheels only). Instant when the venv
# already matches the lock and the interpreter; otherwise it is rebuilt from scratch.
#   lakehouse/scripts/setup-venv.sh           runtime and test packages (pytest, duckdb)
#   lakehouse/scripts/setup-venv.sh --runtime only what the writer needs (the image)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
repo="$(cd "$here/.." && pwd)"
lock="$here/requirements-test.lock"
venv="${LAKEHOUSE_VENV:-$repo/.cache/lakehouse-venv}"
case "${1:-}" in
  "") ;;
  --runtime) lock="$here/requirements.lock" ;;
  *) echo "usage: lakehouse/scripts/setup-venv.sh [--runtime]" >&2; exit 2 ;;
esac

python="${PYTHON:-}"
if [ -z "$python" ]; then
  for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      python="$candidate"; break
    fi
  done
fi
if [ -z "$python" ]; then
  echo "[lakehouse] needs Python 3.11 or newer (apt-get install python3 python3-venv)" >&2; exit 1
fi
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  echo "[lakehouse] $python cannot create virtualenvs: apt-get install python3-venv" >&2; exit 1
fi

stamp="$venv/.lock-stamp"
want="$("$python" -c 'import sys; print(sys.version)' | head -1) $(sha256sum "$lock" | cut -d' ' -f1) $here/src"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
  exit 0
fi

echo "[lakehouse] creating $venv from $(basename "$lock") with $python"
rm -rf "$venv"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
  --require-hashes --only-binary :all: --no-deps -r "$lock"
# The writer runs from the source tree (no build step, no setuptools in the venv).
site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
echo "$here/src" > "$site/cdc_lakehouse.pth"
echo "$want" > "$stamp"
echo "[lakehouse] ready: $venv/bin/python -m cdc_lakehouse --help"
