"""Tiny runs of the NVC benchmark scripts, so that they cannot rot; the
manifest of runs and the runner."""

import pytest

from benchmarks import ablation, clustering, throughput
from sknebula._data import _faiss

# The smoke runs below take one torch thread where a benchmark's default is
# two: beside the other test process, two would oversubscribe the cores.


def test_clustering_benchmark_smoke(capsys):
    rows = clustering.main(["--smoke", "--threads", "1",
                            "--methods", "NebulaVariationalClusterer", "KMeans"])
    assert [r[1] for r in rows] == ["NebulaVariationalClusterer", "KMeans"]
    out = capsys.readouterr().out
    assert "| dataset | method | threads | ACC | worst ACC |" in out
    assert all(r[9] == f"{r[9].split('/')[1]}/{r[9].split('/')[1]}" for r in rows), "clusters used"


def test_ablation_benchmark_smoke(capsys):
    rows = ablation.main(["--smoke", "--threads", "1"])
    assert len(rows) == 2
    out = capsys.readouterr().out
    assert "no kNN partners" in out
    assert "| variant | ACC (worst) | NMI (worst) |" in out


def test_front_benchmark_smoke(capsys):
    from benchmarks import front

    rows = front.main(["--smoke"])
    assert [r[0] for r in rows] == ["defaults", "KMeans"]
    # Samples seen: the warm-up and each restart's anchor phase of 200 digits.
    assert rows[0][1] == f"{200 * 4:,}" and rows[0][2] == 1
    assert "| setting | samples seen | restarts |" in capsys.readouterr().out


def test_throughput_benchmark_smoke(capsys):
    throughput.main(["--smoke", "--threads", "1"])
    out = capsys.readouterr().out
    for table in ("skorch overhead", "peak RSS MB", "2 ranks x 1 thread"):
        assert table in out
    # The search table needs the optional faiss (the 'scale' extra); without
    # it the benchmark says so instead of failing.
    assert ("recall@20" in out) == (_faiss() is not None)
    assert ("needs faiss" in out) == (_faiss() is None)


def test_select_k_benchmark_smoke(capsys):
    from benchmarks import select_k

    rows = select_k.main(["--smoke", "--threads", "1"])
    assert len(rows) == 1 and rows[0][1] == 10
    assert "GaussianMixture BIC" in capsys.readouterr().out


def test_the_defaults_page_is_the_one_the_results_give():
    """docs/user_guide/defaults.rst is written by benchmarks.report from the
    result tables; a hand edit, or results without a regenerated page, fail."""
    from benchmarks import report

    assert report.PAGE.read_text() == report.defaults_page()
    assert "NebulaVariationalClusterer" in report.PAGE.read_text()


def test_the_readme_quotes_the_front_tables():
    """README.md's sentence on the demo's benchmark is written by
    benchmarks.report from the front tables."""
    from benchmarks import report

    text = report.ROOT_README.read_text()
    assert report.README_SECTION.search(text) and report.readme_with_results(text) == text


def test_series_targets_take_each_peers_best_row(monkeypatch):
    """The series targets table compares the default with each peer's best
    measured row on the same set, at one thread, and averages the sets."""
    from benchmarks import report

    table = report._series_targets()
    assert {"sequences", "OSULeaf", "ItalyPowerDemand"} <= {name for name, _ in table}
    for name, cells in table:
        assert cells["default"]["method"] == report.DEFAULT
        assert all(r["dataset"] == name and r["threads"] == "1" for r in cells.values() if r)
        assert cells["peer"]["method"] != report.DEFAULT
    section = report._series_targets_section()
    assert f"mean over these {len(table)} sets" in section

    # On rows made up for it: each cell is the best row at one thread of
    # that set, among several runs of a method and several metrics.
    def row(dataset, method, acc, threads="1"):
        return {"dataset": dataset, "method": method, "threads": threads, "ACC": f"{acc} ± 0.01"}

    ours = report.DEFAULT
    sbd, dtw = f"{ours}(metric='sbd')", f"{ours}(metric='dtw')"
    series = [row("A", ours, 0.60), row("A", dtw, 0.65), row("A", sbd, 0.70),
              row("A", dtw, 0.90, "2"), row("B", ours, 0.50)]
    peers = [row("A", "KMeans", 0.55), row("A", "aeon KShape", 0.58),
             row("A", "tslearn KShape", 0.62), row("A", report.UMAP_GMM, 0.61),
             row("A", report.UMAP_GMM, 0.66), row("A", report.UMAP_GMM, 0.95, "2"),
             row("B", "KMeans", 0.99)]
    monkeypatch.setattr(report, "_series_results", lambda: (None, series))
    monkeypatch.setattr(report, "result_rows", lambda names: peers)
    made_up = dict(report._series_targets())
    assert list(made_up) == ["A", "B"]
    expected = {
        "A": {"default": series[0], "KMeans": peers[0], "k-Shape": peers[2],
              report.UMAP_GMM: peers[4], "metric": series[2], "peer": peers[4]},
        "B": {"default": series[4], "KMeans": peers[6], "k-Shape": None,
              report.UMAP_GMM: None, "metric": series[4], "peer": peers[6]},
    }
    for name, cells in expected.items():
        assert made_up[name].keys() == cells.keys()
        for column, picked in cells.items():
            assert made_up[name][column] is picked, (name, column)


def test_partners_benchmark_smoke(capsys):
    from benchmarks import partners

    rows = partners.main(["--smoke"])
    assert len(rows) == 1 and len(rows[0]) == len(partners.COLUMNS) + 2
    purities = [float(c) for c in rows[0][1:5]]
    assert all(0.0 <= p <= 1.0 for p in purities)
    assert "latent k-NN purity" in capsys.readouterr().out


# ------------------------------------------------ the manifest and the runner

SUITES = {"dev", "heldout", "series", "images", "throughput", "archive"}
KEYS = {"suite", "module", "args", "data", "seeds", "threads", "purpose", "estimate_s"}


def test_every_results_file_is_a_run_of_the_manifest():
    """benchmarks/runs.toml names every results file, each in its suite's
    folder, with what reruns it; a file written by hand or left outside the
    manifest fails."""
    import importlib
    import shlex

    from benchmarks._common import RESULTS, manifest, result_path

    runs = manifest()
    for name, run in runs.items():
        assert KEYS <= run.keys(), (name, KEYS - run.keys())
        assert run["suite"] in SUITES and run["estimate_s"] > 0, name
        assert importlib.util.find_spec(f"benchmarks.{run['module']}"), name
        path = result_path(name)
        assert path == RESULTS / run["suite"] / f"{name}.md" and path.exists(), name
        head = path.read_text().split("\n\n")[1]
        command = shlex.join(["python", "-m", f"benchmarks.{run['module']}", *run["args"]])
        # The header a run writes (or, before the runner, the one completed
        # from the manifest): the manifest's command reruns the file.
        assert f"- command: `{command}`" in head.splitlines(), name
        for field in ("run", "commit", "date", "machine", "threads"):
            assert f"\n- {field}: " in "\n" + head, (name, field)
        assert ("- recorded: before benchmarks.run existed" in head) != ("- duration: " in head)
    files = {p.relative_to(RESULTS) for p in RESULTS.rglob("*.md")}
    assert files == {result_path(n).relative_to(RESULTS) for n in runs}, "not in runs.toml"


def test_no_page_reads_the_archive():
    from benchmarks import report
    from benchmarks._common import manifest

    archived = {n for n, r in manifest().items() if r["suite"] == "archive"}
    assert archived and not {p.stem for p in report.readme_files()} & archived
    for names in (report.NVC_RESULTS, report.PEER_RESULTS, report.SERIES_RESULTS,
                  report.VOLUME_RESULTS, report.IMAGE_RESULTS):
        assert not set(names) & archived


def test_the_runner_reruns_tables_quick_into_a_scratch_folder(tmp_path, monkeypatch, capsys):
    """`python -m benchmarks.run --quick NAME...` runs each table's --smoke
    command from the manifest in a fresh process (one of its workers) and
    writes the table, under the tool's header, to the scratch folder, never
    to results/. Three scripts that need no optional package, the quickest
    of their kind: a clustering table, another whose quick run drops the
    compiling peers from its --methods, and one of another estimator."""
    from benchmarks import run
    from benchmarks._common import ROOT, result_files

    # The runner's main(), here rather than in a process of its own (whose
    # imports cost more than the three tables): it moves to the repository
    # root and sets its workers' thread counts, which the test undoes.
    monkeypatch.chdir(ROOT)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        monkeypatch.setenv(name, "1")
    before = {p: p.stat().st_mtime for p in result_files(archive=True)}
    names = ["clustering-volumes-nvc", "features", "disentangle"]
    assert run.main(["--quick", "--out", str(tmp_path), *names]) == 0
    out = capsys.readouterr().out
    assert "3 run(s) (quick), about" in out and "3/3 runs" in out
    for name in names:
        text = (tmp_path / f"{name}.md").read_text()
        assert f"- run: `python -m benchmarks.run {name}`" in text
        for field in ("command", "commit", "date", "machine", "threads", "duration"):
            assert f"\n- {field}: " in text, (name, field)
        assert "--smoke" in text.split("- command: ")[1].splitlines()[0]
    assert {p: p.stat().st_mtime for p in result_files(archive=True)} == before


def test_the_runner_estimates_before_it_starts(capsys):
    from benchmarks import run
    from benchmarks._common import manifest

    assert run.main(["--all", "--dry-run"]) == 0
    out = capsys.readouterr().out
    runs = {n: r for n, r in manifest().items() if r["suite"] != "archive"}
    assert f"{len(runs) - sum(bool(run.missing(r)) for r in runs.values())} run(s), about" in out
    assert run.progress(1, 4, 30.0, 90.0).startswith("[" + "#" * 8 + "." * 22 + "] 1/4 runs")
    # A quick run leaves out the peers that compile numba code on their
    # first fit, but never every method of a table.
    args = ["--methods", "NebulaVariationalClusterer", "UMAP+GaussianMixture", "--name", "x"]
    assert run.quick_args(args) == ["--methods", "NebulaVariationalClusterer", "--name", "x"]
    assert run.quick_args(args, with_peers=True) == args
    assert run.quick_args(["--methods", "tslearn KShape", "aeon KShape"]) == [
        "--methods", "tslearn KShape"]


@pytest.mark.slow
def test_every_table_reruns_quick(tmp_path):
    """The whole quick run, `python -m benchmarks.run --all --quick`."""
    from benchmarks import run

    assert run.main(["--all", "--quick", "--out", str(tmp_path)]) == 0


def test_a_quick_run_that_fails_says_why(tmp_path, monkeypatch):
    """A quick run's worker returns the exit code the command would have
    had, and its log holds the reason (here argparse's)."""
    import sys

    import torch

    from benchmarks import _common
    from benchmarks._inprocess import run_script

    # run_script is made for a worker process: undo what it sets here.
    for name in ("RUNNING_MODULE", "_STARTED"):
        monkeypatch.setattr(_common, name, getattr(_common, name))
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.setenv(_common.OUT_ENV, str(tmp_path))
    threads = torch.get_num_threads()
    try:
        code = run_script("front", ["--no-such-option", "--smoke"], 1, tmp_path,
                          tmp_path / "front.log")
    finally:
        torch.set_num_threads(threads)
    assert code == 2
    assert "unrecognized arguments: --no-such-option" in (tmp_path / "front.log").read_text()
    assert not (tmp_path / "front.md").exists()


def test_features_benchmark_smoke(capsys):
    from benchmarks import features

    rows = features.main(["--smoke", "--methods", "raw input", "NebulaAutoencoder(latent_dim=10)"])
    assert [r[:2] for r in rows] == [["digits", "raw input"],
                                     ["digits", "NebulaAutoencoder(latent_dim=10)"]]
    # The probe scores a trained latent above chance (10 classes).
    assert float(rows[1][3].split()[0]) > 0.3
    assert "| dataset | features | accuracy per seed |" in capsys.readouterr().out


def test_a_quick_run_of_peers_only_needs_their_package():
    """A table whose quick run keeps only peers of one package (tslearn's
    KShape) needs that package, else it would write no row; a table with a
    method of its own needs none."""
    from benchmarks import run

    peers_only = ["--methods", "tslearn KShape", "UMAP+GaussianMixture", "--name", "x"]
    assert run._peer_modules(peers_only) == ["tslearn"]
    assert run._peer_modules(["--methods", "NebulaVariationalClusterer", "tslearn KShape"]) == []
    assert run._peer_modules(["--threads", "1"]) == []


# ------------------------------------------ results from uncommitted code

def _git(root, *args):
    import subprocess

    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                          cwd=root, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A git checkout of its own, with sknebula/ and benchmarks/results/,
    that benchmarks._common reads in place of the repository."""
    from benchmarks import _common

    root = tmp_path / "repo"
    (root / "sknebula").mkdir(parents=True)
    (root / "benchmarks" / "results").mkdir(parents=True)
    (root / "sknebula" / "core.py").write_text("A = 1\n")
    (root / "benchmarks" / "results" / "old.md").write_text("old table\n")
    _git(root, "init", "-q")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "start")
    monkeypatch.setattr(_common, "ROOT", root)
    monkeypatch.setattr(_common, "RESULTS", root / "benchmarks" / "results")
    monkeypatch.delenv(_common.OUT_ENV, raising=False)
    monkeypatch.delenv(_common.ALLOW_DIRTY_ENV, raising=False)
    return root


def test_results_are_not_written_from_uncommitted_code(checkout, monkeypatch, capsys):
    from benchmarks import _common

    result = checkout / "benchmarks" / "results" / "made-up.md"
    # The runner's own outputs do not make the tree dirty.
    (checkout / "benchmarks" / "results" / "old.md").write_text("rerun table\n")
    assert _common.changed_files() == []
    _common.write_result("made-up", "A table", "| a |", echo=False)
    assert "- commit: " + _common.head() + "\n" in result.read_text()

    (checkout / "sknebula" / "core.py").write_text("A = 2\n")
    (checkout / "sknebula" / "new.py").write_text("B = 1\n")
    assert _common.changed_files() == ["sknebula/core.py", "sknebula/new.py"]
    before = result.read_text()
    with pytest.raises(SystemExit, match=r"Not written to benchmarks/results/made-up\.md.*"
                                         r"sknebula/core\.py, sknebula/new\.py.*--allow-dirty"):
        _common.write_result("made-up", "A table", "| b |", echo=False)
    assert result.read_text() == before
    # The runner refuses before it runs anything; a quick run, into a
    # scratch folder, and a dry run go ahead.
    from benchmarks import run

    with pytest.raises(SystemExit, match="Uncommitted changes.*sknebula/core.py.*--allow-dirty"):
        run.main(["ablation", "--no-report"])
    assert run.main(["ablation", "--quick", "--dry-run"]) == 0
    assert run.main(["ablation", "--dry-run"]) == 0
    assert "would be refused without --allow-dirty" in capsys.readouterr().out
    assert run.main(["ablation", "--dry-run", "--allow-dirty"]) == 0
    digest = _common.diff_hash(_common.uncommitted_diff())
    assert f"recorded: diff sha256 {digest}" in capsys.readouterr().out


def test_results_from_uncommitted_code_record_a_diff_that_recovers_it(checkout, monkeypatch):
    import subprocess

    from benchmarks import _common

    (checkout / "sknebula" / "core.py").write_text("A = 2\n")
    (checkout / "sknebula" / "new.py").write_text("B = 1\n")
    monkeypatch.setenv(_common.ALLOW_DIRTY_ENV, "1")
    _common.write_result("made-up", "A table", "| a |", echo=False)
    text = (checkout / "benchmarks" / "results" / "made-up.md").read_text()
    head = _common.head()
    digest = _common.diff_hash(_common.uncommitted_diff())
    saved = checkout / "benchmarks" / "results" / "diffs" / f"{digest}.diff"
    assert _common.diff_hash(saved.read_bytes()) == digest
    assert f"- commit: {head} + uncommitted changes (diff sha256 {digest}, saved as " in text
    # The command the header gives rebuilds the tree the table came from.
    recover = _common.recover_command(head, digest)
    assert f"`{recover}`" in text
    subprocess.run(recover, shell=True, cwd=checkout, check=True, capture_output=True)
    rebuilt = checkout.parent / f"sknebula-{digest}"
    assert (rebuilt / "sknebula" / "core.py").read_text() == "A = 2\n"
    assert (rebuilt / "sknebula" / "new.py").read_text() == "B = 1\n"
    # Rerun from a clean tree, the table no longer names the diff, which goes.
    _git(checkout, "checkout", "sknebula/core.py")
    (checkout / "sknebula" / "new.py").unlink()
    _common.write_result("made-up", "A table", "| a |", echo=False)
    assert not saved.exists()
