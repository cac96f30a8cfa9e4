"""NebulaAutoencoder as a feature extractor, reconstructor and completer."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from sknebula import NebulaAutoencoder


def test_features_feed_a_classifier(digits):
    X, y = digits
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    pipe = make_pipeline(
        NebulaAutoencoder(latent_dim=10, max_epochs=40, random_state=0),
        LogisticRegression(max_iter=2000),
    ).fit(X_train, y_train)
    assert pipe.score(X_test, y_test) > 0.85


def test_reconstruction_improves_with_training(digits):
    X, _ = digits
    short = NebulaAutoencoder(max_epochs=1, warmup_epochs=0, random_state=0).fit(X[:500])
    longer = NebulaAutoencoder(max_epochs=60, random_state=0).fit(X[:500])
    assert longer.score(X[:500]) > short.score(X[:500]) + 0.2
    assert longer.score(X[:500]) > 0.3
    assert longer.predict(X[:5]).shape == (5, 64)
    assert 0.0 <= longer.predict(X[:5]).min() and longer.predict(X[:5]).max() <= 1.0


def test_one_dimensional_y_is_ignored_like_in_a_pipeline(digits, fast):
    X, y = digits
    a = NebulaAutoencoder(**fast).fit(X[:200], y[:200])
    b = NebulaAutoencoder(**fast).fit(X[:200])
    np.testing.assert_array_equal(a.transform(X[:20]), b.transform(X[:20]))
    assert a.target_shape_ == (64,)


def test_completion_from_partial_input(digits):
    X, _ = digits
    partial = X[:600].copy()
    partial[:, 32:] = 0.0  # the bottom half of every digit is missing
    ae = NebulaAutoencoder(max_epochs=40, random_state=0).fit(partial, X[:600])
    completed = ae.predict(partial)
    assert completed.shape == (600, 64) and ae.target_shape_ == (64,)
    missing_error = np.abs(completed[:, 32:] - X[:600, 32:]).mean()
    mean_guess_error = np.abs(X[:600, 32:].mean(0) - X[:600, 32:]).mean()
    assert missing_error < 0.8 * mean_guess_error
    assert ae.score(partial, X[:600]) > 0.3


def test_pandas_output_and_feature_names(blobs, fast):
    X, _ = blobs
    ae = NebulaAutoencoder(n_anchors=3, **fast).set_output(transform="pandas").fit(X)
    out = ae.transform(pd.DataFrame(X))
    assert list(out.columns) == [f"nebulaautoencoder{i}" for i in range(4)]
    assert ae.inverse_transform(out.to_numpy()).shape == X.shape


def test_target_length_must_match(blobs, fast):
    X, _ = blobs
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        NebulaAutoencoder(n_anchors=3, **fast).fit(X, np.zeros((len(X) - 1, 2)))


def test_score_follows_the_data_kind():
    from sknebula.datasets import make_markov_sequences, make_shapes_pointclouds

    clouds, _ = make_shapes_pointclouds(n_samples=40, n_points=32, random_state=0)
    ae = NebulaAutoencoder(n_anchors=4, encoder="pointcloud", hidden_dims=(16,), max_epochs=3,
                           random_state=0).fit(clouds)
    assert ae.reconstruction_ == "chamfer" and ae.score(clouds) < 0
    tokens, _ = make_markov_sequences(n_samples=40, length=12, vocab_size=5, random_state=0)
    ae = NebulaAutoencoder(n_anchors=4, encoder="tokens", encoder_params={"vocab_size": 5},
                           hidden_dims=(16,), max_epochs=3, random_state=0).fit(tokens)
    assert ae.reconstruction_ == "categorical" and 0.0 <= ae.score(tokens) <= 1.0
    assert ae.predict(tokens[:3]).shape == (3, 12)
