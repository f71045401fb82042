#!/usr/bin/env bash
# Create .venv and install qualcx with its models and test tools (skipped when up to date).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for candidate in python3.11 python3.12 python3.13 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then PY="$candidate"; break; fi
  done
fi
"$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || {
  echo "qualcx needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2; exit 1; }
[ -x .venv/bin/python ] || "$PY" -m venv .venv
want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ "$(cat .venv/.qualcx-installed 2>/dev/null)" != "$want" ]; then
  echo "Installing qualcx and its models into .venv (first time: two to three minutes)..." >&2
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".[test]"
  echo "$want" > .venv/.qualcx-installed
fi
