"""Shared helpers of the benchmark scripts: machine line, tables, results."""

import datetime
import importlib.util
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: the test, docs and bench extras install tomli
    import tomli as tomllib

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).parent / "results"
MANIFEST = Path(__file__).parent / "runs.toml"
# Set by `python -m benchmarks.run --quick` (or by hand): the folder results
# are written to instead of results/, even by a --smoke run.
OUT_ENV = "SKNEBULA_BENCH_OUT"
_STARTED = time.monotonic()
# Set by `benchmarks.run --quick`, which runs a script's main() inside its
# own worker process: the module the header names, as ``python -m`` would.
RUNNING_MODULE = None


def manifest():
    """The runs of benchmarks/runs.toml, by name (the results file's name)."""
    with MANIFEST.open("rb") as f:
        return tomllib.load(f)["runs"]


def result_path(name):
    """Where results/<suite>/<name>.md lives: its suite's folder for a run of
    the manifest, results/ itself for one that is not in it yet."""
    suite = manifest().get(name, {}).get("suite")
    return RESULTS / suite / f"{name}.md" if suite else RESULTS / f"{name}.md"


def result_files(archive=False):
    """Every results file under results/ (the archive's only if asked)."""
    return sorted(p for p in RESULTS.rglob("*.md")
                  if archive or p.parent.name != "archive")


def commit():
    """The checkout's commit, marked when the tree has uncommitted changes."""
    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                                  check=False).stdout.strip()
        except OSError:  # no git on this machine
            return ""
    head = git("rev-parse", "--short=10", "HEAD") or "unknown (not a git checkout)"
    dirty = git("status", "--porcelain", "--untracked-files=no", "--", "sknebula", "benchmarks")
    return head + (" + uncommitted changes" if dirty else "")


def _threads():
    """The torch thread count(s) the command asked for: its --threads, or
    what torch uses."""
    argv = sys.argv[1:]
    if "--threads" in argv:
        values = []
        for a in argv[argv.index("--threads") + 1:]:
            if not a.isdigit():
                break
            values.append(a)
        if values:
            return " ".join(values)
    import torch

    return str(torch.get_num_threads())


def machine():
    import torch

    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPU cores, "
        f"torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"CUDA: {torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'none'}"
    )


def mean_std(values, digits=3):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.{digits}f} ± {values.std():.{digits}f}"


def mean_std_worst(values, digits=3):
    """``mean ± std (worst)``: a mean over seeds hides a poor seed."""
    return f"{mean_std(values, digits)} ({np.min(values):.{digits}f})"


def markdown_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _main_module(script):
    """The module ``python -m`` ran (``benchmarks.front``), whatever name
    the script passed; ``benchmarks.<script>`` when a benchmark's main()
    runs inside another program (a test)."""
    if RUNNING_MODULE:
        return RUNNING_MODULE
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    if spec is not None and spec.name.startswith("benchmarks."):
        return spec.name
    return f"benchmarks.{script}"


def header(script, name):
    """The lines every results file starts with, written by the tool: what
    reruns it, the exact command, the commit, date, machine, threads and
    how long the run had taken when the file was written."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join(["python", "-m", _main_module(script), *sys.argv[1:]])
    lines = [f"- run: `python -m benchmarks.run {name}` (benchmarks/runs.toml)"
             if name in manifest() else f"- run: not in benchmarks/runs.toml ({name})",
             f"- command: `{command}`", f"- commit: {commit()}", f"- date: {stamp}",
             f"- machine: {machine()}", f"- threads: {_threads()} (torch)",
             f"- duration: {time.monotonic() - _STARTED:.0f} s"]
    return "\n".join(lines)


def write_result(name, title, body, smoke=False, script=None, echo=True):
    """Print ``body`` (unless not ``echo``) and, unless smoke, write it under
    its header (see ``header``) to results/<suite>/<name>.md. Where
    ``$SKNEBULA_BENCH_OUT`` names a folder, write there instead, smoke or
    not (``benchmarks.run --quick``)."""
    text = f"## {title}\n\n{header(script or name, name)}\n\n{body}\n"
    if echo:
        print(text)
    out = os.environ.get(OUT_ENV)
    path = Path(out) / f"{name}.md" if out else None if smoke else result_path(name)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return text


def read_titled_tables(name):
    """The markdown tables of results file ``name`` (in its suite's folder)
    as (title, rows) pairs in file order: title is the text of the nearest
    heading above the table (without its ``#``), rows a list of row dicts
    keyed by the header; [] when the file is absent."""
    path = result_path(name)
    if not path.exists():
        return []
    tables, header, title = [], None, ""
    for line in path.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            if line.startswith("#"):
                title = line.lstrip("#").strip()
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            tables.append((title, []))
        elif not set("".join(cells)) <= set("-"):
            tables[-1][1].append(dict(zip(header, cells)))
    return tables


def read_tables(name):
    """The markdown tables of results file ``name`` as lists of row dicts
    (keyed by the header), in file order; [] when the file is absent."""
    return [rows for _, rows in read_titled_tables(name)]


# The result files that hold NebulaVariationalClusterer's rows at its defaults
# (one per thread count, run side by side), and the peers' rows.
NVC_RESULTS = ("clustering-nvc", "clustering-nvc-long", "clustering-nvc-2threads")
PEER_RESULTS = ("clustering-peers", "clustering-tspeers", "clustering-tspeers-more",
                "clustering-clustpy")


def result_rows(names):
    """Every table row of the results files ``names``, in file order."""
    return [r for name in names for table in read_tables(name) for r in table]


def nvc_rows(threads=None):
    """NebulaVariationalClusterer's rows from its result files, at one torch
    thread count ("1", "2") or all."""
    return [r for r in result_rows(NVC_RESULTS) if r["method"] == "NebulaVariationalClusterer"
            and (threads is None or r["threads"] == threads)]


def same_run_peer(dataset, threads, method="UMAP+GaussianMixture"):
    """The row of ``method`` measured in the same run as the clusterer's
    rows (its results files), or None."""
    return next((r for r in result_rows(NVC_RESULTS) if r["method"] == method
                 and r["dataset"] == dataset and r["threads"] == threads), None)


def mean_acc(row):
    """The mean of a clustering row's "mean ± std" ACC cell."""
    return float(row["ACC"].split(" ")[0])


def kmeans_and_best_peer(dataset):
    """A data set's KMeans row and its best other peer's row (by mean ACC)
    from the peers' result files; None where there is none."""
    rows = [r for r in result_rows(PEER_RESULTS) if r["dataset"] == dataset]
    kmeans = next((r for r in rows if r["method"] == "KMeans"), None)
    best = max((r for r in rows if r["method"] != "KMeans"), key=mean_acc, default=None)
    return kmeans, best


def not_installed(module):
    """Whether ``module`` cannot be imported here (not installed)."""
    return importlib.util.find_spec(module) is None
