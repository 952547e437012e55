# The two commands of the README: `make demo` (the main job) and `make test`.
# Each creates .venv and installs the three packages (editable, with test extras) when missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint setup clean

$(STAMP): pyproject.toml eval/pyproject.toml integrations/langchain/pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[test]' -e './eval[test]' -e './integrations/langchain[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/agentmem demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests eval/tests integrations/langchain/tests

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV)
