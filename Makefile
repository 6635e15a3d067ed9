# kefu-kpi: `make demo` runs the sample month end to end, `make test` runs the tests.
# Both create .venv and install pinned dependencies first (Python 3.11 + pip are all they need).
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1

.PHONY: setup demo lint test bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test]'
	touch $@

demo: setup
	$(BIN)/kefu demo

lint: setup  # ruff (E, F, B) on every package, mypy on the pure ones; settings in pyproject.toml
	$(BIN)/ruff check analytics scoring contracts pipelines
	$(BIN)/mypy analytics scoring contracts

test: setup lint
	$(BIN)/pytest

bench: setup
	$(BIN)/kefu bench --messages 1000000

clean:
	rm -rf $(VENV) out .prefect data/warehouse.duckdb
