"""The plain example scripts run end to end; the gallery's plot_*.py run in
the docs build, and here only their form is checked."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("plot_"))
PAGES = sorted(p.name for p in EXAMPLES.glob("plot_*.py"))


METRICS = ("ACC",)  # a word in the header line of a script's result table


def _run(script, *args):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], capture_output=True, text=True,
        timeout=600, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _reported_scores(stdout):
    """The numbers on the result lines of a script's tables: every line
    after a header naming a metric, up to a blank line."""
    scores, in_table = [], False
    for line in stdout.splitlines():
        if any(metric in line for metric in METRICS) and not any(c.isdigit() for c in line.split()[-1]):
            in_table = True
            continue
        if not line.strip():
            in_table = False
        elif in_table:
            scores += [float(w) for w in line.replace("±", " ").split()[1:] if _is_number(w)]
    return scores


def _is_number(word):
    try:
        float(word)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_quick_and_prints_its_table(script):
    # --quick trains a few epochs: the script's whole path, not its result.
    scores = _reported_scores(_run(script, "--quick"))
    assert scores, "no result line under the table header"
    assert all(np.isfinite(scores))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_full_run(script):
    # At the script's own settings (minutes each): pytest -m slow.
    scores = _reported_scores(_run(script))
    assert scores and all(np.isfinite(scores))


def _cells(source):
    """The gallery cells of an example: top-level statements between ``# %%``."""
    breaks = [i + 1 for i, line in enumerate(source.splitlines()) if line.startswith("# %%")]
    cells = [[] for _ in range(len(breaks) + 1)]
    for node in ast.parse(source).body:
        cells[sum(node.lineno > b for b in breaks)].append(node)
    return [c for c in cells if c]


def _prints_nothing(node):
    """A cell's last statement that leaves no repr in the gallery: anything
    but a bare expression, or a call to print or to a ``show``."""
    if not isinstance(node, ast.Expr) or isinstance(node.value, ast.Constant):
        return True  # statements, and the docstring (the gallery's header)
    call = node.value
    if not isinstance(call, ast.Call):
        return False
    name = call.func.attr if isinstance(call.func, ast.Attribute) else getattr(call.func, "id", "")
    return name in ("print", "show")


@pytest.mark.parametrize("script", PAGES)
def test_gallery_cells_end_without_a_stray_repr(script):
    # Sphinx-gallery (and a notebook) prints the value of a cell's last bare
    # expression: a display object's <... object at 0x...> or a tuple of limits.
    for cell in _cells((EXAMPLES / script).read_text()):
        assert _prints_nothing(cell[-1]), f"{script}:{cell[-1].lineno} leaves a repr"


@pytest.mark.parametrize("script", PAGES)
def test_gallery_page_runs_top_to_bottom(script):
    # The docs build runs a page as it is: a ``--quick`` switch or a
    # ``__main__`` guard would hide its settings or its whole body there.
    tree = ast.parse((EXAMPLES / script).read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
    attributes = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    assert "__name__" not in names, f"{script} has an if __name__ == '__main__' guard"
    assert "argv" not in attributes, f"{script} reads sys.argv"


def test_results_example_reads_the_tables_as_written():
    # It trains nothing, so it runs here too: a renamed column in a results
    # table then fails the tests, not only the docs build's gallery.
    done = subprocess.run(
        [sys.executable, "plot_results_at_defaults.py"], capture_output=True, text=True,
        timeout=300, cwd=EXAMPLES, env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "AUROC" in done.stdout and "LabelDisentangledVAE" in done.stdout
