# Each target sets itself up on a fresh machine that has only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

# the main job: sandboxes + serve + signed Stripe webhooks, then a table of what reached QuickBooks
demo: $(STAMP)
	$(BIN)/ledgerlink validate recipes/
	$(BIN)/ledgerlink demo --recipes recipes

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python bench/mapping.py

clean:
	rm -rf $(VENV) build *.egg-info host/*.egg-info
