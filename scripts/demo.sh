#!/usr/bin/env bash
# Set up, then analyse the demo project (this repository) and print where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/qualcx -p . run "$@"
