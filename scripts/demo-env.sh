# Sourced by scripts/demo.sh and scripts/manage.sh: the demo's settings, derived from PORT, so a
# management command run by hand talks to (and links to) the demo that is running on that port.
#   PYTHON          the venv's python (default .venv/bin/python)
#   PORT            the demo's port on 127.0.0.1 (default 8000)
#   LOCKEDCARTS_DB  SQLite file (default example_site/db.sqlite3)
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
PY=${PYTHON:-.venv/bin/python}
case "$PY" in /*) ;; */*) PY="$ROOT/$PY" ;; esac
PORT=${PORT:-8000}
HOST=127.0.0.1
BASE="http://$HOST:$PORT"

# Everything that names the server's own address follows PORT (the site calls the offline
# PayPal sandbox, and the sandbox posts webhooks, on this same server).
export DJANGO_SETTINGS_MODULE=example_site.settings
export LOCKEDCARTS_DB=${LOCKEDCARTS_DB:-$ROOT/example_site/db.sqlite3}
export WAGTAILADMIN_BASE_URL=${WAGTAILADMIN_BASE_URL:-$BASE}
export PAYPAL_API_BASE=${PAYPAL_API_BASE:-$BASE/paypal-sandbox}
export PAYPAL_SANDBOX_WEBHOOK_URL=${PAYPAL_SANDBOX_WEBHOOK_URL:-$BASE/cart/paypal/webhook/}
export PYTHONUNBUFFERED=1
# The demo (and only the demo) runs with DEBUG and the sandbox's fault/settle controls on. Its
# secrets (Django key, sandbox credentials, webhook id, signing key) are generated on first run
# into .demo/, outside the repository (example_site/example_site/demo_secrets.py).
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
export PAYPAL_SANDBOX_CONTROL=${PAYPAL_SANDBOX_CONTROL:-1}
export LOCKEDCARTS_DEMO_DIR=${LOCKEDCARTS_DEMO_DIR:-$ROOT/.demo}
