# The two commands a newcomer needs: `make chat` runs the bot, `make test` runs every check.
# Both create .venv and install the project from pyproject.toml on first use.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: chat run test bench browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

chat: $(STAMP)
	$(BIN)/switchboard chat

run: $(STAMP)
	$(BIN)/switchboard run

# The web page's test drives Debian's Chromium; install it when missing (root + apt), else fail.
browser:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 \
	  && { apt-get install -y -qq chromium >/dev/null 2>&1 \
	       || { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1; }; }; } \
	  || { echo "make test: Debian's chromium is missing and could not be installed (needs root and apt-get install chromium)"; exit 1; }

test: $(STAMP) browser
	$(BIN)/ruff check core adapters bots tests bench
	$(BIN)/mypy core adapters bots
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python bench/core_turn.py --quick
	$(BIN)/python bench/cluster_turn.py --quick
	$(BIN)/python bench/attachments.py --quick
