#!/usr/bin/env bash
# `make benchmark`: a throwaway PostgreSQL, a fresh database, the example site migrated, then
# benchmarks/run.py at 10k and 1M carts (BENCH_LARGE=200000 for a quick run). The server is
# stopped by its PID on every exit path. Results: benchmarks/results/latest.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export BENCH_T0=$(date +%s.%N)

PGDIR=$(mktemp -d /tmp/lockedcarts-bench-pg.XXXXXX)
cleanup() { scripts/pg.sh stop "$PGDIR" || true; }
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$(scripts/pg.sh start "$PGDIR")
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DB=lockedcarts_bench
"$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB"
echo "PostgreSQL $("$BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, database $DB"

export DATABASE_URL_PG_PORT=$port PGDATABASE=$DB PGPORT=$port
export DJANGO_SETTINGS_MODULE=benchmarks.settings
export PYTHONPATH="$PWD:$PWD/example_site${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -m benchmarks.run "$@"

# The month of checkouts (make month) belongs to the same report; BENCH_MONTH_SHOPPERS=0 skips it.
if [ "${BENCH_MONTH_SHOPPERS:-1000}" != 0 ]; then
  env -u DJANGO_SETTINGS_MODULE PYTHON="$PY" scripts/month.sh --shoppers "${BENCH_MONTH_SHOPPERS:-1000}"
  { echo; cat benchmarks/results/month.md; } >> benchmarks/results/latest.md
fi
