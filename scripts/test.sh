#!/usr/bin/env bash
# The whole suite: SQLite, then PostgreSQL (throwaway server on 127.0.0.1) when its binaries
# exist (with the scaling-out test when redis-server exists too), then the browser tests when
# Chromium exists. LOCKEDCARTS_REQUIRE_ALL=1 turns a missing PostgreSQL, redis-server or Chromium
# into a failure instead of a skip (CI sets it).
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
REQUIRE_ALL=${LOCKEDCARTS_REQUIRE_ALL:-0}
export PYTHONWARNINGS=${PYTHONWARNINGS:-}
status=0
summary=()

run() { # run NAME pytest-args...
  local name=$1; shift
  echo "=== $name: pytest $*"
  "$PY" -m pytest "$@"; local rc=$?
  [ $rc -eq 5 ] && rc=0   # no tests selected in this phase is not a failure
  summary+=("$name: exit $rc"); [ $rc -ne 0 ] && status=1
}

echo "=== ruff: lint and format"
if "$PY" -m ruff check --quiet . && "$PY" -m ruff format --check --quiet .; then
  summary+=("ruff: ok")
else
  summary+=("ruff: failed"); status=1
fi

# PostgreSQL-only tests (real row locks, a real qcluster) run in the PostgreSQL pass below; the
# scaling-out test there also needs Debian's redis-server (it starts its own on 127.0.0.1).
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$REQUIRE_ALL" = 1 ]; then
    echo "redis-server missing and LOCKEDCARTS_REQUIRE_ALL=1"; status=1; summary+=("redis: missing")
  else
    echo "redis-server not installed: the scaling-out test (tests/test_scaling_out.py) will skip"
  fi
fi

run "sqlite" -m "not browser and not postgres" -q "$@"

PGDIR=""
cleanup() { [ -n "$PGDIR" ] && scripts/pg.sh stop "$PGDIR"; }
trap cleanup EXIT
if ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
  PGDIR=$(mktemp -d /tmp/lockedcarts-pg.XXXXXX)
  if port=$(scripts/pg.sh start "$PGDIR"); then
    echo "PostgreSQL on 127.0.0.1:$port"
    LOCKEDCARTS_PG_PORT=$port run "postgresql" -m "not browser and not install" -q "$@"
    BROWSER_DB_PORT=$port
  else
    echo "PostgreSQL failed to start:"; cat "$PGDIR"/*.log 2>/dev/null | tail -20; status=1
  fi
elif [ "$REQUIRE_ALL" = 1 ]; then
  echo "PostgreSQL binaries missing and LOCKEDCARTS_REQUIRE_ALL=1"; status=1
else
  echo "PostgreSQL not installed: skipping the PostgreSQL run"
fi

CHROMIUM=${LOCKEDCARTS_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then
  LOCKEDCARTS_PG_PORT=${BROWSER_DB_PORT:-} LOCKEDCARTS_CHROMIUM=$CHROMIUM run "browser" -m browser -q "$@"
elif [ "$REQUIRE_ALL" = 1 ]; then
  echo "Chromium missing at $CHROMIUM and LOCKEDCARTS_REQUIRE_ALL=1"; status=1
else
  echo "Chromium not installed: skipping the browser tests"
fi

printf '%s\n' "${summary[@]}"
exit $status
