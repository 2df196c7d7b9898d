# vinci-rl: everything a newcomer runs. Each target installs what it needs first (idempotent).
VENV ?= $(CURDIR)/.venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: install test test-fast e2e demo clean-venv

install:
	VENV=$(VENV) bash launch/install.sh

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not e2e" $(PYTEST_ARGS)

e2e: install
	$(PY) -m pytest -m e2e $(PYTEST_ARGS)

demo: install
	$(VENV)/bin/vinci-rl demo

clean-venv:
	rm -rf $(VENV)
