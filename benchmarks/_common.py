"""Shared helpers of the benchmark scripts: machine line, tables, results."""

import datetime
import os
import platform
import sys
from pathlib import Path

import numpy as np

RESULTS = Path(__file__).parent / "results"


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


def write_result(name, title, body, smoke=False, script=None, echo=True):
    """Print ``body`` (unless not ``echo``) and, unless smoke, write it with
    date, machine and command."""
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text = (
        f"## {title}\n\n"
        f"- date: {stamp}\n- machine: {machine()}\n"
        f"- command: `python -m benchmarks.{script or name} {' '.join(sys.argv[1:])}`".rstrip() + "\n\n"
        f"{body}\n"
    )
    if echo:
        print(text)
    if not smoke:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}.md").write_text(text)
    return text


def read_tables(name):
    """The markdown tables of ``results/<name>.md`` as lists of row dicts
    (keyed by the header), in file order; [] when the file is absent."""
    path = RESULTS / f"{name}.md"
    if not path.exists():
        return []
    tables, header = [], None
    for line in path.read_text().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = cells
            tables.append([])
        elif not set("".join(cells)) <= set("-"):
            tables[-1].append(dict(zip(header, cells)))
    return tables


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
