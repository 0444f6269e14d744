#!/usr/bin/env bash
# make month: a simulated month of checkouts (benchmarks/month.py) on a throwaway PostgreSQL.
# Arguments go to benchmarks/month.py (--shoppers N, --seed S, --days D).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
PGDIR=$(mktemp -d /tmp/lockedcarts-month.XXXXXX)
trap 'scripts/pg.sh stop "$PGDIR"' EXIT
port=$(scripts/pg.sh start "$PGDIR")
LOCKEDCARTS_PG_PORT=$port "$PY" benchmarks/month.py "$@"
echo "Report: benchmarks/results/month.md, chart: benchmarks/results/month.png"
