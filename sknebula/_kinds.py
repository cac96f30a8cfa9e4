"""What kind a sample is, and what follows from it: decided here only.

A sample is a vector, an image, a series, a volume, a token sequence or a
point cloud. The encoders that keep a layout read one kind each
(:data:`ENCODER_KINDS`); the MLP, which flattens every sample, and encoder
classes of the user's own read the kind from the *layout*: the declared
``sample_shape`` where the estimator has one, else one sample of X. The
rule for a layout, written once (the data kinds guide repeats it):

====================== ============================================
layout                 kind
====================== ============================================
``(d,)``; 5 axes or more vectors (flattened)
``(a, b)``             points when ``b`` is 2 or 3 and ``a > b``;
                       images when the longer side is at most
                       ``IMAGE_ASPECT`` times the shorter; series of
                       ``a`` channels otherwise
``(C, H, W)``          images when ``C`` is 1, 3 or 4; volumes
                       ``(D, H, W)`` otherwise
``(C, D, H, W)``       volumes
====================== ============================================

From the kind follow whether images are centred on their centre of mass
(:meth:`SampleKind.centres`), the partner features of the nebula estimators and
the neighbours of the self-supervised ones (:attr:`SampleKind.partner_features`),
the views ``"auto"`` draws (:attr:`SampleKind.views`,
:attr:`SampleKind.partner_views`), the data-kind hint (:meth:`SampleKind.hint`)
and the shape images are drawn in (:attr:`SampleKind.plot_shape`).
"""

import math
from dataclasses import dataclass
from functools import partial
from numbers import Integral

import numpy as np

from .nn.centring import CENTRE_SPREAD, centre_spread, centred
from .nn.conv3d import volume_descriptor
from .nn.image import MIN_SIDE, image_features, large_enough
from .nn.pointcloud import shape_distribution
from .nn.sequence import ngram_profile, series_descriptor

# The kind each built-in encoder that keeps a layout reads.
ENCODER_KINDS = {
    "conv2d": "image",
    "sequence": "series",
    "tokens": "tokens",
    "pointcloud": "points",
    "conv3d": "volume",
}
# A 2-d layout (a, b) is an image when its longer side is at most this many
# times its shorter: images are about square (4:3 and 3:2 frames included),
# a series of C channels and L steps usually has C well below L.
IMAGE_ASPECT = 1.5
# The channels of a (C, H, W) image: grey, RGB, RGBA. Any other first axis
# is a depth: a volume (D, H, W).
IMAGE_CHANNELS = (1, 3, 4)
# A point has this many coordinates: (P, 2) and (P, 3) are point clouds.
POINT_COORDINATES = (2, 3)
# Partner features of each kind, where an encoder of that kind reads it, and
# for images whatever encoder reads them (the MLP on the pixels with these
# partners beats the convolution at MNIST sizes: the data kinds guide).
DESCRIPTORS = {
    # Pixels that differ by a small shift of a stroke are far apart: pooled
    # edge orientations (the pixels below MIN_SIDE a side).
    "image": image_features,
    # Partners may differ by a time shift: raw shape beside the spectrum.
    "series": series_descriptor,
    # Token ids have no order: partners share n-grams instead.
    "tokens": ngram_profile,
    # Flattened coordinates of unordered, rotated clouds are noise.
    "points": shape_distribution,
    # A shape is the same wherever it sits in the grid and however big it
    # is: Fourier magnitudes of the centred, size-normalised volume.
    "volume": volume_descriptor,
}
# Integer data with at most this many distinct values may be token ids.
TOKEN_VALUES = 256
# Flat rows are pixels when neighbouring values in the image layout differ,
# in mean square, by less than this share of what two random values of a
# row differ by (noise differs as much either way).
PIXEL_SMOOTHNESS = 0.5
# The most values (rows times features) the pixel test reads, and the most
# rows the token test reads, so that a hint's cost does not grow with the data.
HINT_VALUES = 4_000_000
HINT_ROWS = 10_000
# The most images whose centres of mass decide whether to centre them.
CENTRE_ROWS = 10_000

SAMPLE_SHAPE_PARAM_DOC = """    sample_shape : tuple of int, default=None
        The shape one sample has, for data passed as flat rows:
        ``sample_shape=(28, 28)`` reads rows of 784 values (what
        ``fetch_openml("mnist_784")`` gives) as 28x28 images, as if X were
        ``(n_samples, 28, 28)``: partners by their strokes, image views and
        image plots. It must hold as many values as one sample of X, which
        is otherwise read as given (``input_shape_``, the network, every
        output). The data kinds guide gives the rule that tells images,
        series, volumes and point clouds apart by the shape; ``(1, H, W)``
        declares one-channel images of any aspect. None reads the kind
        from X's own sample shape. The encoders that keep a layout
        ("conv2d", "sequence", "tokens", "pointcloud", "conv3d") take X in
        their own shape: reshape it for them (in a ``Pipeline``, with a
        ``FunctionTransformer``).
"""


def read_kind(layout):
    """The kind of a sample of shape ``layout`` read by an encoder that
    flattens it (the rule in the module docstring)."""
    if len(layout) == 2:
        a, b = layout
        if b in POINT_COORDINATES and a > b:
            return "points"
        return "image" if max(a, b) <= IMAGE_ASPECT * min(a, b) else "series"
    if len(layout) == 3:
        return "image" if layout[0] in IMAGE_CHANNELS else "volume"
    return "volume" if len(layout) == 4 else "vector"


def _checked_layout(shape, sample_shape, encoder):
    """``sample_shape`` as a tuple, checked against one sample of X."""
    if sample_shape is None:
        return shape
    layout = tuple(sample_shape)
    if not layout or not all(isinstance(s, Integral) and s >= 1 for s in layout):
        raise ValueError(
            f"sample_shape must be a tuple of positive ints, got {sample_shape!r}."
        )
    layout = tuple(int(s) for s in layout)
    if math.prod(layout) != math.prod(shape):
        raise ValueError(
            f"sample_shape={layout} holds {math.prod(layout)} values, but the samples "
            f"of X, of shape {shape}, hold {math.prod(shape)}."
        )
    if encoder in ENCODER_KINDS and layout != shape:
        raise ValueError(
            f"encoder={encoder!r} reads samples as they are, of shape {shape}; "
            f"sample_shape={layout} only declares the layout of samples that the "
            f"MLP flattens. Pass X reshaped: X.reshape(-1, {', '.join(map(str, layout))})."
        )
    return layout


def _reshaped(describe, layout, X):
    return describe(np.asarray(X).reshape(len(X), *layout))


@dataclass(frozen=True)
class SampleKind:
    """What kind a sample is, and what follows from it.

    Build it with :meth:`of`. ``name`` is one of "vector", "image",
    "series", "volume", "tokens", "points"; ``shape`` one sample of X as
    the data holds it; ``layout`` the shape the kind is read from (the
    declared ``sample_shape``, else ``shape``); ``encoder`` the encoder
    name or class.
    """

    name: str
    shape: tuple
    layout: tuple
    encoder: object

    @classmethod
    def of(cls, shape, encoder="mlp", sample_shape=None):
        """The kind of samples of ``shape`` read by ``encoder``, laid out as
        ``sample_shape`` (None: as they are); a ``ValueError`` when
        ``sample_shape`` does not fit them.

        >>> SampleKind.of((28, 28)).name, SampleKind.of((3, 100)).name
        ('image', 'series')
        >>> SampleKind.of((784,), sample_shape=(28, 28)).name
        'image'
        """
        shape = tuple(int(s) for s in shape)
        layout = _checked_layout(shape, sample_shape, encoder)
        name = ENCODER_KINDS.get(encoder) if isinstance(encoder, str) else None
        return cls(name or read_kind(layout), shape, layout, encoder)

    @property
    def keeps_layout(self):
        """Whether the encoder is a built-in one that reads this kind."""
        return isinstance(self.encoder, str) and self.encoder in ENCODER_KINDS

    @property
    def partner_features(self):
        """Features whose Euclidean neighbours are partners, a function of
        X; None for the flattened sample. The kind's descriptor where an
        encoder of the kind reads it, and for images whatever encoder."""
        if self.name != "image" and not self.keeps_layout:
            return None
        describe = DESCRIPTORS[self.name]
        return describe if self.layout == self.shape else partial(_reshaped, describe, self.layout)

    @property
    def views(self):
        """The views ``augmentation="auto"`` draws: a key of
        :func:`sknebula.augment.make_augmentation`."""
        return self.name if self.name in ("image", "tokens") else "vector"

    @property
    def partner_views(self):
        """The views ``views="auto"`` gives the nebula estimators' partners:
        "image" for images that the convolution reads, else None."""
        return "image" if self.name == "image" and self.keeps_layout else None

    @property
    def image_shape(self):
        """The ``image_shape`` an image augmentation needs: the layout where
        the data holds samples in another shape (flat rows), else None."""
        return None if self.layout == self.shape else self.layout

    def image_layout(self):
        """``image_shape`` for views forced to be images; a ``ValueError``
        where the layout is not ``(H, W)`` or ``(C, H, W)``."""
        if len(self.layout) not in (2, 3):
            raise ValueError(
                "augmentation='image' needs samples of shape (H, W) or (C, H, W), "
                f"got {self.layout}; declare sample_shape for images passed as flat rows."
            )
        return self.image_shape

    @property
    def plot_shape(self):
        """The shape images are drawn in: the layout of images, ``(s, s)``
        for flat rows of ``s * s`` values, else None."""
        if self.name == "image":
            return self.layout
        if len(self.layout) == 1:
            side = math.isqrt(self.layout[0])
            return (side, side) if side * side == self.layout[0] else None
        return None

    def centres(self, X):
        """Whether images are moved to put their centre of mass at the
        frame's centre (:mod:`sknebula.nn.centring`): images whose centres
        of mass spread by more than ``CENTRE_SPREAD`` pixels over the
        first rows of X, the objects of a collection that sit anywhere in
        the frame; never samples of other kinds."""
        if self.name != "image" or len(self.layout) not in (2, 3):
            return False
        head = np.asarray(X[:CENTRE_ROWS]).reshape(-1, *self.layout)
        return centre_spread(head) > CENTRE_SPREAD

    def centred(self, X):
        """X with every image centred on its centre of mass, in X's shape."""
        return centred(np.asarray(X).reshape(len(X), *self.layout)).reshape(X.shape)

    def hint(self, X, integer_input=False):
        """A hint when X looks like another kind than the encoder reads it
        as, or None: for the MLP (and token-like data on "sequence"). A
        hint, not an error: the data may be what the user says it is."""
        if self.encoder not in ("mlp", "sequence"):
            return None
        if self.encoder == "mlp" and self.name != "vector":
            return _layout_hint(self.name, self.layout)
        if len(self.layout) != 1 or not X.size:
            return None
        image = _image_rows(X) if self.encoder == "mlp" and self.layout == self.shape else None
        if image is not None:
            return (
                f"X has {X.shape[1]} features, as {'x'.join(map(str, image))} "
                "images have when flattened, and neighbouring values alike, as pixels "
                f"are; flat rows are compared value by value. If they are images, pass "
                f"sample_shape={image} (or X.reshape(-1, {', '.join(map(str, image))})) "
                "for partners by their strokes (the data kinds guide)."
            )
        return _token_hint(X, integer_input, self.encoder)


def kind_of(estimator, shape=None):
    """The :class:`SampleKind` of an estimator's samples: those of
    ``shape``, by default the fitted ``input_shape_``."""
    shape = estimator.input_shape_ if shape is None else shape
    return SampleKind.of(shape, estimator.encoder, getattr(estimator, "sample_shape", None))


def _layout_hint(name, layout):
    """The hint for structured samples on the MLP, or None for images it
    reads well (large enough for their descriptor)."""
    if name == "image" and large_enough(layout[-2:]):
        return None
    text = f"encoder='mlp' flattens samples of shape {layout}"
    if name == "image":
        text += (
            f", read as images too small for their edge descriptor (under {MIN_SIDE} "
            "pixels a side), so partners are their pixels; to keep their layout, use "
            "encoder='conv2d'"
        )
        if len(layout) == 2:
            text += f", or encoder='sequence' if they are series of {layout[0]} channels"
    elif name == "series":
        text += (
            f", read as series of {layout[0]} channels and {layout[1]} steps; to keep "
            "their layout, use encoder='sequence'"
        )
        if large_enough(layout):
            text += f". If they are images, declare sample_shape={(1, *layout)}"
    elif name == "points":
        text += (
            f", read as clouds of {layout[0]} points; to keep their layout, use "
            "encoder='pointcloud'"
        )
    else:
        text += ", read as volumes; to keep their layout, use encoder='conv3d'"
        if len(layout) == 3:
            text += f", or encoder='conv2d' if they are images of {layout[0]} channels"
            if layout[-1] in IMAGE_CHANNELS[1:]:
                text += (
                    f"; images stored channels last, (H, W, {layout[-1]}), need "
                    "X.transpose(0, 3, 1, 2) first"
                )
    return text + ". The data kinds guide has the rule."


def _image_rows(X):
    """The image layout ``(s, s)`` or ``(3, s, s)`` of flat rows X whose
    length fits one, with sides of ``MIN_SIDE`` or more, whose values are
    non-negative and alike where neighbours in that layout, as pixels are
    (judged on the first rows); else None."""
    d = X.shape[1]
    side = math.isqrt(d)
    colour = math.isqrt(d // 3)
    if side * side == d:
        layout = (side, side)
    elif 3 * colour * colour == d:
        layout = (3, colour, colour)
    else:
        return None
    if not large_enough(layout[-2:]):
        return None
    head = np.asarray(X[: max(1, HINT_VALUES // d)], dtype=np.float64)
    if head.min() < 0:
        return None
    images = head.reshape(len(head), -1, *layout[-2:])
    shuffled = head[:, np.random.RandomState(0).permutation(d)]
    far = np.mean((head - shuffled) ** 2)
    near = max(np.mean(np.diff(images, axis=axis) ** 2) for axis in (-1, -2))
    return layout if near < PIXEL_SMOOTHNESS * far else None


def _token_hint(X, integer_input, encoder):
    """The hint for whole numbers of few values, as token ids are (judged
    on the first rows of X)."""
    # Floats of whole numbers are common pixel intensities for the MLP (the
    # digits); for "sequence" they are as suspect as integer dtypes.
    if not (integer_input or encoder == "sequence"):
        return None
    head = X[:HINT_ROWS]
    if head.min() < 0 or not np.array_equal(head, np.round(head)):
        return None
    n_values = len(np.unique(head))
    if n_values > TOKEN_VALUES:
        return None
    return (
        f"X holds whole numbers with only {n_values} distinct values, as token ids "
        f"do, but encoder={encoder!r} reads them as real quantities. If they are "
        "categories (words, symbols, states), use encoder='tokens' with "
        f"encoder_params={{'vocab_size': {int(X.max()) + 1}}}."
    )
