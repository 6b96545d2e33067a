# yingji — `make demo` to try it, `make test` for the whole suite (what CI runs).
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench install system-deps messages clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/yingji demo

system-deps:
	bash scripts/system-deps.sh

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: $(STAMP) system-deps
	bash scripts/test.sh

bench: $(STAMP)
	bash scripts/bench.sh

messages: $(STAMP)
	cd yingji && ../$(BIN)/yingji makemessages -l zh_Hans --no-obsolete --ignore "*/tests/*" --ignore "migrations/*" --ignore "static/*" && ../$(BIN)/yingji compilemessages -l zh_Hans

clean:
	rm -rf $(VENV) var test-artifacts
