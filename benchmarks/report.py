"""Assemble benchmarks/README.md from the tables the scripts wrote.

    python -m benchmarks.report

Every number in README.md comes from a file in results/, written by the
benchmark that measured it; this script only stitches them together.
"""

from pathlib import Path

from ._common import RESULTS

INTRO = """\
# Benchmarks

Reproducible commands that print markdown tables; each writes its latest
table, with date, machine and command, to `results/<name>.md`, and
`python -m benchmarks.report` stitches them into this page. None runs in
the test command (too slow); a `--smoke` run of each does, so they cannot rot.

| command | what it measures |
|---|---|
| `python -m benchmarks.clustering` | ACC / NMI / ARI over 5 seeds (mean ± std, the worst seed, every seed), the fewest clusters used, median fit time and peak memory, at each torch thread count given (`--threads 1 2`), of NebulaVariationalClusterer at its defaults (the encoder of the data kind) against KMeans, GaussianMixture, ward, UMAP+GaussianMixture, tslearn's KShape and DTW k-means on the series, and ClustPy's DEC / IDEC / VaDE from their own venv (`make bench-env`), over the dev suite: digits, shifted sequences, anisotropic blobs, iris, aeon's ArrowHead, OSULeaf, BasicMotions and JapaneseVowels, Markov tokens, point clouds. `--name` writes parts run side by side to their own results file |
| `python -m benchmarks.select_k` | which `n_anchors` each label-free score picks (the clusterer's own `score`, ELBO, latent silhouette, penalised ELBO) in a 3-fold GridSearchCV on every dev-suite set, beside GaussianMixture's BIC |
| `python -m benchmarks.ablation` | what each part of the NVC objective contributes on digits |
| `python -m benchmarks.throughput` | training / inference samples per second against a plain PyTorch loop, and growth with n and n_anchors |
| `python -m benchmarks.disentangle`, `python -m benchmarks.embedding` | the quality bars of the supervised and self-supervised estimators, when present |

Fit times depend on the machine's load and on torch's thread count; results
of a seed depend on the thread count too (see README).
"""


def main():
    parts = [INTRO]
    order = ["clustering-nvc", "clustering-ninit", "clustering-peers", "clustering-tspeers",
             "clustering-clustpy", "clustering-volumes",
             "clustering", "select_k",
             "ablation",
             "throughput"]
    files = sorted(RESULTS.glob("*.md"), key=lambda p: (p.stem not in order,
                                                         order.index(p.stem) if p.stem in order else 0,
                                                         p.stem))
    for path in files:
        parts.append(path.read_text().strip())
    out = Path(__file__).parent / "README.md"
    out.write_text("\n\n".join(parts) + "\n")
    print(f"wrote {out} from {len(files)} result file(s)")


if __name__ == "__main__":
    main()
