"""Sequence encoders and decoders: real-valued signals and token sequences.

Both are stride-2 ``Conv1d`` stacks (see conv2d.py). Token sequences are
embedded first; their decoder returns logits over the vocabulary at every
position, read by the categorical reconstruction likelihood.
"""

import math

import numpy as np
import scipy.sparse as sp
from sklearn.preprocessing import normalize
from torch import nn

from ..series import spectrum_features
from .conv2d import ConvDecoder, ConvEncoder


def _unit_mean_norm(F):
    norm = np.linalg.norm(F, axis=1).mean()
    return F / norm if norm > 0 else F


def sequence_channels(input_shape):
    """Channels of the "sequence" encoder for ``hidden_dims="auto"``.

    Stride-2 layers until 8 to 16 positions remain (two at least, five at
    most), so that the receptive field grows with the length: 32 channels,
    then 64.

    Examples
    --------
    >>> from sknebula.nn.sequence import sequence_channels
    >>> sequence_channels((25,)), sequence_channels((6, 100)), sequence_channels((427,))
    ((32, 64), (32, 64, 64), (32, 64, 64, 64, 64))
    """
    length = input_shape[-1]
    n_layers = min(max(math.ceil(math.log2(length)) - 4, 2), 5)
    return (32, *[64] * (n_layers - 1))


def series_descriptor(X):
    """Features whose Euclidean neighbours are similar real-valued series.

    The flattened series (aligned shape) beside the magnitude of its Fourier
    spectrum per channel (invariant to circular shifts, so it finds partners
    that differ by a time shift, as DTW and k-Shape do), each part scaled to
    a mean row norm of one so that they weigh alike.

    Parameters
    ----------
    X : ndarray of shape (n_samples, L) or (n_samples, C, L)
        Real-valued series.

    Returns
    -------
    features : ndarray of shape (n_samples, C * L + C * (L // 2 + 1))

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.sequence import series_descriptor
    >>> t = np.linspace(0, 4 * np.pi, 64, endpoint=False)
    >>> X = np.stack([np.sin(t), np.roll(np.sin(t), 8), np.sign(np.sin(t))])
    >>> F = series_descriptor(X)
    >>> F.shape
    (3, 97)
    >>> spectrum = F[:, 64:]
    >>> bool(np.allclose(spectrum[0], spectrum[1]))  # the shift is invisible
    True
    """
    X = np.asarray(X, dtype=np.float64)
    flat = X.reshape(len(X), -1)
    return np.hstack([_unit_mean_norm(flat), _unit_mean_norm(spectrum_features(X))])


# Bigrams are hashed into this many columns (exact below 1024 tokens).
_BIGRAM_COLUMNS = 1 << 20


def ngram_profile(X):
    """Features whose Euclidean neighbours are token sequences alike.

    The sequence's token (unigram) and bigram frequencies, each part scaled
    to unit norm: what a sequence says, not where it says it. Token ids have
    no order (token 2 is no nearer to token 3 than to token 7), so the
    flattened ids are no neighbourhood; the n-gram profile is to tokens what
    the pose-free shape descriptor is to point clouds. Sparse, so a large
    vocabulary costs only the n-grams present.

    Parameters
    ----------
    X : array-like of shape (n_samples, L)
        Token sequences, integers in ``[0, V)``.

    Returns
    -------
    features : scipy.sparse.csr_matrix of shape (n_samples, V + 2**20)

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.sequence import ngram_profile
    >>> X = np.array([[0, 1, 0, 1, 0, 1], [1, 0, 1, 0, 1, 0], [0, 0, 0, 1, 1, 1]])
    >>> F = ngram_profile(X).toarray()
    >>> d = np.linalg.norm(F[:, None] - F[None], axis=-1)
    >>> bool(d[0, 1] < d[0, 2])  # alternation is nearer to alternation
    True
    """
    X = np.asarray(X).round().astype(np.int64)
    n, length = X.shape
    vocab = int(X.max()) + 1 if X.size else 1
    rows = np.repeat(np.arange(n), length)
    unigrams = sp.csr_matrix((np.ones(X.size), (rows, X.ravel())), shape=(n, vocab))
    pairs = (X[:, :-1] * vocab + X[:, 1:]).ravel() % _BIGRAM_COLUMNS
    rows = np.repeat(np.arange(n), max(length - 1, 0))
    bigrams = sp.csr_matrix((np.ones(len(pairs)), (rows, pairs)), shape=(n, _BIGRAM_COLUMNS))
    return sp.hstack([normalize(unigrams), normalize(bigrams)], format="csr")


class SequenceEncoder(ConvEncoder):
    """Real-valued sequence encoder: stride-2 ``Conv1d`` layers, then flatten.

    Takes sequences of shape ``(L,)`` (one channel added inside) or
    ``(C, L)`` (channels first), of any length.

    Parameters
    ----------
    input_shape : tuple of int
        ``(L,)`` or ``(C, L)``.
    hidden_dims : sequence of int, default=(32, 64)
        Channels of the convolutions; each halves the length.
    pool : {None, "mean", "max"}, default="max"
        "max" keeps the strongest response of each channel wherever it
        occurs (invariant to time shifts; with enough layers, see
        :func:`sequence_channels`, it clustered real series best); "mean"
        averages over positions; None flattens the last feature map
        (position-aware).

    Examples
    --------
    >>> import torch
    >>> from sknebula.nn import SequenceEncoder, SequenceDecoder
    >>> SequenceEncoder((50,), hidden_dims=(8, 16))(torch.zeros(3, 50)).shape
    torch.Size([3, 16])
    >>> SequenceEncoder((50,), hidden_dims=(8, 16), pool=None)(torch.zeros(3, 50)).shape
    torch.Size([3, 208])
    >>> SequenceDecoder(4, (2, 50), hidden_dims=(8, 16))(torch.zeros(3, 4)).shape
    torch.Size([3, 2, 50])
    """

    def __init__(self, input_shape, hidden_dims=(32, 64), pool="max"):
        super().__init__(input_shape, hidden_dims, n_dims=1, kind="sequence", pool=pool)


class SequenceDecoder(ConvDecoder):
    """Mirror of :class:`SequenceEncoder`, producing ``(L,)`` or ``(C, L)``.

    Parameters
    ----------
    latent_dim : int
        Latent dimension.
    output_shape : tuple of int
        ``(L,)`` or ``(C, L)``.
    hidden_dims : sequence of int, default=(32, 64)
        The encoder's channels.
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(32, 64)):
        super().__init__(latent_dim, output_shape, hidden_dims, n_dims=1, kind="sequence")


def _check_tokens_shape(shape):
    if len(shape) != 1:
        raise ValueError(
            "The 'tokens' architecture expects token sequences of shape "
            f"(n_samples, L), got samples of shape {tuple(shape)}."
        )


class TokenEncoder(nn.Module):
    """Token sequence encoder: embedding, stride-2 ``Conv1d`` layers, flatten.

    The estimators hand the network float arrays; the tokens are cast to
    integers here and must be whole numbers in ``[0, vocab_size)``.

    Parameters
    ----------
    input_shape : tuple of int
        ``(L,)``: the sequence length.
    vocab_size : int
        Number of distinct tokens; required (pass it through
        ``encoder_params={"vocab_size": V}``).
    hidden_dims : sequence of int, default=(32, 64)
        Channels of the convolutions; each halves the length.
    embedding_dim : int, default=16
        Width of the token embedding.
    pool : {None, "mean", "max"}, default=None
        None flattens the last feature map (position-aware); "mean" or
        "max" pools over positions, which suits data whose class shows in
        local statistics wherever they occur (e.g. Markov sources).

    Examples
    --------
    >>> import torch
    >>> from sknebula.nn import TokenEncoder, TokenDecoder
    >>> enc = TokenEncoder((20,), vocab_size=5, hidden_dims=(8, 16))
    >>> tokens = torch.randint(0, 5, (3, 20)).float()
    >>> enc(tokens).shape
    torch.Size([3, 80])
    >>> TokenDecoder(4, (20,), vocab_size=5, hidden_dims=(8, 16))(torch.zeros(3, 4)).shape
    torch.Size([3, 20, 5])
    """

    def __init__(
        self, input_shape, vocab_size=None, hidden_dims=(32, 64), embedding_dim=16, pool=None
    ):
        super().__init__()
        _check_tokens_shape(input_shape)
        if vocab_size is None or int(vocab_size) < 2:
            raise ValueError(
                "encoder='tokens' needs the vocabulary size: pass "
                "encoder_params={'vocab_size': V} with V >= 2 (tokens are the "
                f"integers 0..V-1); got vocab_size={vocab_size!r}."
            )
        self.vocab_size = int(vocab_size)
        self.embedding = nn.Embedding(self.vocab_size, embedding_dim)
        self.conv = ConvEncoder(
            (embedding_dim, *input_shape), hidden_dims, n_dims=1, kind="tokens", pool=pool
        )
        self.out_features = self.conv.out_features

    def forward(self, x):
        tokens = x.round().long()
        # A clear error instead of torch's index error deep in the embedding.
        bad = (tokens.float() != x.float()) | (tokens < 0) | (tokens >= self.vocab_size)
        if bool(bad.any()):
            raise ValueError(
                f"Token sequences must hold integers in [0, {self.vocab_size}); "
                f"found {x[bad].flatten()[:3].tolist()}."
            )
        return self.conv(self.embedding(tokens).transpose(1, 2))


class TokenDecoder(nn.Module):
    """Mirror of :class:`TokenEncoder`: logits of shape ``(L, vocab_size)``.

    Parameters
    ----------
    latent_dim : int
        Latent dimension.
    output_shape : tuple of int
        ``(L,)``: the sequence length.
    hidden_dims : sequence of int, default=(32, 64)
        The encoder's channels.
    vocab_size : int
        Number of distinct tokens (read from the encoder when built by name).
    """

    def __init__(self, latent_dim, output_shape, hidden_dims=(32, 64), vocab_size=None):
        super().__init__()
        _check_tokens_shape(output_shape)
        if vocab_size is None:
            raise ValueError("TokenDecoder needs vocab_size.")
        self.conv = ConvDecoder(
            latent_dim, (int(vocab_size), *output_shape), hidden_dims, n_dims=1, kind="tokens"
        )

    def forward(self, z):
        return self.conv(z).transpose(1, 2)
