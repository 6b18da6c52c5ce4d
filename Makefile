# Each target sets itself up on a fresh machine that has only Python 3.11+.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-pg bench clean

$(STAMP): pyproject.toml plugins/sandboxes/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]' -e plugins/sandboxes
	touch $(STAMP)

# the main job: sandboxes + serve + signed Stripe webhooks, then a table of what reached QuickBooks
demo: $(STAMP)
	$(BIN)/ledgerlink validate recipes/
	$(BIN)/ledgerlink demo --recipes recipes

# on two processes (pytest-xdist): each test has its own database, ports and folders
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# the same suite on a real PostgreSQL server (.ci/pg-server starts a throwaway one, installing
# Debian's postgresql package if the machine has none, and stops it afterwards); one process,
# since a test restarts that server, which would cut off a test running beside it
test-pg: $(STAMP)
	.ci/pg-server start
	LEDGERLINK_TEST_DB=$$(.ci/pg-server url) LEDGERLINK_TEST_PG_RESTART=".ci/pg-server restart" \
		$(BIN)/python -m pytest -q; status=$$?; .ci/pg-server stop; exit $$status

bench: $(STAMP)
	$(BIN)/python bench/mapping.py

clean:
	rm -rf $(VENV) build *.egg-info host/*.egg-info
