# One command to set up and run the example campaign, one to set up and run the tests.
PYTHON ?= python3.11
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: example test lint install install-test install-gpaw system

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch is pinned in pyproject (CPU build); pip resolves it before chgnet can pull CUDA
install: $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .

install-test: install install-gpaw
	$(BIN)/pip install --quiet -e '.[test]'

# GPAW (the magnetic-DFT engine) has no wheel: pip compiles it against the Debian libraries in
# GPAW_PACKAGES (libxc, FFTW, OpenMPI, serial OpenBLAS); its PAW setups come from gpaw-data's wheel
GPAW_PACKAGES = build-essential libxc-dev libfftw3-dev libopenmpi-dev openmpi-bin libopenblas-serial-dev
install-gpaw: $(BIN)/python
	@if [ "$$(id -u)" = 0 ] && ! dpkg -s $(GPAW_PACKAGES) >/dev/null 2>&1; then apt-get update -qq && \
	   DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(GPAW_PACKAGES) >/dev/null; fi
	@$(BIN)/python -c "import _gpaw" 2>/dev/null || \
	 $(BIN)/pip install --quiet gpaw==26.7.0 gpaw-data==1.2.1 || \
	 echo "GPAW did not build: run 'sudo apt-get install $(GPAW_PACKAGES)' and 'make install-gpaw'"

# From Debian (needs root, as in CI): CP2K for the DFT engine and its tests, with OpenBLAS
# as the system BLAS (the reference BLAS makes CP2K 2.4x slower: Li2 single point 23 s vs
# 9.7 s), Chromium, in which a test renders the HTML report, and Slurm + munge, which a
# test starts on this host (tests/launchers/slurm/start.sh) to run a campaign through qlaunch.
SYSTEM_PACKAGES = cp2k libopenblas0-serial chromium slurm-wlm munge
system:
	@if dpkg -s $(SYSTEM_PACKAGES) >/dev/null 2>&1; then :; \
	 elif [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(SYSTEM_PACKAGES) >/dev/null; \
	 else echo "missing system packages: run 'sudo apt-get install $(SYSTEM_PACKAGES)'"; fi

example: install
	$(BIN)/anodescreen run examples/sac_li_screen.yaml
	$(BIN)/anodescreen query --adsorbate Li

lint: install-test
	$(BIN)/ruff check -q .
	$(BIN)/lint-imports --no-logo --no-cache

test: install-test system lint
	$(BIN)/python -m pytest
