"""Shared helpers of the benchmark scripts: machine line, tables, results."""

import copy
import datetime
import hashlib
import importlib.util
import os
import platform
import shlex
import subprocess
import sys
import tempfile
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
    # Parsed once per version of the file: the docs' :bench: roles and the
    # result paths ask for it hundreds of times (a copy each, to change).
    stamp = MANIFEST.stat().st_mtime_ns
    if _MANIFEST_CACHE.get("key") != (MANIFEST, stamp):
        with MANIFEST.open("rb") as f:
            _MANIFEST_CACHE.update(key=(MANIFEST, stamp), runs=tomllib.load(f)["runs"])
    return copy.deepcopy(_MANIFEST_CACHE["runs"])


_MANIFEST_CACHE = {}


def result_path(name):
    """Where results/<suite>/<name>.md lives: its suite's folder for a run of
    the manifest, results/ itself for one that is not in it yet."""
    suite = manifest().get(name, {}).get("suite")
    return RESULTS / suite / f"{name}.md" if suite else RESULTS / f"{name}.md"


def result_files(archive=False):
    """Every results file under results/ (the archive's only if asked)."""
    return sorted(p for p in RESULTS.rglob("*.md")
                  if archive or p.parent.name != "archive")


# What a result depends on: the library and the benchmark code, but not
# what a full run writes itself (its results, the diffs beside them, the
# page benchmarks.report stitches from them).
CODE_PATHS = ("sknebula", "benchmarks", ":(exclude)benchmarks/results",
              ":(exclude)benchmarks/README.md")
# Set (to 1) by `benchmarks.run --allow-dirty`, or by hand: results may be
# written into results/ from a tree with uncommitted changes to CODE_PATHS,
# which are then saved beside them (results/diffs/) and named by hash.
ALLOW_DIRTY_ENV = "SKNEBULA_BENCH_ALLOW_DIRTY"


def _git(*args):
    """``git ARGS`` in the checkout: its stdout as bytes, or None without git."""
    try:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=False)
    except OSError:  # no git on this machine
        return None
    return done.stdout


def head():
    """The checkout's commit (10 hex digits), or None outside a git checkout."""
    out = (_git("rev-parse", "--short=10", "HEAD") or b"").decode().strip()
    return out or None


def changed_files():
    """The files of CODE_PATHS that differ from the checkout's commit:
    tracked files changed (staged or not), then untracked ones git does not
    ignore. [] for a clean tree, or without git."""
    tracked = _git("diff", "HEAD", "--name-only", "-z", "--", *CODE_PATHS) or b""
    untracked = _git("ls-files", "--others", "--exclude-standard", "-z", "--",
                     *CODE_PATHS) or b""
    return [f.decode() for f in (*tracked.split(b"\0"), *sorted(untracked.split(b"\0"))) if f]


def uncommitted_diff():
    """The changes of ``changed_files()`` as one patch that ``git apply``
    replays on the checkout's commit (binary files and untracked files
    included); b"" for a clean tree."""
    parts = [_git("diff", "HEAD", "--binary", "--", *CODE_PATHS) or b""]
    untracked = _git("ls-files", "--others", "--exclude-standard", "-z", "--",
                     *CODE_PATHS) or b""
    for name in sorted(f.decode() for f in untracked.split(b"\0") if f):
        parts.append(_git("diff", "--no-index", "--binary", "--", "/dev/null", name) or b"")
    return b"".join(parts)


def diff_hash(diff):
    """The short name of a diff: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(diff).hexdigest()[:16]


def diffs_folder():
    return RESULTS / "diffs"


def recover_command(commit, digest):
    """The commands that rebuild the tree a diff was recorded from, in a
    worktree of its own (the diff file may only exist in a later commit)."""
    diff = (diffs_folder() / f"{digest}.diff").relative_to(ROOT)
    return (f"git worktree add ../sknebula-{digest} {commit} && "
            f"git -C ../sknebula-{digest} apply \"$PWD/{diff}\"")


def commit():
    """The checkout's commit, marked when the tree has uncommitted changes
    (with the hash of their diff)."""
    line = head() or "unknown (not a git checkout)"
    if changed_files():
        line += f" + uncommitted changes (diff sha256 {diff_hash(uncommitted_diff())})"
    return line


def dirty_message(changed, quick_hint=True):
    """Why a run refuses to write into results/ from a dirty tree."""
    listed = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    return (
        f"Uncommitted changes to sknebula/ or benchmarks/ ({listed}): results written into "
        "benchmarks/results/ now would come from code that no commit holds. Commit (or "
        "stash) them and rerun; or pass --allow-dirty to benchmarks.run (or set "
        f"{ALLOW_DIRTY_ENV}=1 for a script run by hand) to write anyway, recording the "
        "diff's hash in each results file and the diff itself in benchmarks/results/diffs/, "
        "from which `git apply` recovers the tree."
        + (" Quick runs (--quick), which write to a scratch folder, need neither."
           if quick_hint else "")
    )


def save_uncommitted_diff():
    """Write the tree's uncommitted diff to results/diffs/<hash>.diff (once
    per content) and return (commit, hash); (commit, None) for a clean
    tree."""
    diff = uncommitted_diff()
    if not diff:
        return head(), None
    digest = diff_hash(diff)
    path = diffs_folder() / f"{digest}.diff"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(diff)
    return head(), digest


def prune_diffs():
    """Remove the saved diffs that no results file names any more (their
    results were rerun)."""
    folder = diffs_folder()
    if not folder.exists():
        return
    texts = "\n".join(p.read_text() for p in RESULTS.rglob("*.md"))
    for path in folder.glob("*.diff"):
        if f"diff sha256 {path.stem}" not in texts:
            path.unlink()


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


def header(script, name, commit_line=None):
    """The lines every results file starts with, written by the tool: what
    reruns it, the exact command, the commit, date, machine, threads and
    how long the run had taken when the file was written."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    command = shlex.join(["python", "-m", _main_module(script), *sys.argv[1:]])
    lines = [f"- run: `python -m benchmarks.run {name}` (benchmarks/runs.toml)"
             if name in manifest() else f"- run: not in benchmarks/runs.toml ({name})",
             f"- command: `{command}`", f"- commit: {commit_line or commit()}",
             f"- date: {stamp}",
             f"- machine: {machine()}", f"- threads: {_threads()} (torch)",
             f"- duration: {time.monotonic() - _STARTED:.0f} s"]
    return "\n".join(lines)


def write_result(name, title, body, smoke=False, script=None, echo=True):
    """Print ``body`` (unless not ``echo``) and, unless smoke, write it under
    its header (see ``header``) to results/<suite>/<name>.md. Where
    ``$SKNEBULA_BENCH_OUT`` names a folder, write there instead, smoke or
    not (``benchmarks.run --quick``).

    Into results/, only from a tree without uncommitted changes to the code
    (``changed_files``), unless ``$SKNEBULA_BENCH_ALLOW_DIRTY`` is 1: then
    the diff is saved as results/diffs/<hash>.diff and the header's commit
    line names its hash. Refused, the table goes to a scratch file and the
    run exits with the reason."""
    out = os.environ.get(OUT_ENV)
    path = Path(out) / f"{name}.md" if out else None if smoke else result_path(name)
    commit_line = None
    if path is not None and not out:
        changed = changed_files()
        if changed and os.environ.get(ALLOW_DIRTY_ENV) != "1":
            scratch = Path(tempfile.gettempdir()) / "sknebula-bench-refused" / f"{name}.md"
            scratch.parent.mkdir(parents=True, exist_ok=True)
            text = f"## {title}\n\n{header(script or name, name)}\n\n{body}\n"
            scratch.write_text(text)
            if echo:
                print(text)
            raise SystemExit(f"Not written to {path.relative_to(ROOT)} (the table is in "
                             f"{scratch}). " + dirty_message(changed, quick_hint=False))
        if changed:
            at, digest = save_uncommitted_diff()
            commit_line = (f"{at} + uncommitted changes (diff sha256 {digest}, saved as "
                           f"{(diffs_folder() / f'{digest}.diff').relative_to(ROOT)}; "
                           f"recover the tree with `{recover_command(at, digest)}`)")
    text = f"## {title}\n\n{header(script or name, name, commit_line)}\n\n{body}\n"
    if echo:
        print(text)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if not out:
            prune_diffs()
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
