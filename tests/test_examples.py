"""The example scripts run end to end (the gallery's plot_*.py run in the docs build)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("plot_"))


@pytest.mark.slow
@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_and_reports_a_metric(script):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script)], capture_output=True, text=True, timeout=600,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert any(metric in done.stdout for metric in ("ACC", "Chamfer", "AUROC"))
