# Set-up and the two everyday commands. `make demo` and `make test` install
# what they need first (idempotent, a no-op once installed).
PYTHON ?= python3
# The CPU build of torch that lies on disk on the project's machines; on a
# CUDA machine, install torch your usual way and run with TORCH_SPEC=torch.
TORCH_SPEC ?= torch==2.13.0
EXTRAS ?= test

.PHONY: install demo test docs

install:
	$(PYTHON) -m pip install -q "$(TORCH_SPEC)"
	$(PYTHON) -m pip install -q -e ".[$(EXTRAS)]"

demo: install
	$(PYTHON) examples/quickstart.py

test: install
	$(PYTHON) -m pytest -q

docs:
	$(MAKE) install EXTRAS=docs
	bash docs/build.sh
