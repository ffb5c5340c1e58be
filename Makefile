# One command to set up and run the example campaign, one to set up and run the tests.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: example test install install-test cp2k

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned in pyproject (CPU build); pip resolves it before chgnet can pull CUDA
install: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .

install-test: install
	$(BIN)/pip install --quiet -e '.[test]'

# CP2K from Debian, for the DFT engine and its tests (needs root, as in CI)
cp2k:
	@command -v cp2k >/dev/null 2>&1 || command -v cp2k.psmp >/dev/null 2>&1 || command -v cp2k.ssmp >/dev/null 2>&1 \
	  || { if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq cp2k >/dev/null; \
	       else echo "cp2k missing: run 'sudo apt-get install cp2k'"; fi; }

example: install
	$(BIN)/anodescreen run examples/sac_li_screen.yaml
	$(BIN)/anodescreen query --adsorbate Li

test: install-test cp2k
	$(BIN)/python -m pytest
