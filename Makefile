# careerbot: `make chat` takes a fresh clone to a running bot; `make test` runs every check.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/python -m pip
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP     := $(VENV)/.installed-dev

.PHONY: setup chat test lint bench serve-slack serve-discord clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "careerbot needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(RUNTIME_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q -c constraints.txt -e .
	@touch $@

$(DEV_STAMP): pyproject.toml constraints.txt | $(BIN)/python
	$(PIP) install -q -c constraints.txt -e '.[dev]'
	@touch $@ $(RUNTIME_STAMP)

## setup: venv + pinned install + index knowledge/ (a no-op when the index is current)
setup: $(RUNTIME_STAMP)
	$(BIN)/careerbot ingest

## chat: the terminal chat (no tokens needed); serves Slack/Discord instead when tokens are set
chat: setup
	@if [ -n "$$CAREERBOT_SLACK__BOT_TOKEN$$CAREERBOT_DISCORD__TOKEN" ] || grep -qsE '^CAREERBOT_(SLACK__BOT|DISCORD__)TOKEN=.+' .env; then \
		$(BIN)/careerbot serve all; \
	else \
		$(BIN)/careerbot chat; \
	fi

## test: lint (ruff), types (mypy) and the whole pytest suite
test: $(DEV_STAMP)
	$(BIN)/ruff check bot tests bench tools
	$(BIN)/ruff format --check bot tests bench tools
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(RUNTIME_STAMP)
	$(BIN)/python bench/run_all.py

clean:
	rm -rf $(VENV) .careerbot .pytest_cache .mypy_cache .ruff_cache
