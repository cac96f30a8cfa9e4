"""Series: partner distances, the ``metric`` choice and unequal lengths."""

import numpy as np
import pytest

from sknebula import (
    LabelDisentangledVAE,
    NebulaAutoencoder,
    NebulaVariationalClusterer,
    VariationalJointEmbedding,
    VariationalSimSiam,
)
from sknebula._data import neighbour_table
from sknebula._kinds import SampleKind
from sknebula._nvc import partner_search
from sknebula.metrics import clustering_accuracy
from sknebula.series import equal_length, paired_dtw, paired_sbd, spectrum_features


def _dtw_by_the_book(a, b, radius):
    """The textbook O(L^2) recurrence, for reference."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n = a.shape[-1]
    D = np.full((n + 1, n + 1), np.inf)
    D[0, 0] = 0.0
    for i in range(1, n + 1):
        for j in range(max(1, i - radius), min(n, i + radius) + 1):
            cost = ((a[:, i - 1] - b[:, j - 1]) ** 2).sum()
            D[i, j] = cost + min(D[i - 1, j - 1], D[i - 1, j], D[i, j - 1])
    return np.sqrt(D[n, n])


def _sbd_by_the_book(a, b):
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    n = a.shape[-1]
    best = max(
        sum(np.dot(a[c, max(s, 0) : n + min(s, 0)], b[c, max(-s, 0) : n - max(s, 0)])
            for c in range(len(a)))
        for s in range(-n + 1, n)
    )
    return 1 - best / np.sqrt((a**2).sum() * (b**2).sum())


@pytest.mark.parametrize("shape, window, radius", [((6, 20), 0.1, 2), ((5, 3, 13), 0.2, 3),
                                                   ((4, 9), None, 9), ((3, 2, 30), 0.02, 1)])
def test_paired_dtw_matches_the_textbook_recurrence(shape, window, radius):
    rng = np.random.default_rng(0)
    A, B = rng.normal(size=shape), rng.normal(size=shape)
    expected = [_dtw_by_the_book(a, b, radius) for a, b in zip(A, B)]
    np.testing.assert_allclose(paired_dtw(A, B, window), expected)
    assert (paired_dtw(A, B, window) <= np.linalg.norm((A - B).reshape(len(A), -1), axis=1)
            + 1e-12).all()  # the diagonal is one of the paths


@pytest.mark.parametrize("shape", [(5, 13), (4, 3, 10)])
def test_paired_sbd_matches_every_shift(shape):
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=shape), rng.normal(size=shape)
    np.testing.assert_allclose(paired_sbd(A, B), [_sbd_by_the_book(a, b) for a, b in zip(A, B)])


def test_shift_blind_distances_ignore_a_shift_that_euclidean_sees():
    t = np.linspace(0, 1, 64)
    bump = np.exp(-((t - 0.3) ** 2) / 0.003)
    shifted = np.exp(-((t - 0.4) ** 2) / 0.003)
    assert paired_sbd(bump[None], shifted[None])[0] < 0.01
    np.testing.assert_allclose(
        spectrum_features(bump[None]), spectrum_features(np.roll(bump, 7)[None]), atol=1e-9
    )
    assert np.linalg.norm(bump - shifted) > 1.0


def _bumps(n_per_class=30, length=64, spread=None, seed=0):
    """Two shapes (a narrow and a wide bump), centred anywhere in the window
    or within ``spread`` steps of its middle: a time shift is what tells
    two samples of a class apart."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    low, high = (10, length - 10) if spread is None else (length / 2 - spread, length / 2 + spread)
    X, y = [], []
    for c, width in enumerate((2.0, 8.0)):
        for _ in range(n_per_class):
            centre = rng.uniform(low, high)
            X.append(np.exp(-((t - centre) ** 2) / (2 * width**2)) + 0.05 * rng.normal(size=length))
            y.append(c)
    return np.array(X), np.array(y)


@pytest.mark.parametrize(
    "metric, spread, gain", [("sbd", None, 0.1), ("spectrum", None, 0.1), ("dtw", 13, 0.03)]
)
def test_series_metrics_find_shifted_partners_of_the_same_shape(metric, spread, gain):
    # DTW warps within its band (10% of the length) only.
    X, y = _bumps(12, 128, spread)
    purity = {}
    for name in ("euclidean", metric):
        features, distance = partner_search(name, SampleKind.of(X.shape[1:], "sequence"))
        table = neighbour_table(X.astype(np.float32), 5, features, distance=distance)
        purity[name] = np.mean(y[table] == y[:, None])
    assert purity[metric] > 0.95
    assert purity[metric] > purity["euclidean"] + gain


def test_a_callable_metric_ranks_the_candidates():
    X, y = _bumps(20)
    calls = []

    def widths(a, b):  # by the spread of the bump alone
        calls.append(1)
        return abs(np.sum(a > 0.5) - np.sum(b > 0.5))

    model = NebulaVariationalClusterer(2, encoder="sequence", metric=widths, n_neighbors=5,
                                       max_epochs=30, random_state=0).fit(X)
    # Every sample ranks its 50 pre-filtered candidates (39 here): the
    # partners' and score's searches.
    assert len(calls) >= len(X) * (len(X) - 1)
    assert clustering_accuracy(y, model.labels_) > 0.9


@pytest.mark.parametrize("metric", ["sbd", "dtw", "spectrum"])
def test_series_metrics_need_the_sequence_encoder(metric):
    X = np.random.default_rng(0).normal(size=(20, 16))
    with pytest.raises(ValueError, match="encoder='sequence'"):
        NebulaVariationalClusterer(2, metric=metric).fit(X)


def _gestures(n=60, seed=0):
    """Two-channel sines against squares, of lengths 30 to 70: aeon's
    unequal-length form (a list of (C, L_i) arrays) and tslearn's (NaN
    padding, channels first here)."""
    rng = np.random.default_rng(seed)
    series, y = [], np.arange(n) % 2
    for c in y:
        t = np.linspace(0, 4 * np.pi, rng.integers(30, 71))
        s = np.sin(t) if c == 0 else np.sign(np.sin(t))
        series.append(np.stack([s, -s]) + 0.2 * rng.normal(size=(2, len(t))))
    padded = np.full((n, 2, 70), np.nan)
    for i, s in enumerate(series):
        padded[i, :, : s.shape[1]] = s
    return series, padded, y


def test_unequal_lengths_fit_and_predict_in_both_forms():
    series, padded, y = _gestures()
    model = NebulaVariationalClusterer(2, encoder="sequence", max_epochs=30, random_state=0)
    model.fit(series)
    assert model.input_shape_ == (2, 70)
    assert clustering_accuracy(y, model.labels_) == 1.0
    np.testing.assert_array_equal(model.predict(padded), model.labels_)
    np.testing.assert_allclose(model.transform(series[:5]), model.transform(padded[:5]), atol=1e-5)
    # The training length is the longest series'; new series are resampled to it.
    short = [s[:, :20] for s in series[:4]]
    assert model.transform(short).shape == (4, model.latent_dim)
    assert np.isnan(padded).any() and all(s.shape[0] == 2 for s in series)  # untouched


@pytest.mark.parametrize(
    "make",
    [
        lambda: NebulaAutoencoder(2, encoder="sequence", max_epochs=3, random_state=0),
        lambda: VariationalSimSiam(encoder="sequence", max_epochs=2, random_state=0),
        lambda: VariationalJointEmbedding(encoder="sequence", max_epochs=2, random_state=0),
        lambda: LabelDisentangledVAE(encoder="sequence", max_epochs=2, random_state=0),
    ],
    ids=["NebulaAutoencoder", "VariationalSimSiam", "VariationalJointEmbedding",
         "LabelDisentangledVAE"],
)
def test_unequal_lengths_reach_every_estimator(make):
    series, padded, y = _gestures(30)
    model = make().fit(series, y)
    assert model.input_shape_ == (2, 70)
    Z = model.transform(padded)
    assert len(Z) == 30 and np.isfinite(Z).all()
    np.testing.assert_allclose(model.transform(series), Z, atol=1e-5)


@pytest.mark.parametrize(
    "X, message",
    [
        ([np.zeros((2, 10)), np.zeros((3, 12))], "mix channel counts"),
        ([np.zeros(10), np.full(12, np.nan)], "all NaN"),
        (np.array([[1.0, np.nan, 3.0], [1.0, 2.0, 3.0]]), "NaN inside"),
        ([np.zeros((2, 3, 4)), np.zeros((2, 3, 5))], r"\(L,\) or \(n_channels, L\)"),
    ],
)
def test_bad_unequal_length_input_is_refused_before_training(X, message):
    with pytest.raises(ValueError, match=message):
        equal_length(X)
    with pytest.raises(ValueError, match=message):
        NebulaVariationalClusterer(2, encoder="sequence").fit(X)


def test_nan_still_refused_outside_series():
    X = np.array([[1.0, np.nan], [1.0, 2.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="NaN"):
        NebulaVariationalClusterer(2, encoder="mlp").fit(X)


def test_partner_agreement_reports_and_warns():
    X, y = _bumps(20)
    model = NebulaVariationalClusterer(2, encoder="sequence", metric="sbd", max_epochs=30,
                                       random_state=0).fit(X)
    assert 0.9 < model.partner_agreement_ <= 1.0
    # Partners drawn at random disagree with any clustering: fit says so.
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(200, 8))
    with pytest.warns(UserWarning, match="partners fall in their sample's cluster"):
        weak = NebulaVariationalClusterer(
            8, metric=lambda a, b: rng.random(), max_epochs=10, random_state=0
        ).fit(noise)
    assert weak.partner_agreement_ < 0.5
    assert NebulaVariationalClusterer(2, n_neighbors=0, max_epochs=5).fit(noise).partner_agreement_ is None


def test_partner_agreement_counts_the_same_in_row_blocks(monkeypatch):
    # Large data compares the partner table block by block; the share must
    # not depend on where the blocks end.
    import sknebula.cluster as cluster
    from sknebula._data import NeighbourPairs

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 3, size=50)
    neighbours = rng.integers(0, 50, size=(50, 4))
    model = NebulaVariationalClusterer(3)
    model.labels_ = labels
    X = np.zeros((50, 1), np.float32)
    pairs = NeighbourPairs(X, X, neighbours)
    expected = (labels[neighbours] == labels[:, None]).mean()
    monkeypatch.setattr(cluster, "AGREEMENT_ROWS", 7)
    assert model._partner_agreement(pairs) == pytest.approx(expected)
