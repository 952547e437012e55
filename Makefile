# The commands of the README: `make demo` (the main job), `make test` (what CI runs) and
# `make install-check` (the wheels, installed outside the repository).
# Each creates .venv and installs the three packages (editable, with the test and mcp extras) when
# missing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# PyTorch's CPU builds: a plain `pip install torch` on Linux is the CUDA build, several GB.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: demo test lint setup install-check clean

$(STAMP): pyproject.toml eval/pyproject.toml integrations/langchain/pyproject.toml constraints.txt scripts/install_torch.sh
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	TORCH_CPU_INDEX=$(TORCH_CPU_INDEX) scripts/install_torch.sh $(BIN)/pip
	$(BIN)/pip install -q -c constraints.txt -e '.[test,mcp]' -e './eval[test]' -e './integrations/langchain[test]'
	touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/agentmem demo
	@echo "agentmem is installed in $(VENV): run '. $(VENV)/bin/activate' to put it on your PATH"

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q tests eval/tests integrations/langchain/tests

install-check: $(STAMP)
	scripts/install_check.sh

lint: $(STAMP)
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV)
