"""Fully connected encoder and decoder for (n_samples, n_features) inputs."""

import math

from torch import nn


def _mlp(sizes):
    layers = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


class MLPEncoder(nn.Module):
    """Flatten the input and map it through ReLU layers.

    Parameters
    ----------
    input_shape : tuple of int
        Shape of one sample (without the batch axis).
    hidden_dims : sequence of int
        Widths of the hidden layers.
    """

    def __init__(self, input_shape, hidden_dims=(256, 256)):
        super().__init__()
        n_in = math.prod(input_shape)
        self.layers = _mlp([n_in, *hidden_dims])
        self.out_features = hidden_dims[-1] if len(hidden_dims) else n_in

    def forward(self, x):
        return self.layers(x.flatten(1))


class MLPDecoder(nn.Module):
    """Mirror of :class:`MLPEncoder`: latent -> hidden layers -> output shape.

    The last layer is linear; the reconstruction loss decides how its
    output is read (logits for Bernoulli data, means for Gaussian data).
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(256, 256)):
        super().__init__()
        self.output_shape = tuple(output_shape)
        sizes = [latent_dim, *reversed(tuple(hidden_dims))]
        self.hidden = _mlp(sizes)
        self.out = nn.Linear(sizes[-1], math.prod(self.output_shape))

    def forward(self, z):
        return self.out(self.hidden(z)).view(-1, *self.output_shape)
