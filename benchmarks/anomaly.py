"""One-class anomaly detection: VJE's scores against classical and PyOD detectors.

Run ``python -m benchmarks.anomaly`` (3 seeds, about 20 minutes on 2 CPU
cores at one torch thread) or ``--smoke`` (seconds, writes nothing). Needs
the ``bench`` extra (PyOD).

For every data set and seed, a stratified 50/50 split; each class in turn is
the normal one: every detector fits on that class's rows of the train half
only and scores the whole test half; the AUROC is that of "is the normal
class" (higher score = more normal; PyOD's outlier scores are negated).
Reported: the mean AUROC over the classes (mean ± std over seeds, worst
seed), the worst class (per-class AUROC averaged over seeds, then the
minimum) and the mean fit time. Every detector runs in the same process, on
the same splits.

Data: sklearn's digits (pixels / 16, 10 classes), and two tabular sets held
out from the development of the score, breast_cancer (2 classes) and wine
(3 classes), standardised by a StandardScaler fitted on the normal class's
training rows (in a pipeline, for every detector).
"""

import argparse
import time
import warnings

import numpy as np
import torch
from sklearn.datasets import load_breast_cancer, load_digits, load_wine
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.neighbors import NearestNeighbors
from sklearn.preprocessing import StandardScaler
from sklearn.svm import OneClassSVM

from sknebula import VariationalJointEmbedding, VariationalSimSiam
from sknebula.augment import ImageAugment

from ._common import markdown_table, mean_std_worst, write_result

# The detectors VJE's default score is compared with (issue 39's list).
PEERS = ("OneClassSVM", "IsolationForest", "ECOD (PyOD)", "DeepSVDD (PyOD)",
         "AutoEncoder (PyOD)")
VJE = "VariationalJointEmbedding (k-NN score, default)"


def datasets(smoke):
    X, y = load_digits(return_X_y=True)
    out = {"digits": (X / 16.0, y, (-1, 8, 8))}
    if not smoke:
        for name, loader in (("breast_cancer", load_breast_cancer), ("wine", load_wine)):
            X, y = loader(return_X_y=True)
            out[name] = (X, y, None)
    return out


class _PyOD:
    """A PyOD detector scored scikit-learn's way (higher = more normal)."""

    def __init__(self, model):
        self.model = model

    def fit(self, X):
        self.model.fit(X)
        return self

    def score_samples(self, X):
        return -self.model.decision_function(X)


class _BackboneKNN:
    """k-NN score on a fitted VI-SimSiam's backbone features (k = 5)."""

    def __init__(self, est):
        self.est = est

    def fit(self, X):
        self.est.set_params(representation="backbone").fit(X)
        self.nn = NearestNeighbors(n_neighbors=min(5, len(X))).fit(self.est.transform(X))
        return self

    def score_samples(self, X):
        return -self.nn.kneighbors(self.est.transform(X))[0].mean(1)


def likelihood_scores(model, X):
    """``score_samples(X)`` of ``model`` had it been fitted with
    ``anomaly_score="likelihood"``, from its fit under the default score.

    The score does not enter the training, so the same fit gives both rows;
    the fitted model keeps its own score (``anomaly_score_``), and this is
    the likelihood formula (``mixture_log_likelihood``) on its fitted
    attributes.
    """
    from sknebula.objectives.student_t import mixture_log_likelihood

    with torch.no_grad():
        return mixture_log_likelihood(
            torch.from_numpy(model.transform(X)),
            torch.from_numpy(model.embeddings_),
            torch.from_numpy(model.posterior_log_vars_),
            float(model.net_.module_.radial_log_scale),
            model.net_.criterion_.df,
            leave_out_self=True,
        ).numpy()


def detectors(seed, n_features, n_train, image_shape, smoke):
    from pyod.models.auto_encoder import AutoEncoder
    from pyod.models.deep_svdd import DeepSVDD
    from pyod.models.ecod import ECOD
    from pyod.models.knn import KNN

    epochs = 2 if smoke else 150
    deep = dict(batch_size=32, max_epochs=epochs, random_state=seed)
    if smoke:
        deep.update(hidden_dims=(32,), latent_dim=8)
    if image_shape is not None:
        deep["augmentation"] = ImageAugment(flip=0.0)
    pyod_epochs = 2 if smoke else 100
    # name -> (factory, whether it takes images)
    return {
        VJE: (lambda: VariationalJointEmbedding(**deep), True),
        # Its last two rows share the default row's fit (score read at scoring time).
        "VariationalJointEmbedding, untrained (same network, 1 epoch at lr 1e-12)": (
            lambda: VariationalJointEmbedding(**dict(deep, max_epochs=1, lr=1e-12)), True
        ),
        "VariationalSimSiam (score_samples)": (lambda: VariationalSimSiam(**deep), True),
        "VariationalSimSiam (k-NN on its backbone)": (
            lambda: _BackboneKNN(VariationalSimSiam(**deep)), True
        ),
        "OneClassSVM": (lambda: OneClassSVM(gamma="scale"), False),
        "IsolationForest": (lambda: IsolationForest(random_state=seed), False),
        "ECOD (PyOD)": (lambda: _PyOD(ECOD()), False),
        "DeepSVDD (PyOD)": (
            lambda: _PyOD(DeepSVDD(n_features=n_features, epochs=pyod_epochs, verbose=0,
                                   random_state=seed)),
            False,
        ),
        "AutoEncoder (PyOD)": (
            lambda: _PyOD(AutoEncoder(epoch_num=pyod_epochs, batch_size=min(32, n_train // 2),
                                      verbose=0, random_state=seed)),
            False,
        ),
        "k-NN on the input (PyOD KNN, method='mean'; reference)": (
            lambda: _PyOD(KNN(method="mean")), False
        ),
    }


def one_class(X, y, image_shape, seeds, smoke):
    """AUROC[name][seed] -> list over classes, and fit seconds[name] -> list."""
    aucs, secs = {}, {}
    classes = np.unique(y)[:2] if smoke else np.unique(y)
    for seed in seeds:
        Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.5, random_state=seed, stratify=y)
        for c in classes:
            train, target = Xtr[ytr == c], yte == c
            test = Xte
            if image_shape is None:
                scaler = StandardScaler().fit(train)
                train, test = scaler.transform(train), scaler.transform(test)
            made = detectors(seed, X.shape[1], len(train), image_shape, smoke)
            for name, (make, images) in made.items():
                shape = image_shape if (images and image_shape is not None) else (len(train), -1)
                tshape = image_shape if (images and image_shape is not None) else (len(test), -1)
                model = make()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    start = time.perf_counter()
                    model.fit(train.reshape(shape))
                    secs.setdefault(name, []).append(time.perf_counter() - start)
                    runs = [(name, model.score_samples(test.reshape(tshape)))]
                    if name == VJE:
                        fit_s = secs[name][-1]
                        runs.append(("VariationalJointEmbedding (likelihood score)",
                                     likelihood_scores(model, test.reshape(tshape))))
                        secs.setdefault(runs[-1][0], []).append(fit_s)
                for row, scores in runs:
                    aucs.setdefault(row, {}).setdefault(seed, []).append(
                        roc_auc_score(target, scores)
                    )
    return aucs, secs


def table(aucs, secs):
    per_seed = {name: [np.mean(v) for v in runs.values()] for name, runs in aucs.items()}
    per_class = {name: np.mean(list(runs.values()), axis=0) for name, runs in aucs.items()}
    rows = [
        [name, mean_std_worst(per_seed[name]), f"{per_class[name].min():.3f}",
         f"{np.mean(secs[name]):.2f}"]
        for name in aucs
    ]
    best = max(PEERS, key=lambda n: np.mean(per_seed[n]))
    margin = np.mean(per_seed[VJE]) - np.mean(per_seed[best])
    verdict = (f"Best of the five peers: {best} ({np.mean(per_seed[best]):.3f}); "
               f"VJE's default score minus it: {margin:+.3f}.")
    header = ["detector", "mean AUROC over classes (± std over seeds, worst seed)",
              "worst class AUROC", "fit s"]
    return markdown_table(header, rows), verdict


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny run, writes nothing")
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    seeds = list(range(1 if args.smoke else args.seeds))
    start = time.perf_counter()
    sections = []
    for name, (X, y, image_shape) in datasets(args.smoke).items():
        if args.smoke:
            keep = np.random.RandomState(0).permutation(len(X))[:300]
            X, y = X[keep], y[keep]
        aucs, secs = one_class(X, y, image_shape, seeds, args.smoke)
        text, verdict = table(aucs, secs)
        sections.append(f"### {name} ({len(X)} samples, {len(np.unique(y))} classes)\n\n"
                        f"{text}\n\n{verdict}")
    body = (
        f"Seeds {seeds}; one torch thread. Each class in turn is the normal one: fit on its rows "
        "of a stratified train half, score the whole test half, AUROC of \"is the normal "
        "class\". VJE and VI-SimSiam: 150 epochs, batch 32, defaults otherwise (digits as 8x8 "
        "images with `ImageAugment(flip=0)`); VJE's likelihood row reads "
        "`anomaly_score=\"likelihood\"` from the default row's fit. PyOD: DeepSVDD and "
        "AutoEncoder 100 epochs, ECOD and KNN at their defaults (KNN `method='mean'`, 5 "
        "neighbours: the default VJE score's rule on the raw input, a reference outside the "
        "issue's list). Tabular sets standardised on the normal class's training rows.\n\n"
        + "\n\n".join(sections)
        + f"\n\nTotal time: {time.perf_counter() - start:.0f} s."
    )
    return write_result("anomaly", "One-class anomaly detection", body, smoke=args.smoke)


if __name__ == "__main__":
    main()
