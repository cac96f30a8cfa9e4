# Set-up and the two everyday commands. `make demo` and `make test` install
# what they need first (idempotent, a no-op once installed).
#
# Inside a virtual or conda environment, they install into it. Outside one,
# they create and use a project-local .venv: a stock Debian or Ubuntu Python
# refuses pip installs into the system interpreter (PEP 668). The venv sees
# the system's packages, so what is already installed is not installed again.
# PYTHON=... on the command line overrides both.
SYSTEM_PYTHON ?= python3
IN_ENV := $(shell $(SYSTEM_PYTHON) -c 'import os, sys; print(int(sys.prefix != sys.base_prefix or "CONDA_PREFIX" in os.environ))')
ifeq ($(IN_ENV),1)
PYTHON ?= $(SYSTEM_PYTHON)
VENV :=
else
PYTHON ?= .venv/bin/python
VENV := .venv/bin/python
endif
# The CPU build of torch that lies on disk on the project's machines; on a
# CUDA machine, install torch your usual way and run with TORCH_SPEC=torch.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= test

.PHONY: install demo test docs bench-quick bench-env

install: $(VENV)
	$(PYTHON) -m pip install -q "$(TORCH_SPEC)"
	$(PYTHON) -m pip install -q -e ".[$(EXTRAS)]"

demo: install
	$(PYTHON) examples/quickstart.py

# -n auto: one test process per core (conftest gives each its share of the
# torch threads); worksteal rebalances the few long example runs.
test: install
	$(PYTHON) -m pytest -q -n auto --dist worksteal

docs:
	$(MAKE) install EXTRAS=docs
	PYTHON=$(PYTHON) bash docs/build.sh

# Every benchmark table's smoke version (each script's --smoke run), written
# to a scratch folder, never over benchmarks/results/; fails if one fails.
bench-quick: install
	$(PYTHON) -m benchmarks.run --all --quick --jobs 2

.venv/bin/python:
	$(SYSTEM_PYTHON) -m venv --system-site-packages .venv

# The benchmark's ClustPy rows (DEC / IDEC / VaDE) need torchvision, whose
# registry wheels fail beside the CPU torch build; they run in their own venv
# with the registry's default torch build (several GB, runs on CPU), which
# `python -m benchmarks.clustering` finds at .venv-bench and calls per fit.
BENCH_TORCH ?= torch==2.14.1 torchvision==0.29.1
bench-env:
	$(SYSTEM_PYTHON) -m venv .venv-bench
	.venv-bench/bin/python -m pip install -q $(BENCH_TORCH)
	.venv-bench/bin/python -m pip install -q -e ".[bench]" aeon umap-learn tslearn
