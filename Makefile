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

# CP2K from Debian, for the DFT engine and its tests (needs root, as in CI), with OpenBLAS
# as the system BLAS: the reference BLAS makes CP2K 2.4x slower (Li2 single point 23 s vs 9.7 s).
CP2K_PACKAGES = cp2k libopenblas0-serial
cp2k:
	@if dpkg -s $(CP2K_PACKAGES) >/dev/null 2>&1; then :; \
	 elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(CP2K_PACKAGES) >/dev/null; \
	 else echo "cp2k missing: run 'sudo apt-get install $(CP2K_PACKAGES)'"; fi

example: install
	$(BIN)/anodescreen run examples/sac_li_screen.yaml
	$(BIN)/anodescreen query --adsorbate Li

test: install-test cp2k
	$(BIN)/python -m pytest
