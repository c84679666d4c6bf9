# The two Quick start commands. Both create the virtual environment on first use,
# so they work on a fresh clone with nothing but Python 3.11+ installed.
VENV := .venv
PYTHON := $(VENV)/bin/python

.PHONY: start test

$(VENV)/installed: pyproject.toml
	python3 -m venv $(VENV)
	$(PYTHON) -m pip install --quiet --upgrade pip
	$(PYTHON) -m pip install --quiet -e '.[dev]'
	touch $@

# Terminal chat on the embedded SQLite database with demo data; Telegram when TELEGRAM_BOT_TOKEN is set.
start: $(VENV)/installed
	$(PYTHON) bot.py

test: $(VENV)/installed
	$(PYTHON) -m pytest
