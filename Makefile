# The two commands: `make demo` (the example shop) and `make test` (the whole suite).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test install benchmark clean

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

benchmark: install
	PYTHON=$(PY) scripts/benchmark.sh

clean:
	rm -rf $(VENV) .demo build dist *.egg-info
