# Two set-up commands: `make demo` and `make test`. Both create the virtual environment first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/credcheck demo

test: $(STAMP)
	$(BIN)/python -m pytest -q

# Everything in-process (no crawls, CLI jobs or child processes; no 1000-example fuzzing).
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not crawl and not slow"

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) data/credcheck.duckdb data/runs .pytest_cache
