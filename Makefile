# The two commands a newcomer needs: `make chat` runs the bot, `make test` runs every check.
# Both create .venv and install the project from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: chat run test bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/switchboard chat

run: $(STAMP)
	$(BIN)/switchboard run

test: $(STAMP)
	$(BIN)/ruff check core adapters bots tests bench
	$(BIN)/mypy core adapters
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/core_turn.py --quick
