"""Doctests of optional extras skip where the extra is not installed.

The test suite itself skips with ``pytest.importorskip``; a docstring's
example cannot without showing it, so its needs are listed here.
"""

import importlib.util

import pytest

# Doctest name -> the modules its example imports (an optional extra).
DOCTEST_NEEDS = {
    "sknebula.io._onnx.to_onnx": ("onnx", "onnxscript", "onnxruntime"),
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        missing = [m for m in DOCTEST_NEEDS.get(item.name, ())
                   if importlib.util.find_spec(m) is None]
        if missing:
            item.add_marker(pytest.mark.skip(
                reason=f"needs the optional {', '.join(missing)} (pip install sknebula[onnx])"
            ))
