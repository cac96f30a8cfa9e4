"""sknebula: scikit-learn estimators that organise deep latent spaces."""

from .autoencoder import NebulaAutoencoder
from .cluster import NebulaVariationalClusterer
from .disentangle import LabelDisentangledVAE
from .embedding import VariationalJointEmbedding, VariationalSimSiam

__version__ = "0.1.0"

__all__ = ["NebulaAutoencoder", "NebulaVariationalClusterer", "LabelDisentangledVAE", "VariationalSimSiam", "VariationalJointEmbedding"]
