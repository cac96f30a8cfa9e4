"""One quick run of a benchmark script inside a worker process.

``benchmarks.run --quick`` runs tens of ``--smoke`` tables of a few seconds
each; a fresh interpreter for each would spend more time importing torch,
sklearn and numba than running the table. Its workers import them once and
call each script's ``main(argv)`` in turn, as ``python -m`` would run it.
"""

import contextlib
import importlib
import os
import sys
import time
import traceback

from . import _common


def run_script(module, args, threads, out, log):
    """``python -m benchmarks.MODULE ARGS`` in this process, its tables
    written to the folder ``out`` and its output to the file ``log``, with
    ``threads`` torch threads. Returns the exit code the command would
    have had."""
    import torch

    torch.set_num_threads(threads)
    os.environ[_common.OUT_ENV] = str(out)
    # The header names the command and times the run from here, as it
    # would for a fresh `python -m` process.
    _common.RUNNING_MODULE = f"benchmarks.{module}"
    _common._STARTED = time.monotonic()
    sys.argv = [f"benchmarks/{module}.py", *args]
    with open(log, "w") as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f):
        try:
            importlib.import_module(f"benchmarks.{module}").main(list(args))
        except SystemExit as stop:
            return stop.code if isinstance(stop.code, int) else int(stop.code is not None)
        except Exception:  # the table failed: say why in its log, run the next
            traceback.print_exc()
            return 1
    return 0
