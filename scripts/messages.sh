#!/usr/bin/env bash
# Refresh the package's translation catalogs after changing user-facing strings:
#   scripts/messages.sh          -> every language under wagtail_lockedcarts/locale (German today)
#   scripts/messages.sh de fr    -> just these languages (creates a new catalog if needed)
# Then translate the new/changed entries in locale/<lang>/LC_MESSAGES/django.po (drop their
# "#, fuzzy" flag once checked) and run this script again to compile the .mo files.
# Runs inside wagtail_lockedcarts/ so only the package's own files are scanned; the
# example site and the tests are not part of the catalog.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
cd "$ROOT/wagtail_lockedcarts"
export DJANGO_SETTINGS_MODULE=example_site.settings
export DJANGO_DEBUG=1  # the example site installs the offline sandbox, which needs DEBUG
export PYTHONPATH="$ROOT:$ROOT/example_site${PYTHONPATH:+:$PYTHONPATH}"
if [ $# -eq 0 ]; then
  set -- $(ls locale 2>/dev/null)
  [ $# -gt 0 ] || set -- de
fi
args=()
for lang in "$@"; do args+=(-l "$lang"); done
"$PY" -m django makemessages "${args[@]}" --no-obsolete
"$PY" -m django compilemessages "${args[@]}"
for lang in "$@"; do
  po="locale/$lang/LC_MESSAGES/django.po"
  msgfmt --check --statistics -o /dev/null "$po" 2>&1 | sed "s|^|$lang: |"
done
