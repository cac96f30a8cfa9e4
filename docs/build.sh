#!/usr/bin/env bash
# Build the HTML documentation with warnings as errors. Installs nothing:
# first `pip install -e ".[docs]"` (Sphinx, pydata-sphinx-theme, numpydoc,
# sphinx-gallery, matplotlib). The gallery runs every examples/plot_*.py.
# PYTHON picks the interpreter (the Makefile passes its own, e.g. .venv's).
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" MPLBACKEND=Agg
# -E: re-read every source, so that a changed docstring is never hidden by
# a cached page (the gallery keeps its own cache of executed examples).
"${PYTHON:-python3}" -m sphinx -W --keep-going -E -b html docs docs/_build/html "$@"
echo "Built docs/_build/html/index.html"
