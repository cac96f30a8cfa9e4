"""scikit-learn's estimator checks on every public estimator."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sknebula import NebulaAutoencoder, NebulaVariationalClusterer

# Tiny networks and few epochs: the checks test the API, not the quality.
FAST = dict(hidden_dims=(32,), latent_dim=4, max_epochs=4, batch_size=32)

ESTIMATORS = [
    NebulaVariationalClusterer(n_anchors=4, **FAST),
    NebulaAutoencoder(n_anchors=4, **FAST),
]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
