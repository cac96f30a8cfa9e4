"""LabelDisentangledVAE on digits: accuracy and how well z_u hides the label.

    python -m benchmarks.disentangle            # full run, writes results/dev/disentangle.md
    python -m benchmarks.disentangle --smoke    # seconds; what the test suite runs

sklearn digits scaled to [0, 1], stratified 75/25 train/test splits, one
split and one model seed per seed. For each variant: test accuracy of the
estimator; test accuracy of a LogisticRegression trained on the z_s means
and on the z_u means of the training set (the quality bar: z_u at least 0.3
below z_s); and how much of the reconstruction z_u carries (test squared
error with z_u set to 0, over that with the sample's own z_u; 1 = unused).
"""

import argparse
import time

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from sknebula import LabelDisentangledVAE

from ._common import markdown_table, mean_std, write_result

VARIANTS = {
    "LabelDisentangledVAE (defaults)": {},
    "no adversary (adversarial_weight=0)": {"adversarial_weight": 0.0},
    "stronger adversary (adversarial_weight=3)": {"adversarial_weight": 3.0},
    "plain ELBO weight (beta=1)": {"beta": 1.0},
    # Cost: half of the 100 epochs that max_epochs="auto" trains on digits.
    "half the epochs (max_epochs=50)": {"max_epochs": 50},
}


def _probe(Z_train, y_train, Z_test, y_test):
    clf = LogisticRegression(max_iter=2000).fit(Z_train, y_train)
    return clf.score(Z_test, y_test)


def _sse(est, Z, X):
    return ((est.inverse_transform(Z) - X) ** 2).sum(1).mean()


def evaluate(params, X, y, seed):
    Xtr, Xte, ytr, yte = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y
    )
    start = time.perf_counter()
    est = LabelDisentangledVAE(random_state=seed, **params).fit(Xtr, ytr)
    seconds = time.perf_counter() - start
    r = est.class_means_.shape[1]
    Ztr, Zte = est.transform(Xtr), est.transform(Xte)
    no_style = Zte.copy()
    no_style[:, r:] = 0.0
    return {
        "accuracy": est.score(Xte, yte),
        "zs": _probe(Ztr[:, :r], ytr, Zte[:, :r], yte),
        "zu": _probe(Ztr[:, r:], ytr, Zte[:, r:], yte),
        "style": _sse(est, no_style, Xte) / _sse(est, Zte, Xte),
        "seconds": seconds,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run, writes nothing")
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    seeds = [0, 1, 2]
    variants = VARIANTS
    if args.smoke:
        X, y, seeds = X[:300], y[:300], [0]
        variants = {"smoke": dict(max_epochs=2, hidden_dims=(32,))}

    rows = []
    for name, params in variants.items():
        runs = [evaluate(params, X, y, seed) for seed in seeds]
        col = {k: [r[k] for r in runs] for k in runs[0]}
        gap = np.subtract(col["zs"], col["zu"])
        rows.append([
            name,
            mean_std(col["accuracy"]),
            f"{min(col['accuracy']):.3f}",
            mean_std(col["zs"]),
            mean_std(col["zu"]),
            f"{gap.min():.3f}",
            mean_std(col["style"], 2),
            f"{np.mean(col['seconds']):.1f}",
        ])

    Xtr_te = [train_test_split(X, y, test_size=0.25, random_state=s, stratify=y) for s in seeds]
    raw = [_probe(a, c, b, d) for a, b, c, d in Xtr_te]
    rows.append(["LogisticRegression on raw pixels", mean_std(raw), f"{min(raw):.3f}",
                 "", "", "", "", ""])

    header = ["model", "test accuracy", "min", "LR on z_s", "LR on z_u",
              "min (z_s - z_u)", "style in z_u", "fit s"]
    body = (
        f"digits / 16, stratified 75/25 splits, seeds {seeds}. Bar: test accuracy "
        ">= 0.96 and LR on z_u at least 0.3 below LR on z_s, every seed. "
        "'style in z_u': test reconstruction error with z_u = 0 over the error "
        "with the sample's own z_u (1.00 = z_u unused).\n\n"
        + markdown_table(header, rows)
    )
    return write_result("disentangle", "LabelDisentangledVAE on digits", body, smoke=args.smoke)


if __name__ == "__main__":
    main()
