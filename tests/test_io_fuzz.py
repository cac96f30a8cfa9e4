"""sknebula.io.load on crafted and fuzzed model files: nothing runs, little
is allocated, and every file either loads into a model that predicts or
raises ValueError (the files and mutations: tests/fuzz_model_files.py)."""

import sys

import pytest

pytest.importorskip("safetensors")
pytest.importorskip("hypothesis")

import fuzz_model_files as fuzz  # noqa: E402  (beside this file)

# The most one file may raise the process's resident memory, in MB: a few
# MB beyond the tensors of these files (a few KB).
MEMORY_MB = 16
on_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="peak memory is read from /proc (Linux)"
)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    return fuzz.real_files(str(tmp_path_factory.mktemp("files")))


@on_linux
def test_each_memory_route_is_refused_before_it_allocates(files, tmp_path):
    result = fuzz.routes(str(tmp_path), files)
    control = result.pop("control: 100 MB array")
    assert control[1] >= 90, "the peak measure misses a 100 MB allocation"
    assert len(result) == 6
    for route, (outcome, peak) in result.items():
        assert outcome == "ValueError", route
        assert peak < MEMORY_MB, (route, peak)


def _fuzz(examples, files, tmp_path):
    result = fuzz.run(examples, str(tmp_path), files)
    assert result["examples"] == examples
    assert not result["marker"], "a gadget in a mutated file ran"
    # Both outcomes occur, so the mutations reach past the first check.
    assert result["refused"] > 0 and result["loaded"] > 0, result
    if sys.platform.startswith("linux"):
        assert result["largest_peak_mb"] < MEMORY_MB, result
    return result


def test_mutated_headers_load_into_a_model_or_raise_value_error(files, tmp_path):
    """A few hundred mutated headers (more with -m slow): a failure is an
    exception other than ValueError, a loaded model whose inference fails,
    the marker file, or an example that raised memory by MEMORY_MB."""
    _fuzz(200, files, tmp_path)


@pytest.mark.slow
def test_many_mutated_headers(files, tmp_path):
    _fuzz(3000, files, tmp_path)


def test_the_gadget_names_reach_what_the_old_loader_followed():
    """The fuzz names include the live gadgets and names found by walking
    the allowed modules' attributes, private ones and their imports too."""
    import functools
    import importlib
    import os

    names = fuzz.gadget_names()
    assert len(names) > 5000
    for gadget in fuzz.LIVE_GADGETS:
        parts = gadget.split(".")
        for split in range(len(parts) - 1, 0, -1):
            try:
                root = importlib.import_module(".".join(parts[:split]))
                break
            except ImportError:
                continue
        assert functools.reduce(getattr, parts[split:], root) is os.system, gadget
    assert any(".os." in n for n in names) and any("._" in n for n in names)
