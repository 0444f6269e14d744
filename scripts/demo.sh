#!/usr/bin/env bash
# `make demo`: migrate, create the admin login, load the demo data, then run the web server and
# a django-q2 cluster side by side until Ctrl-C (which stops both).
#
# Environment:
#   PYTHON          the venv's python (the Makefile passes .venv/bin/python)
#   PORT            web server port on 127.0.0.1 (default 8000)
#   LOCKEDCARTS_DB  SQLite file (default example_site/db.sqlite3)
#   DEMO_NO_SERVE=1 prepare the database and exit (CI, tests)
#   DEMO_RESET=1    start from an empty database
set -euo pipefail
source "$(dirname "$0")/demo-env.sh"
cd "$ROOT"
ADMIN_USER=admin
ADMIN_PASSWORD=changeme

cd example_site
manage() { "$PY" manage.py "$@"; }
elapsed() { echo $(( $(date +%s%N) / 1000000 - $1 )); }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

if [ "${DEMO_RESET:-0}" = 1 ]; then
  echo "== DEMO_RESET=1: removing $LOCKEDCARTS_DB"
  rm -f "$LOCKEDCARTS_DB"
fi

echo "== Database: $LOCKEDCARTS_DB"
t=$(now_ms); manage migrate --no-input -v 0; echo "   migrated in $(elapsed "$t") ms"

t=$(now_ms)
manage shell --no-imports -c "
from django.contrib.auth import get_user_model
User = get_user_model()
if User.objects.filter(username='$ADMIN_USER').exists():
    print('   admin login $ADMIN_USER already exists (password unchanged)')
else:
    User.objects.create_superuser('$ADMIN_USER', 'admin@example.com', '$ADMIN_PASSWORD', first_name='Shop', last_name='Admin')
    print('   created admin login $ADMIN_USER / $ADMIN_PASSWORD')
"
echo "   admin login checked in $(elapsed "$t") ms"

t=$(now_ms); manage seed_demo; echo "   demo data in $(elapsed "$t") ms"

banner() {
  cat <<EOF

  Shop            $BASE/
  Cart            $BASE/cart/
  Wagtail admin   $BASE/admin/            login: $ADMIN_USER / $ADMIN_PASSWORD
  Locked carts    $BASE/admin/lockedcarts/carts/?cart_filter=locked
  PayPal sandbox  $BASE/paypal-sandbox/  (offline PayPal API; its pay page opens at checkout)
  Customers       alice, bob, chloe       password: demo
  E-mails         $ROOT/example_site/sent_mail/
  Commands        make manage ARGS="lockedcarts_send_digest --dry-run"   (PORT=$PORT, this database)
  No-return lock  check out, leave PayPal's page without choosing: locked after 2 minutes

EOF
}

if [ "${DEMO_NO_SERVE:-0}" = 1 ]; then
  echo "== DEMO_NO_SERVE=1: prepared, not starting the servers. Run 'make demo' to serve:"
  banner
  exit 0
fi

# Each server runs in its own process group (set -m), so Ctrl-C reaches this script only and
# the trap shuts both down in order, by PID, and waits for them.
set -m
WEB_PID=""
Q_PID=""
stop() {
  trap - INT TERM EXIT
  set +m  # no job-control chatter while they stop
  echo
  echo "== Stopping web server ($WEB_PID) and qcluster ($Q_PID)"
  for pid in $WEB_PID $Q_PID; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=""
    for pid in $WEB_PID $Q_PID; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ -z "$alive" ] && break
    sleep 0.2
  done
  # Stragglers (qcluster's workers, if its leader died first) are in the leader's process group.
  for pid in $WEB_PID $Q_PID; do kill -KILL -- "-$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "== Stopped."
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

# Threaded (the default): checkout calls the offline PayPal sandbox served by this same server.
# --noreload keeps it one process, so stopping it by PID stops it.
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
WEB_PID=$!
"$PY" manage.py qcluster &
Q_PID=$!

for _ in $(seq 1 100); do
  if "$PY" -c "import urllib.request,sys; urllib.request.urlopen('$BASE/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$WEB_PID" 2>/dev/null || { echo "The web server did not start (port $PORT in use?)"; exit 1; }
  sleep 0.2
done
banner
echo "== Demo shop running (web server pid $WEB_PID, qcluster pid $Q_PID). Ctrl-C stops both."

# If either process dies, stop the other and report it.
set +e
wait -n "$WEB_PID" "$Q_PID"
rc=$?
echo "== A demo process exited (status $rc)"
exit "$rc"
