#!/usr/bin/env bash
# Run any management command against the demo with the demo's settings (same database, same
# PORT-derived URLs), e.g. while `make demo` is running:
#   make manage ARGS="lockedcarts_send_digest --dry-run"
#   PORT=8100 scripts/manage.sh lockedcarts_reconcile
set -euo pipefail
source "$(dirname "$0")/demo-env.sh"
cd "$ROOT/example_site"
exec "$PY" manage.py "$@"
