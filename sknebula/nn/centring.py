"""Images moved so that their centre of mass sits at the frame's centre.

An MLP on pixels cannot map one digit at two places of a frame together,
whatever its partners say; and edge orientations pooled over cells tolerate
a shift of less than a cell. Where a collection's objects sit anywhere in
the frame, moving each image by whole pixels to put its centre of mass at
the centre removes the shift before anything reads the pixels. The mass of
a pixel is how far it is from the image's background (the median of its
border), so dark strokes on a light ground count as light ones on dark.
"""

import numpy as np

# Centre when the training images' centres of mass spread (standard
# deviation over images, averaged over the two axes) by more than this many
# pixels: MNIST's digits, centred by their makers, spread by 0.3.
CENTRE_SPREAD = 1.0


def _as_channels(images):
    """``images`` as ``(n, C, H, W)`` (a view)."""
    images = np.asarray(images)
    return images[:, None] if images.ndim == 3 else images


def _background(images):
    """Each image's background level: the median of its border pixels
    over every channel, shape ``(n, 1, 1, 1)``."""
    border = np.concatenate(
        [images[:, :, 0, :], images[:, :, -1, :], images[:, :, :, 0], images[:, :, :, -1]],
        axis=-1,
    ).reshape(len(images), -1)
    return np.median(border, axis=1)[:, None, None, None]


def mass_centres(images):
    """Each image's centre of mass ``(row, column)`` in pixels, shape
    ``(n, 2)``; the frame's centre for an image with no mass.

    Parameters
    ----------
    images : ndarray of shape (n, H, W) or (n, C, H, W)

    Returns
    -------
    centres : ndarray of shape (n, 2)

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.centring import mass_centres
    >>> X = np.zeros((1, 9, 9)); X[0, 1:3, 5:7] = 1.0
    >>> mass_centres(X).tolist()
    [[1.5, 5.5]]
    """
    images = _as_channels(images).astype(np.float64)
    mass = np.abs(images - _background(images)).sum(axis=1)  # (n, H, W)
    total = mass.sum(axis=(1, 2))
    h, w = mass.shape[1:]
    rows = (mass.sum(axis=2) * np.arange(h)).sum(axis=1)
    cols = (mass.sum(axis=1) * np.arange(w)).sum(axis=1)
    empty = total <= 0
    safe = np.where(empty, 1.0, total)
    centres = np.stack([rows / safe, cols / safe], axis=1)
    centres[empty] = [(h - 1) / 2, (w - 1) / 2]
    return centres


def centre_spread(images):
    """How far the images' centres of mass spread, in pixels: their
    standard deviation over images, averaged over the two axes."""
    return float(mass_centres(images).std(axis=0).mean()) if len(images) else 0.0


def centred(images):
    """``images`` moved by whole pixels so that each one's centre of mass
    sits at the frame's centre, the uncovered pixels filled with its
    background; a new array of the same shape and dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.nn.centring import centred, mass_centres
    >>> X = np.zeros((1, 9, 9)); X[0, 0:3, 0:3] = 1.0
    >>> mass_centres(centred(X)).tolist()
    [[4.0, 4.0]]
    """
    images = np.asarray(images)
    as_channels = _as_channels(images)
    h, w = as_channels.shape[-2:]
    # Halves round up, never to even: an image moved by whole pixels is
    # then moved back to the very same place.
    offsets = np.array([(h - 1) / 2, (w - 1) / 2]) - mass_centres(images)
    shifts = np.floor(offsets + 0.5).astype(int)
    background = _background(as_channels)
    out = np.empty_like(as_channels)
    for i, (dr, dc) in enumerate(shifts):
        out[i] = background[i]
        rows_to = slice(max(dr, 0), h + min(dr, 0))
        rows_from = slice(max(-dr, 0), h + min(-dr, 0))
        cols_to = slice(max(dc, 0), w + min(dc, 0))
        cols_from = slice(max(-dc, 0), w + min(-dc, 0))
        out[i][:, rows_to, cols_to] = as_channels[i][:, rows_from, cols_from]
    return out.reshape(images.shape)
