#!/usr/bin/env bash
# Mutation testing (mutmut 3) of the money and security modules against the fast tests that cover
# them; see docs/mutation-testing.md. Not part of `make test`: it takes a long time.
#   scripts/mutants.sh                     every mutant of every module in scope
#   scripts/mutants.sh validators rules    only these modules (lifecycle rules reconcile webhooks
#                                          checkout permissions notifications validators)
#   MUTANTS_SAMPLE=30 scripts/mutants.sh   N random mutants per module (MUTANTS_SEED, default 16)
#   MUTANTS_WORKERS=2                      parallel workers (default 2)
#   MUTANTS_SURVIVORS=1 scripts/mutants.sh only the mutants that survived their last run (after
#                                          writing the tests that should kill them)
#   MUTANTS_NAMES=FILE scripts/mutants.sh  the mutants named in FILE, one a line (e.g. the survivors
#                                          of an earlier run, re-checked on new code)
# Results stay in mutants/ (a second run re-tests only what changed); the table goes to
# docs/mutation-results.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
WORKERS=${MUTANTS_WORKERS:-2}
modules=("$@")
[ ${#modules[@]} -eq 0 ] && modules=(lifecycle rules reconcile webhooks checkout permissions notifications validators)
started=$(date +%s)

# A migrated SQLite database made once; each test session (one per mutant) starts from its own
# copy (tests/conftest.py), so no mutant pays for the migrations.
TEMPLATE=$(mktemp -u /tmp/lockedcarts-mutants.XXXXXX).sqlite3
trap 'rm -f "$TEMPLATE" "$TEMPLATE".*' EXIT
LOCKEDCARTS_SQLITE_TEST_DB=$TEMPLATE nice "$PY" -m pytest -q --reuse-db -p no:randomly \
  tests/test_lifecycle.py::test_add_line_prices_the_product_server_side >/dev/null
export LOCKEDCARTS_SQLITE_TEMPLATE=$TEMPLATE

# mutmut copies the package into mutants/ once and never refreshes what it does not mutate
# (templates, translations, the other modules): bring those up to date, or the tests run against
# a stale copy.
"$PY" - <<'PYTHON'
import filecmp, shutil, tomllib
from pathlib import Path

mutated = set(tomllib.loads(Path("pyproject.toml").read_text())["tool"]["mutmut"]["only_mutate"])
sources = Path("wagtail_lockedcarts").rglob("*") if Path("mutants/wagtail_lockedcarts").is_dir() else []
for source in sources:
    target = Path("mutants") / source
    if source.is_dir() or str(source) in mutated or "__pycache__" in source.parts:
        continue
    if not target.exists() or not filecmp.cmp(source, target, shallow=False):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target)
PYTHON

# Phase 1: generate the mutants and map tests to functions (one cheap mutant is run to get there).
nice "$PY" -m mutmut run --max-children "$WORKERS" "wagtail_lockedcarts.models.validators.x_clean_card__mutmut_1" \
  >/dev/null || true
# Phase 2: the mutants in scope (or a random sample of them).
selection=(--sample "${MUTANTS_SAMPLE:-0}" --seed "${MUTANTS_SEED:-16}")
[ "${MUTANTS_SURVIVORS:-0}" = 1 ] && selection=(--survivors)
if [ -n "${MUTANTS_NAMES:-}" ]; then
  mapfile -t names < <(grep -v '^$' "$MUTANTS_NAMES")
else
  mapfile -t names < <("$PY" scripts/mutation_report.py --names "${selection[@]}" "${modules[@]}")
fi
echo "mutants to check: ${#names[@]}"
set +e
nice "$PY" -m mutmut run --max-children "$WORKERS" "${names[@]}"
rc=$?
set -e
seconds=$(( $(date +%s) - started ))
echo "mutmut run: exit $rc after ${seconds}s"
"$PY" scripts/mutation_report.py --commit "$(git rev-parse --short HEAD)" --seconds "$seconds" \
  --output docs/mutation-results.md "${modules[@]}"
