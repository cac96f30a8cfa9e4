"""View generators for the self-supervised estimators.

An augmentation is any callable mapping a float torch batch ``(n, ...)`` to
a batch of the same shape (a numpy array is accepted back). The built-in
ones are written in torch (no torchvision) and take an optional
``generator`` (a ``torch.Generator``): the nebula estimators pass their
fit's own, seeded from ``random_state``, so that the views of a fit are
reproducible and a fit leaves torch's global generator alone. Without one
they draw from torch's global generator, as the self-supervised estimators
have them do: those seed it from ``random_state`` when a fit starts and give
it back as it was when the fit ends (their spherical posterior samples
through ``torch.distributions.Beta``, which takes no generator, so their
draws cannot all move to one of the fit's own). :func:`draw_views` calls any augmentation the
same way.

- :class:`VectorAugment` for feature vectors: Gaussian noise, random
  feature masking and mixing with another row of the batch.
- :class:`ImageAugment` for images ``(n, H, W)`` or ``(n, C, H, W)``:
  random resized crop, horizontal flip, small rotation and translation
  (one random affine warp per image) and Gaussian noise.
- :class:`TokenAugment` for integer token sequences: random replacement
  of tokens by others from the vocabulary.
"""

import inspect
import math

import numpy as np
import torch
import torch.nn.functional as F

from ._data import _as_torch
from ._partners import PartnerSource, draw_views  # noqa: F401 (draw_views is public here)


class Augmentation:
    """Base of the built-in augmentations: each constructor argument is kept
    as an attribute of its name, and ``get_params`` returns them (as
    scikit-learn's estimators do), so that a model file can store one by
    value (:mod:`sknebula.io`)."""

    def get_params(self, deep=False):
        """The constructor arguments, by name."""
        return {name: getattr(self, name) for name in inspect.signature(type(self)).parameters}

    def __repr__(self):
        # Arguments left at None (an optional shape) are not shown.
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items() if v is not None)
        return f"{type(self).__name__}({args})"


class VectorAugment(Augmentation):
    """Noise, masking and mixing for feature vectors (any sample shape).

    Parameters
    ----------
    noise : float, default=0.1
        Largest standard deviation of the additive Gaussian noise, in units
        of each feature's standard deviation within the batch; each row
        draws its own level uniformly in ``[0, noise]``.
    mask : float, default=0.2
        Probability that a feature is set to 0.
    mix : float, default=0.2
        Largest weight ``lam`` of the other row in
        ``(1 - lam) * x + lam * x_other`` (``lam ~ U(0, mix)``); the other
        row is a random row of the same batch.

    Examples
    --------
    >>> import torch
    >>> from sknebula.augment import VectorAugment
    >>> _ = torch.manual_seed(0)
    >>> VectorAugment(noise=0.0, mask=0.0, mix=0.0)(torch.ones(2, 3))
    tensor([[1., 1., 1.],
            [1., 1., 1.]])
    """

    def __init__(self, noise=0.1, mask=0.2, mix=0.2):
        self.noise = noise
        self.mask = mask
        self.mix = mix

    def __call__(self, x, generator=None):
        n = len(x)
        g = generator
        per_row = (n,) + (1,) * (x.dim() - 1)
        if self.mix > 0 and n > 1:
            lam = self.mix * torch.rand(per_row, dtype=x.dtype, generator=g)
            x = (1 - lam) * x + lam * x[torch.randperm(n, generator=g)]
        if self.noise > 0 and n > 1:
            # A random noise level per row, so that views span clean to
            # noisy and a concentration head can learn what noise costs.
            level = self.noise * torch.rand(per_row, dtype=x.dtype, generator=g)
            noise = torch.randn(x.shape, dtype=x.dtype, generator=g)
            x = x + level * x.std(0, keepdim=True) * noise
        if self.mask > 0:
            x = x * (torch.rand(x.shape, dtype=x.dtype, generator=g) >= self.mask).to(x.dtype)
        return x


class ImageAugment(Augmentation):
    """Random resized crop, flip, rotation, translation and noise.

    Each image gets its own random affine warp (bilinear, zero padding),
    then additive Gaussian noise.

    Parameters
    ----------
    crop_scale : tuple of float, default=(0.6, 1.0)
        Range of the cropped area as a fraction of the image (the crop is
        resized back to the full image).
    flip : float, default=0.5
        Probability of a horizontal flip (set 0 for digits or text).
    rotation : float, default=10.0
        Largest rotation, in degrees.
    translation : float, default=0.1
        Largest shift, as a fraction of the image size.
    noise : float, default=0.05
        Standard deviation of the additive noise, in units of the batch's
        pixel standard deviation.
    image_shape : tuple of int, default=None
        Shape ``(H, W)`` or ``(C, H, W)`` of one image when the batch holds
        flattened images, rows of ``prod(image_shape)`` values (as an MLP
        takes them); None for batches of images.

    Examples
    --------
    >>> import torch
    >>> from sknebula.augment import ImageAugment
    >>> _ = torch.manual_seed(0)
    >>> ImageAugment()(torch.rand(4, 8, 8)).shape
    torch.Size([4, 8, 8])
    """

    def __init__(self, crop_scale=(0.6, 1.0), flip=0.5, rotation=10.0, translation=0.1,
                 noise=0.05, image_shape=None):
        self.crop_scale = crop_scale
        self.flip = flip
        self.rotation = rotation
        self.translation = translation
        self.noise = noise
        self.image_shape = image_shape

    def _affine(self, n, dtype, generator=None):
        def rand(*shape):
            return torch.rand(shape, dtype=dtype, generator=generator)

        lo, hi = self.crop_scale
        area = lo + (hi - lo) * rand(n)
        log_ratio = (2 * rand(n) - 1) * math.log(4 / 3)
        sx = torch.sqrt(area * log_ratio.exp()).clamp(max=1.0)
        sy = torch.sqrt(area / log_ratio.exp()).clamp(max=1.0)
        # The crop's centre keeps it inside the image; then a small shift.
        cx = (2 * rand(n) - 1) * (1 - sx)
        cy = (2 * rand(n) - 1) * (1 - sy)
        shift = (2 * rand(2, n) - 1) * 2 * self.translation
        angle = (2 * rand(n) - 1) * math.radians(self.rotation)
        flip = torch.where(rand(n) < self.flip, -1.0, 1.0).to(dtype)
        cos, sin = torch.cos(angle), torch.sin(angle)
        # Output -> input coordinates: centre + shift + diag(sx, sy) R diag(flip, 1).
        theta = torch.stack(
            [
                torch.stack([sx * cos * flip, -sx * sin, cx + shift[0]], dim=1),
                torch.stack([sy * sin * flip, sy * cos, cy + shift[1]], dim=1),
            ],
            dim=1,
        )
        return theta

    def __call__(self, x, generator=None):
        flat_shape = x.shape
        if self.image_shape is not None:
            image = tuple(self.image_shape)
            if len(image) not in (2, 3) or math.prod(flat_shape[1:]) != math.prod(image):
                raise ValueError(
                    f"ImageAugment(image_shape={image}) needs rows of "
                    f"{math.prod(image)} values, got a batch of shape {tuple(flat_shape)}."
                )
            x = x.reshape(len(x), *image)
        if x.dim() not in (3, 4):
            raise ValueError(
                "ImageAugment needs batches of shape (n, H, W) or (n, C, H, W), "
                f"got {tuple(x.shape)}; pass image_shape for flattened images."
            )
        images = x.unsqueeze(1) if x.dim() == 3 else x
        theta = self._affine(len(x), images.dtype, generator)
        grid = F.affine_grid(theta, list(images.shape), align_corners=False)
        out = F.grid_sample(
            images, grid, mode="bilinear", padding_mode="zeros", align_corners=False
        )
        if self.noise > 0:
            noise = torch.randn(out.shape, dtype=out.dtype, generator=generator)
            out = out + self.noise * images.std() * noise
        out = out.squeeze(1) if x.dim() == 3 else out
        return out.reshape(flat_shape)


class TokenAugment(Augmentation):
    """Random token replacement for sequences of integer token ids.

    Noise or mixing would leave the integers; instead every token is
    replaced, with probability ``replace``, by a token drawn uniformly from
    ``[0, vocab_size)``.

    Parameters
    ----------
    vocab_size : int
        Number of distinct tokens (ids ``0 .. vocab_size - 1``).
    replace : float, default=0.15
        Probability that a token is replaced.

    Examples
    --------
    >>> import torch
    >>> from sknebula.augment import TokenAugment
    >>> _ = torch.manual_seed(0)
    >>> views = TokenAugment(vocab_size=4, replace=0.5)(torch.zeros(2, 6))
    >>> bool(((views == views.round()) & (views >= 0) & (views < 4)).all())
    True
    """

    def __init__(self, vocab_size, replace=0.15):
        self.vocab_size = vocab_size
        self.replace = replace

    def __call__(self, x, generator=None):
        swap = torch.rand(x.shape, generator=generator) < self.replace
        random = torch.randint(self.vocab_size, x.shape, generator=generator).to(x.dtype)
        return torch.where(swap, random, x)


def make_augmentation(augmentation, kind, vocab_size=None):
    """Resolve the ``augmentation`` hyper-parameter into a callable.

    ``"auto"`` takes the views of ``kind``, a
    :class:`~sknebula._kinds.SampleKind` (images for images, tokens for
    tokens, vectors otherwise); "vector", "image" and "tokens" force one
    ("image" needs a layout ``(H, W)`` or ``(C, H, W)``, "tokens" needs
    ``vocab_size``); a callable is used as given.
    """
    if callable(augmentation):
        return augmentation
    if augmentation == "auto":
        augmentation = kind.views
    if augmentation == "tokens":
        if vocab_size is None:
            raise ValueError(
                "augmentation='tokens' needs the vocabulary size: use encoder='tokens' "
                "with encoder_params={'vocab_size': V}."
            )
        return TokenAugment(vocab_size)
    if augmentation == "image":
        return ImageAugment(image_shape=kind.image_layout())
    return VectorAugment()


class TwoViews(torch.utils.data.Dataset):
    """Yields ``{"x1": view(X[i]), "x2": view(positive of i)}`` per batch of
    indices, the positive drawn by a
    :class:`~sknebula._partners.PartnerSource` (a random row of
    ``neighbours``, or the sample itself) and each view drawn afresh every
    time a batch is fetched, from ``generator`` (torch's global one when
    None). A batch of a single row (possible as the last, short batch) gets
    one extra random row, because batch normalisation cannot train on one
    sample.
    """

    generator = None

    def __init__(self, X, augmentation, neighbours=None):
        self.X = X
        self.augmentation = augmentation
        self.neighbours = neighbours
        self.partners = PartnerSource(_as_torch(X), neighbours, augmentation)

    def __len__(self):
        return len(self.X)

    def __getitem__(self, index):
        index = np.atleast_1d(np.asarray(index))
        if len(index) == 1 and len(self.X) > 1:
            step = torch.randint(len(self.X) - 1, (), generator=self.generator).item()
            index = np.append(index, (index[0] + 1 + step) % len(self.X))
        positive = self.partners.pick(index, self.generator)
        x = self.partners.rows[torch.as_tensor(index)]
        views = {"x1": self.partners.view(x, self.generator),
                 "x2": self.partners.view(positive, self.generator)}
        return views, torch.zeros(len(index))
