#!/usr/bin/env bash
# Set up, then analyse the demo project (this repository) and print where the report is.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# The researcher's sample of human codes (codebook/human-codes.csv) is anchored to the
# ingested transcripts before the run, so the report shows the machine's agreement with it.
# Importing it again adds nothing.
.venv/bin/qualcx -p . -q ingest > /dev/null
.venv/bin/qualcx -p . -q import-codes codebook/human-codes.csv
exec .venv/bin/qualcx -p . run "$@"
