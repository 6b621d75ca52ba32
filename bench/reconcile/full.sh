#!/usr/bin/env bash
# The full reconciler benchmark as recorded in bench/RESULTS.md: 1M rows with medians of 3, then 10M rows per key
# type, each into its own results file. Needs reladiff (pip install "reladiff[postgresql,mysql]"); set RELADIFF to
# its path if not on PATH. About 2 hours on 2 cores; run it alone (flock /tmp/cdc-heavy.lock ...).
set -euo pipefail
cd "$(dirname "$0")/../.."
run() { npx ts-node --transpile-only bench/reconcile/run.ts --reladiff "${RELADIFF:-reladiff}" "$@"; }
run --sizes 1000000 --repeat 3 --out bench/reconcile/results-1m.jsonl
run --sizes 10000000 --variants int --repeat 1 --reladiff-timeout 900 --out bench/reconcile/results-10m-int.jsonl
run --sizes 10000000 --variants text --repeat 1 --reladiff-timeout 900 --out bench/reconcile/results-10m-text.jsonl
for f in 1m 10m-int 10m-text; do npx ts-node --transpile-only bench/reconcile/table.ts "bench/reconcile/results-$f.jsonl"; done
