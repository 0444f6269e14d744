# The two commands: `make demo` (the example shop) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test install benchmark mutants month clean manage

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

test: install
	PYTHON=$(PY) scripts/test.sh

demo: install
	PYTHON=$(PY) scripts/demo.sh

# Any management command against the demo's database and URLs (PORT as for `make demo`):
#   make manage ARGS="lockedcarts_send_digest --dry-run"
manage: install
	PYTHON=$(PY) scripts/manage.sh $(ARGS)

benchmark: install
	PYTHON=$(PY) scripts/benchmark.sh

# Mutation testing of the money and security modules (not part of `make test`; tens of minutes).
mutants: install
	PYTHON=$(PY) scripts/mutants.sh $(MODULES)

# A simulated month of checkouts (benchmarks/month.py); ARGS="--shoppers 2000" for a shorter one.
month: install
	PYTHON=$(PY) scripts/month.sh $(ARGS)

clean:
	rm -rf $(VENV) .demo build dist *.egg-info mutants
