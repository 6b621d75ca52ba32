#!/usr/bin/env bash
# The full reconciler benchmark as recorded in bench/RESULTS.md: 1M rows with medians of 3, then 10M rows.
# Needs reladiff (pip install reladiff[postgresql,mysql]); set RELADIFF to its path if not on PATH.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${OUT:-bench/reconcile/results.jsonl}
run() { npx ts-node --transpile-only bench/reconcile/run.ts --reladiff "${RELADIFF:-reladiff}" --out "$out" "$@"; }
run --sizes 1000000 --repeat 3
run --sizes 10000000 --variants int --repeat 1 --reladiff-timeout 900
run --sizes 10000000 --variants text --repeat 1 --reladiff-timeout 900
npx ts-node --transpile-only bench/reconcile/table.ts "$out"
