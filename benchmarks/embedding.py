"""Self-supervised embeddings on digits: probes, one-class AUROC, kappa.

Run ``python -m benchmarks.embedding`` (3 seeds, about 11 minutes on 2 CPU
cores) or ``--smoke`` (seconds, writes nothing). Three experiments:

1. Representation: fit VariationalSimSiam and VariationalJointEmbedding
   without labels on a stratified 75% of digits, then a logistic-regression
   probe and 5-NN on the other 25%, beside raw pixels; again on a
   corrupted copy (strong noise and a random occluding square per image,
   fixed per seed) where raw pixels lose most.
2. One-class anomaly detection: train on one digit class of the train
   half, score the whole test half, AUROC of "is this class" averaged over
   the 10 classes, for VJE's score_samples beside IsolationForest,
   OneClassSVM and NebulaVariationalClusterer.score_samples.
3. Calibration of VI-SimSiam's concentration: mean kappa of the test half
   under growing input noise and occlusion, with the 5-NN accuracy of the
   embeddings at each level.
"""

import argparse
import time

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from sknebula import NebulaVariationalClusterer, VariationalJointEmbedding, VariationalSimSiam
from sknebula.augment import ImageAugment, VectorAugment

from ._common import markdown_table, mean_std, mean_std_worst, write_result

NOISE_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.5)
# The clean-data models whose kappa the calibration experiment reads.
CALIBRATED = (
    "VariationalSimSiam",
    "VariationalSimSiam, decorrelation=0",
    "VariationalSimSiam, decorrelation=1",
)
OCCLUSION_SIZES = (0, 2, 3, 4)


def corrupt(X, rng, noise=0.0, occlusion=0):
    """Add Gaussian noise (std ``noise``) and zero a random square of side
    ``occlusion`` pixels in every 8x8 image (rows of 64 values in [0, 1])."""
    images = X.reshape(-1, 8, 8).copy()
    if occlusion:
        for img in images:
            r, c = rng.randint(0, 9 - occlusion, size=2)
            img[r : r + occlusion, c : c + occlusion] = 0.0
    images += noise * rng.standard_normal(images.shape)
    return images.reshape(len(X), -1)


def probe(F_train, y_train, F_test, y_test):
    """Linear-probe accuracy on the features as they are and standardised,
    and 5-NN accuracy.

    The standardised probe does not depend on the features' scale: under
    the default ``C=1`` the penalty weighs far more on unit-norm
    embeddings (entries about 0.1) than on pixels in [0, 1].
    """
    linear = LogisticRegression(max_iter=5000).fit(F_train, y_train).score(F_test, y_test)
    standardised = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    standardised = standardised.fit(F_train, y_train).score(F_test, y_test)
    knn = KNeighborsClassifier(5).fit(F_train, y_train).score(F_test, y_test)
    return linear, standardised, knn


def _common(seed, smoke):
    # Defaults: what a user gets first (VI-SimSiam draws its second view from
    # one of 10 input-space neighbours; VJE from the sample itself).
    common = dict(random_state=seed)
    if smoke:
        common.update(hidden_dims=(32,), latent_dim=8, max_epochs=3)
    return common


def estimators(seed, smoke):
    common = _common(seed, smoke)
    untrained = dict(common, max_epochs=1, lr=1e-12)
    # Cost: half of the 100 epochs that max_epochs="auto" trains on digits.
    half = dict(common, max_epochs=2 if smoke else 50)
    return {
        "VariationalSimSiam": VariationalSimSiam(**common),
        # Ablations: the paper's objective, and a strong penalty.
        "VariationalSimSiam, decorrelation=0": VariationalSimSiam(decorrelation=0.0, **common),
        "VariationalSimSiam, decorrelation=1": VariationalSimSiam(decorrelation=1.0, **common),
        "VariationalSimSiam, max_epochs=50": VariationalSimSiam(**half),
        "VariationalJointEmbedding": VariationalJointEmbedding(**common),
        "VariationalJointEmbedding, max_epochs=50": VariationalJointEmbedding(**half),
        # Ablation: the paper's objective, without the decorrelation term.
        "VariationalJointEmbedding, decorrelation=0": VariationalJointEmbedding(
            decorrelation=0.0, **common
        ),
        # Control: random features of the same network, never trained.
        "VariationalSimSiam, untrained": VariationalSimSiam(**untrained),
    }


def representation(X, y, seeds, smoke):
    rows, kappa_rows, fitted = {}, {}, {}
    for seed in seeds:
        # The protocol a user would run: fit on a stratified 75%, probe on 25%.
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=seed,
                                              stratify=y)
        rng = np.random.RandomState(seed)
        hard_tr = corrupt(Xtr, rng, noise=0.3, occlusion=3)
        hard_te = corrupt(Xte, rng, noise=0.3, occlusion=3)
        for variant, (A, B) in {"clean": (Xtr, Xte), "noise 0.3 + 3x3 occlusion": (hard_tr, hard_te)}.items():
            rows.setdefault(("raw pixels", variant), []).append((*probe(A, ytr, B, yte), 0.0))
            for name, est in estimators(seed, smoke).items():
                start = time.perf_counter()
                est.fit(A)
                secs = time.perf_counter() - start
                scores = probe(est.transform(A), ytr, est.transform(B), yte)
                rows.setdefault((name, variant), []).append((*scores, secs))
                # The same fitted model; only what transform returns changes.
                est.set_params(representation="backbone")
                scores = probe(est.transform(A), ytr, est.transform(B), yte)
                rows.setdefault((f"{name}, backbone", variant), []).append((*scores, secs))
                est.set_params(representation="head")
                if variant == "clean" and name in CALIBRATED:
                    fitted[name] = (est, Xte, yte, est.transform(Xtr), ytr)
        # The same model with views whose noise spans the test noise levels.
        noisy_views = VariationalSimSiam(
            augmentation=VectorAugment(noise=2.0), **_common(seed, smoke)
        ).fit(Xtr)
        kappa_rows[seed] = {
            "default views": calibration(*fitted["VariationalSimSiam"], seed),
            "decorrelation=0": calibration(*fitted["VariationalSimSiam, decorrelation=0"], seed),
            "decorrelation=1": calibration(*fitted["VariationalSimSiam, decorrelation=1"], seed),
            "noise=2.0 views": calibration(
                noisy_views, Xte, yte, noisy_views.transform(Xtr), ytr, seed
            ),
        }
    return rows, kappa_rows


def calibration(est, Xte, yte, Ztr, ytr, seed):
    """Mean kappa and 5-NN accuracy per corruption level of the test half."""
    knn = KNeighborsClassifier(5).fit(Ztr, ytr)
    out = {}
    for kind, levels in (("noise", NOISE_LEVELS), ("occlusion", OCCLUSION_SIZES)):
        for level in levels:
            rng = np.random.RandomState(1000 + seed)
            kw = {"noise": level} if kind == "noise" else {"occlusion": level}
            Xc = corrupt(Xte, rng, **kw)
            kappa = est.predict_concentration(Xc)
            out[(kind, level)] = (kappa.mean(), knn.score(est.transform(Xc), yte))
    # Does kappa rank the clean test samples the embedding gets right first?
    kappa = est.predict_concentration(Xte)
    right = knn.predict(est.transform(Xte)) == yte
    out["auroc"] = roc_auc_score(right, kappa) if 0 < right.mean() < 1 else float("nan")
    return out


def one_class(X, y, seeds, smoke):
    classes = range(2) if smoke else range(10)
    epochs = 2 if smoke else 150
    small = dict(hidden_dims=(32,), latent_dim=8) if smoke else {}
    aucs, seconds = {}, {}
    for seed in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
        for c in classes:
            train, target = Xtr[ytr == c], (yte == c)
            vje = dict(
                augmentation=ImageAugment(flip=0.0),
                batch_size=32,
                max_epochs=epochs,
                random_state=seed,
                **small,
            )
            models = {
                "VariationalJointEmbedding (image views)": (
                    VariationalJointEmbedding(**vje),
                    (-1, 8, 8),
                ),
                # Ablation: the paper's objective, without the decorrelation term.
                "VariationalJointEmbedding, decorrelation=0": (
                    VariationalJointEmbedding(**dict(vje, decorrelation=0.0)),
                    (-1, 8, 8),
                ),
                # Control: the same network left at its random initialisation.
                "VariationalJointEmbedding, untrained": (
                    VariationalJointEmbedding(**dict(vje, max_epochs=1, lr=1e-12)),
                    (-1, 8, 8),
                ),
                "NebulaVariationalClusterer": (
                    NebulaVariationalClusterer(
                        n_anchors=3, max_epochs=epochs, batch_size=32, random_state=seed, **small
                    ),
                    (-1, 64),
                ),
                "IsolationForest": (IsolationForest(random_state=seed), (-1, 64)),
                "OneClassSVM (rbf, gamma='scale')": (OneClassSVM(gamma="scale"), (-1, 64)),
            }
            for name, (model, shape) in models.items():
                start = time.perf_counter()
                model.fit(train.reshape(shape))
                seconds.setdefault(name, []).append(time.perf_counter() - start)
                scores = model.score_samples(Xte.reshape(shape))
                aucs.setdefault(name, {}).setdefault(seed, []).append(roc_auc_score(target, scores))
    return aucs, seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run, writes nothing")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    seeds = list(range(1 if args.smoke else args.seeds))
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    if args.smoke:
        keep = np.random.RandomState(0).permutation(len(X))[:300]
        X, y = X[keep], y[keep]

    start = time.perf_counter()
    rows, kappa = representation(X, y, seeds, args.smoke)
    table = markdown_table(
        ["features", "data", "linear probe", "linear probe, standardised", "5-NN", "fit s"],
        [
            [name, variant] + [mean_std_worst([r[i] for r in runs]) for i in range(3)]
            + [f"{np.mean([r[3] for r in runs]):.1f}"]
            for (name, variant), runs in rows.items()
        ],
    )
    views = list(kappa[seeds[0]])
    levels = [k for k in kappa[seeds[0]][views[0]] if k != "auroc"]
    kappa_table = markdown_table(
        ["corruption of the test half", "level"]
        + [f"{col} ({v})" for v in views for col in ("mean kappa", "5-NN")],
        [
            [kind, level]
            + [
                cell
                for v in views
                for cell in (
                    mean_std([kappa[s][v][(kind, level)][0] for s in seeds], 1),
                    mean_std([kappa[s][v][(kind, level)][1] for s in seeds]),
                )
            ]
            for kind, level in levels
        ],
    )
    kappa_auc = markdown_table(
        ["views", "AUROC of kappa"],
        [[v, mean_std([kappa[s][v]["auroc"] for s in seeds])] for v in views],
    )

    aucs, fit_seconds = one_class(X, y, seeds, args.smoke)
    per_seed = {name: [np.mean(v) for v in runs.values()] for name, runs in aucs.items()}
    per_class = {name: np.mean([v for v in runs.values()], axis=0) for name, runs in aucs.items()}
    oc_table = markdown_table(
        ["detector", "mean AUROC (10 classes), worst seed", "worst class AUROC", "fit s (median)"],
        [[name, mean_std_worst(v), f"{per_class[name].min():.3f}",
          f"{np.median(fit_seconds[name]):.1f}"] for name, v in per_seed.items()],
    )

    body = (
        f"sklearn digits scaled to [0, 1], seeds {seeds}: the embeddings are fitted on a "
        "stratified 75% and probed on the other 25%, the one-class detectors use a 50/50 split; "
        "labels are used only by the probes and to score.\n\n"
        "### Linear probe and 5-NN on the embeddings (mean ± std over seeds, worst seed)\n\n"
        "Embeddings: `transform` (VI-SimSiam: unit-norm mean directions; VJE: embeddings; "
        "`, backbone`: the same fitted model with `representation=\"backbone\"`, the backbone's "
        "512 features; `untrained`: the same network at its random initialisation), "
        "estimators at their defaults (VJE `decorrelation=1`, `n_neighbors=0`; VI-SimSiam "
        "`decorrelation=0.1`, `n_neighbors=10`, its second view drawn from one of the 10 "
        "input-space neighbours; the `decorrelation=` rows change only that): `latent_dim=64`, "
        "default vector augmentations, 100 epochs. The corrupted data adds "
        "N(0, 0.3^2) noise and zeroes a random 3x3 square in every image (train and test). "
        "Linear probe: `LogisticRegression()` on the features as they are and, in the next column, "
        "after `StandardScaler` (unit-norm embeddings have entries near 0.1, on which the default "
        "`C=1` penalty weighs far more than on pixels).\n\n"
        f"{table}\n\n"
        "### One-class anomaly detection (train on one digit, test on the whole test half)\n\n"
        "VJE and NVC: 150 epochs, batch 32; VJE's image views are 8x8 images with "
        "`ImageAugment(flip=0)`. VJE's score: the polar Student-t likelihood of the embedding "
        "under every clean training embedding. The untrained control is the same network at its "
        "random initialisation (1 epoch at lr 1e-12).\n\n"
        f"{oc_table}\n\n"
        "### VI-SimSiam concentration under corruption (clean-trained model)\n\n"
        "Noise is N(0, level^2) on pixels in [0, 1]; occlusion zeroes a random level x level "
        "square. Default views add noise of at most 0.1 times each pixel's standard "
        "deviation; the `decorrelation=` models have the same views; the last model's views add "
        "up to 2.0 (`VectorAugment(noise=2.0)`), which spans the test noise levels.\n\n"
        f"{kappa_table}\n\n"
        "AUROC of kappa for separating the clean test samples that 5-NN on the embedding "
        "classifies correctly from the wrong ones (mean ± std over seeds), each model's "
        "views:\n\n"
        f"{kappa_auc}\n\n"
        f"Total time: {time.perf_counter() - start:.0f} s."
    )
    return write_result("embedding", "Self-supervised embeddings on digits", body, smoke=args.smoke)


if __name__ == "__main__":
    main()
