"""Tiny runs of the NVC benchmark scripts, so that they cannot rot."""

from benchmarks import ablation, clustering, throughput
from sknebula._data import _faiss


def test_clustering_benchmark_smoke(capsys):
    rows = clustering.main(["--smoke", "--methods", "NebulaVariationalClusterer", "KMeans"])
    assert [r[1] for r in rows] == ["NebulaVariationalClusterer", "KMeans"]
    out = capsys.readouterr().out
    assert "| dataset | method | threads | ACC | worst ACC |" in out
    assert all(r[9] == f"{r[9].split('/')[1]}/{r[9].split('/')[1]}" for r in rows), "clusters used"


def test_ablation_benchmark_smoke(capsys):
    rows = ablation.main(["--smoke"])
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
    throughput.main(["--smoke"])
    out = capsys.readouterr().out
    for table in ("skorch overhead", "peak RSS MB", "2 ranks x 1 thread"):
        assert table in out
    # The search table needs the optional faiss (the 'scale' extra); without
    # it the benchmark says so instead of failing.
    assert ("recall@20" in out) == (_faiss() is not None)
    assert ("needs faiss" in out) == (_faiss() is None)


def test_select_k_benchmark_smoke(capsys):
    from benchmarks import select_k

    rows = select_k.main(["--smoke"])
    assert len(rows) == 1 and rows[0][1] == 10
    assert "GaussianMixture BIC" in capsys.readouterr().out


def test_the_defaults_page_is_the_one_the_results_give():
    """docs/user_guide/defaults.rst is written by benchmarks.report from the
    result tables; a hand edit, or results without a regenerated page, fail."""
    from benchmarks import report

    assert report.PAGE.read_text() == report.defaults_page()
    assert "NebulaVariationalClusterer" in report.PAGE.read_text()
