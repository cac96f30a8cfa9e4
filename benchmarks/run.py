"""Rerun the benchmark tables of benchmarks/runs.toml.

    python -m benchmarks.run NAME [NAME ...]   # rerun these tables
    python -m benchmarks.run --all             # every table but the archive
    python -m benchmarks.run --suite series    # the tables of one suite
    python -m benchmarks.run --all --quick     # each script's --smoke run, into a scratch folder
    python -m benchmarks.run --all --quick --jobs 2   # two at a time
    python -m benchmarks.run --list            # the manifest, with each run's expected time
    python -m benchmarks.run NAME --allow-dirty    # from uncommitted code, its diff recorded

Each run is its script's command from the manifest, in a fresh process; it
writes results/<suite>/<name>.md itself (``_common.write_result`` heads the
file with the command, commit, machine, threads, date and duration). Before
it starts, the runner prints the total time it expects: each run's duration
as its results file recorded it, or the manifest's ``estimate_s`` where the
file predates the runner; then one progress line per run. After a full run,
``benchmarks.report`` rewrites benchmarks/README.md and the defaults page.

``--quick`` runs each script's ``--smoke`` mode (a subset: the first data
set, one seed, a few epochs) and writes its table to ``--out`` (a scratch
folder), never over results/. Its runs share ``--jobs`` worker processes
that import the libraries once (``benchmarks._inprocess``), as a smoke
table takes less time than a fresh interpreter's imports. It leaves out
the peers of UMAP, tslearn and aeon, whose first fit in a process
compiles numba code for tens of seconds
(``--with-peers`` keeps them). A run whose ``needs`` are not installed is
skipped there, and refused in a full run (it would write a table without
those rows over the real one).

A full run writes into results/ from committed code only: it refuses to
start when sknebula/ or benchmarks/ (results/ and the README it writes
aside) differ from the checkout's commit, naming the files. With
``--allow-dirty`` it runs anyway, and each results file's ``commit:`` line
names the uncommitted diff by its SHA-256 (``+ uncommitted changes (diff
sha256 ...)``); the diff itself is saved as
``results/diffs/<hash>.diff`` (commit it with the results), and the line
and the runner's last words give the commands that rebuild the tree in a
worktree of its own (``git worktree add``, then ``git apply``). A diff no
results file names any more is removed when a table is written. Quick runs
write to a scratch folder and need no flag.
"""

import argparse
import contextlib
import multiprocessing
import os
import re
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from . import _common
from ._common import OUT_ENV, ROOT, commit, manifest, not_installed, result_path
from ._inprocess import run_script

# A quick run is a --smoke run: seconds, whatever the full run costs.
QUICK_ESTIMATE_S = 15
BAR = 30


def missing(run, quick=False):
    """The modules of the run's ``needs`` (its ``quick_needs`` for a quick
    run) that cannot be imported here (ClustPy counts as present where its
    own venv is built)."""
    from .clustering import BENCH_PYTHON

    needs = run.get("needs", [])
    if quick:
        needs = [*run.get("quick_needs", needs), *_peer_modules(run["args"])]
    out = []
    for module in dict.fromkeys(needs):
        if module == "clustpy" and BENCH_PYTHON.exists():
            continue
        if not_installed(module):
            out.append(module)
    return out


def recorded_duration(name, folder=None):
    """The duration the last run of ``name`` wrote into its results file
    (in ``folder``, the quick runs' scratch folder, if given), in seconds,
    or None (a file from before the runner has none)."""
    path = folder / f"{name}.md" if folder else result_path(name)
    if not path.exists():
        return None
    match = re.search(r"^- duration: (\d+) s$", path.read_text(), re.MULTILINE)
    return int(match.group(1)) if match else None


def estimate(name, run, quick, out=None):
    """Expected seconds: the last run's recorded duration (for a quick run,
    the last quick run's in the scratch folder), else the manifest's."""
    if quick:
        return (recorded_duration(name, out) if out else None) or QUICK_ESTIMATE_S
    return recorded_duration(name) or run["estimate_s"]


# Peers whose first fit in a process compiles numba code for tens of
# seconds; a quick run leaves them out unless asked (--with-peers).
COMPILING_PEERS = ("UMAP", "tslearn", "aeon")


def _methods_span(args):
    """Where the values of ``--methods`` start and end in ``args``."""
    start = args.index("--methods") + 1
    end = next((i for i in range(start, len(args)) if args[i].startswith("--")), len(args))
    return start, end


def quick_args(args, with_peers=False):
    """A clustering command's arguments for its quick run: the --methods
    without the compiling peers (the first method if none is left)."""
    if with_peers or "--methods" not in args:
        return list(args)
    start, end = _methods_span(args)
    methods = args[start:end]
    kept = [m for m in methods if not m.startswith(COMPILING_PEERS)] or methods[:1]
    return args[:start] + kept + args[end:]


def _peer_modules(args):
    """The packages a quick run cannot do without: those of the methods it
    keeps where every one of them is a peer (its table would otherwise
    have no row, as the script skips a peer that is not installed)."""
    from .clustering import PEER_MODULES

    if "--methods" not in args:
        return []
    kept = quick_args(args)
    start, end = _methods_span(kept)
    # Top-level packages, as `needs` names them (clustpy.deep is clustpy's).
    modules = [next((mod.split(".")[0] for pre, mod in PEER_MODULES.items()
                     if m.startswith(pre)), None) for m in kept[start:end]]
    return modules if modules and all(modules) else []


def command(run, quick, with_peers=False):
    args = quick_args(run["args"], with_peers) if quick else run["args"]
    return [sys.executable, "-m", f"benchmarks.{run['module']}", *args,
            *(["--smoke"] if quick else [])]


def _clock(seconds):
    seconds = int(round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def progress(done, total, elapsed, expected_left):
    """One plain-text progress line: a bar over the expected time."""
    fraction = elapsed / max(elapsed + expected_left, 1e-9)
    filled = int(round(BAR * fraction))
    return (f"[{'#' * filled}{'.' * (BAR - filled)}] {done}/{total} runs, "
            f"{_clock(elapsed)} elapsed, about {_clock(expected_left)} left")


def _quick_workers(jobs):
    """The quick runs' worker processes: spawned (not forked, so that no
    torch thread pool is copied half-initialised) in the repository root
    with one torch thread unless a run asks for more."""
    os.chdir(ROOT)
    os.environ.update(OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"))


def select(args, runs):
    if args.all:
        return [n for n, r in runs.items() if r["suite"] != "archive"]
    if args.suite:
        return [n for n, r in runs.items() if r["suite"] in args.suite]
    unknown = [n for n in args.names if n not in runs]
    if unknown:
        raise SystemExit(f"not in benchmarks/runs.toml: {', '.join(unknown)} "
                         f"(python -m benchmarks.run --list)")
    return args.names


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="runs of benchmarks/runs.toml")
    parser.add_argument("--all", action="store_true", help="every run but the archive")
    parser.add_argument("--suite", nargs="+", help="every run of these suites")
    parser.add_argument("--quick", action="store_true",
                        help="each script's --smoke run, written to --out")
    parser.add_argument("--with-peers", action="store_true",
                        help="--quick: keep UMAP's, tslearn's and aeon's peers (each compiles "
                             "numba code on its first fit, tens of seconds a table)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="--quick: runs at a time (one torch thread each); a full run "
                             "takes one at a time, as its fit times are measurements")
    parser.add_argument("--out", type=Path,
                        help="where --quick writes (default: a folder in the temp directory)")
    parser.add_argument("--list", action="store_true", help="list the runs and stop")
    parser.add_argument("--dry-run", action="store_true", help="print the commands and stop")
    parser.add_argument("--no-report", action="store_true",
                        help="do not rewrite the pages from the results afterwards")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="write results from a tree with uncommitted changes to sknebula/ "
                             "or benchmarks/, saving their diff in benchmarks/results/diffs/ "
                             "and its hash in each results file (refused by default)")
    args = parser.parse_args(argv)
    runs = manifest()
    if args.list:
        for name, run in runs.items():
            print(f"{run['suite']:<10} {name:<36} ~{_clock(estimate(name, run, False))}  "
                  f"{run['purpose']}")
        return 0
    if args.jobs > 1 and not args.quick:
        parser.error("--jobs is for --quick runs: a full run's fit times are measurements")
    names = select(args, runs)
    if not names:
        parser.error("name a run, or give --all or --suite")

    todo, skipped = [], []
    for name in names:
        lacking = missing(runs[name], args.quick)
        (skipped if lacking else todo).append((name, lacking))
    if skipped and not (args.quick or args.dry_run):
        raise SystemExit("not installed, so these tables would lose rows: " + "; ".join(
            f"{name} needs {', '.join(lacking)}" for name, lacking in skipped)
            + " (pip install -e '.[bench]', make bench-env for ClustPy)")
    for name, lacking in skipped:
        print(f"skip {name}: needs {', '.join(lacking)}")
    pinned = [n for n, _ in todo if "commit" in runs[n]
              and not commit().startswith(runs[n]["commit"])]
    if pinned and not (args.quick or args.dry_run):
        raise SystemExit("these tables measured an earlier commit; rerunning them here would "
                         "overwrite them with today's code (check out the commit first): "
                         + ", ".join(f"{n} ({runs[n]['commit']})" for n in pinned))
    todo = [name for name, _ in todo]
    env = dict(os.environ)
    env.pop(_common.ALLOW_DIRTY_ENV, None)
    recorded = None
    if not args.quick:
        # A full run writes into results/: from committed code only, unless
        # asked, and then with the diff that makes the tree it ran.
        changed = _common.changed_files()
        if changed and not args.allow_dirty:
            if not args.dry_run:
                raise SystemExit(_common.dirty_message(changed))
            print("note: the tree has uncommitted changes; this run would be refused "
                  "without --allow-dirty", flush=True)
        if changed and args.allow_dirty:
            env[_common.ALLOW_DIRTY_ENV] = "1"
            diff = _common.uncommitted_diff()
            recorded = (_common.head(), _common.diff_hash(diff))
            print(f"uncommitted changes to {len(changed)} file(s), recorded: diff sha256 "
                  f"{recorded[1]}, saved as benchmarks/results/diffs/{recorded[1]}.diff by "
                  f"the first table written", flush=True)
    out = None
    if args.quick:
        out = (args.out or Path(tempfile.gettempdir()) / "sknebula-bench-quick").resolve()
        out.mkdir(parents=True, exist_ok=True)
        env[OUT_ENV] = str(out)
    else:
        env.pop(OUT_ENV, None)

    jobs = max(1, args.jobs)
    expected = {name: estimate(name, runs[name], args.quick, out) for name in todo}
    print(f"{len(todo)} run(s){' (quick)' if args.quick else ''}, about "
          f"{_clock(sum(expected.values()) / jobs)} expected"
          + (f"; tables to {out}" if out else ""), flush=True)
    if args.dry_run:
        for name in todo:
            line = command(runs[name], args.quick, args.with_peers)[1:]
            print(f"{name}: {shlex.join(['python', *line])}")
        return 0

    start, failed, done = time.monotonic(), [], []
    lock = threading.Lock()

    def one(name):
        run = runs[name]
        cmd = command(run, args.quick, args.with_peers)
        with lock:
            print(f"  {name} ({run['suite']}, ~{_clock(expected[name])}): "
                  + shlex.join(["python", *cmd[1:]]), flush=True)
            if "commit" in run:
                print(f"  note: this table measured commit {run['commit']}; check it out to "
                      f"reproduce it", flush=True)
        threads = run["threads"] if isinstance(run["threads"], int) else max(run["threads"])
        env_run = dict(env, OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
        target = out / f"{name}.md" if out else result_path(name)
        before = target.stat().st_mtime if target.exists() else None
        t0 = time.monotonic()
        log = (out / f"{name}.log") if out else None
        if log:
            try:
                code = workers.submit(run_script, run["module"], cmd[3:], threads, out,
                                      log).result()
            except BrokenProcessPool:  # a worker died (killed, or crashed in C code)
                with log.open("a") as f:
                    f.write("\nthe worker process running this table died\n")
                code = -1
        else:
            code = subprocess.run(cmd, cwd=ROOT, env=env_run).returncode
        wrote = target.exists() and target.stat().st_mtime != before
        status = "ok" if code == 0 and wrote else (
            f"failed (exit {code})" if code else f"wrote no {target.name}")
        with lock:
            done.append(name)
            print(f"  {name}: {status} in {time.monotonic() - t0:.0f} s", flush=True)
            if status != "ok":
                failed.append(name)
                if log:
                    print("    " + "\n    ".join(log.read_text().splitlines()[-15:]), flush=True)
            left = sum(expected[n] for n in todo if n not in done) / jobs
            print(progress(len(done), len(todo), time.monotonic() - start, left), flush=True)

    print(progress(0, len(todo), 0.0, sum(expected.values()) / jobs), flush=True)
    with _quick_workers(jobs) if args.quick else contextlib.nullcontext() as workers:
        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(one, todo))
    if not args.quick and not args.no_report and len(failed) < len(todo):
        from . import report

        report.main()
    if recorded and len(failed) < len(todo):
        print(f"These results ran on {recorded[0]} + uncommitted changes (diff sha256 "
              f"{recorded[1]}); their headers say so. Commit the diff file with them; to "
              f"recover the tree they ran on: {_common.recover_command(*recorded)}")
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
