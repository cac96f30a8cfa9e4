"""Series: the distances partners can be found by, and unequal lengths.

A series is an array of shape ``(L,)`` or ``(C, L)`` (channels first). The
distances here are *paired*: row ``i`` of one batch against row ``i`` of the
other, as in :func:`sklearn.metrics.pairwise.paired_distances`, so that a
partner search ranks a few candidates per sample (see
``metric`` of :class:`sknebula.NebulaVariationalClusterer`) at a cost
linear in the number of samples.
"""

import math

import numpy as np

__all__ = [
    "equal_length",
    "is_series_list",
    "is_unequal_length",
    "paired_dtw",
    "paired_sbd",
    "spectrum_features",
]

# Pairs compared at once; bounds the temporaries to a few tens of MB.
_PAIRS_PER_CHUNK = 2048


def _channels_first(X):
    X = np.asarray(X, dtype=np.float64)
    return X[:, None] if X.ndim == 2 else X


def spectrum_features(X):
    """Magnitude of each channel's Fourier spectrum, flattened.

    Invariant to circular time shifts: the Euclidean neighbours of these
    features are series with the same frequencies, wherever their events
    fall.

    Parameters
    ----------
    X : ndarray of shape (n_samples, L) or (n_samples, C, L)
        Series.

    Returns
    -------
    features : ndarray of shape (n_samples, C * (L // 2 + 1))

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.series import spectrum_features
    >>> t = np.linspace(0, 2 * np.pi, 32, endpoint=False)
    >>> F = spectrum_features(np.stack([np.sin(t), np.roll(np.sin(t), 5)]))
    >>> F.shape, bool(np.allclose(F[0], F[1]))
    ((2, 17), True)
    """
    X = _channels_first(X)
    return np.abs(np.fft.rfft(X, axis=-1)).reshape(len(X), -1)


def paired_sbd(A, B):
    """Shape-based distance (k-Shape's) between paired series.

    ``1 - max_s NCC_s(a, b)``: one minus the largest normalised
    cross-correlation over every time shift ``s``, computed by FFT
    (channels' correlations are summed). Between 0 (equal up to a shift
    and a positive scale) and 2.

    Parameters
    ----------
    A, B : ndarray of shape (n_pairs, L) or (n_pairs, C, L)
        Series compared row by row.

    Returns
    -------
    distances : ndarray of shape (n_pairs,)

    References
    ----------
    Paparrizos & Gravano, "k-Shape: Efficient and Accurate Clustering of
    Time Series", SIGMOD 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.series import paired_sbd
    >>> t = np.linspace(0, 2 * np.pi, 40)
    >>> bump = np.exp(-((t - 2) ** 2))
    >>> shifted, other = np.roll(bump, 6), np.sin(3 * t)
    >>> d = paired_sbd(np.stack([bump, bump]), np.stack([shifted, other]))
    >>> bool(d[0] < 0.01 < d[1])
    True
    """
    A, B = _channels_first(A), _channels_first(B)
    length = A.shape[-1]
    n_fft = 1 << math.ceil(math.log2(max(2 * length - 1, 1)))
    out = np.empty(len(A))
    for start in range(0, len(A), _PAIRS_PER_CHUNK):
        a = A[start : start + _PAIRS_PER_CHUNK]
        b = B[start : start + _PAIRS_PER_CHUNK]
        spectra = np.fft.rfft(a, n_fft) * np.conj(np.fft.rfft(b, n_fft))
        correlation = np.fft.irfft(spectra.sum(axis=1), n_fft).max(axis=1)
        norms = np.sqrt((a**2).sum(axis=(1, 2)) * (b**2).sum(axis=(1, 2)))
        with np.errstate(invalid="ignore", divide="ignore"):
            ncc = np.where(norms > 0, correlation / norms, 0.0)
        out[start : start + len(a)] = 1.0 - ncc
    return out


def paired_dtw(A, B, window=0.1):
    """Dynamic time warping distance between paired series.

    The square root of the smallest sum of squared differences (over the
    channels, "dependent" DTW) along a warping path that stays within a
    Sakoe-Chiba band of ``window * L`` steps of the diagonal. Computed one
    anti-diagonal at a time for all pairs together.

    Parameters
    ----------
    A, B : ndarray of shape (n_pairs, L) or (n_pairs, C, L)
        Series of equal length, compared row by row.
    window : float in [0, 1] or None, default=0.1
        Band radius as a fraction of the length (at least one step); None
        lets the path go anywhere (unconstrained DTW).

    Returns
    -------
    distances : ndarray of shape (n_pairs,)

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.series import paired_dtw
    >>> a = np.array([[0., 0., 1., 2., 1., 0., 0., 0.]])
    >>> late = np.array([[0., 0., 0., 1., 2., 1., 0., 0.]])
    >>> float(paired_dtw(a, late)[0]), float(np.linalg.norm(a - late))
    (0.0, 2.0)
    """
    A, B = _channels_first(A), _channels_first(B)
    length = A.shape[-1]
    radius = length if window is None else max(1, int(round(window * length)))
    out = np.empty(len(A))
    for start in range(0, len(A), _PAIRS_PER_CHUNK):
        out[start : start + _PAIRS_PER_CHUNK] = _banded_dtw(
            A[start : start + _PAIRS_PER_CHUNK], B[start : start + _PAIRS_PER_CHUNK], radius
        )
    return out


def _banded_dtw(a, b, radius):
    """DTW of paired (P, C, L) series, anti-diagonal by anti-diagonal.

    Cell (i, j) lies on diagonal ``d = i + j``; a diagonal's cells depend
    only on the two before it, so each is one vectorised step. Diagonals are
    stored by row ``i`` shifted by one (column 0 stays infinite), which
    makes the first row and column need no special case.
    """
    n_pairs, _, length = a.shape
    before, last = (np.full((n_pairs, length + 1), np.inf) for _ in range(2))
    current = np.full_like(last, np.inf)
    for d in range(2 * length - 1):
        lo = max(0, d - length + 1, math.ceil((d - radius) / 2))
        hi = min(d, length - 1, (d + radius) // 2)
        i = np.arange(lo, hi + 1)
        cost = ((a[:, :, i] - b[:, :, d - i]) ** 2).sum(axis=1)
        current.fill(np.inf)
        if d == 0:
            current[:, 1] = cost[:, 0]
        else:
            # before[i] is cell (i-1, j-1); last[i] is (i-1, j); last[i+1] is (i, j-1).
            steps = np.minimum(np.minimum(before[:, i], last[:, i]), last[:, i + 1])
            current[:, i + 1] = cost + steps
        before, last, current = last, current, before
    return np.sqrt(last[:, length])


def equal_length(X, length=None):
    """Series of unequal lengths resampled to one length.

    Accepts a list of ``(L_i,)`` or ``(C, L_i)`` arrays (aeon's form for
    unequal-length collections) or an array of shape ``(n, L)`` or
    ``(n, C, L)`` whose shorter series end in NaN padding (tslearn's form,
    channels first here). Each series is linearly interpolated onto
    ``length`` evenly spaced points over its own duration: resampling, not
    masking, so that the convolutions, the decoder and the partner
    distances all see one grid, and a slow and a fast performance of the
    same gesture line up.

    Parameters
    ----------
    X : list of array-like, or ndarray
        Series, channels first.
    length : int, default=None
        The common length; None takes the longest series'.

    Returns
    -------
    X_equal : ndarray of shape (n, length) or (n, C, length)
        Float64; ``(n, length)`` when every series has one channel given
        as a 1-d array.

    Raises
    ------
    ValueError
        If the series mix channel counts or dimensions, a series is empty
        or all NaN, or NaN appears other than as trailing padding.

    Examples
    --------
    >>> import numpy as np
    >>> from sknebula.series import equal_length
    >>> equal_length([np.array([0.0, 2.0]), np.array([0.0, 4.0, 2.0])])
    array([[0., 1., 2.],
           [0., 4., 2.]])
    >>> padded = np.array([[1.0, 2.0, 3.0], [4.0, 6.0, np.nan]])
    >>> equal_length(padded)
    array([[1., 2., 3.],
           [4., 5., 6.]])
    """
    series = _unpadded(X)
    if length is None:
        length = max(s.shape[-1] for s in series)
    grid = np.linspace(0.0, 1.0, length)
    out = np.empty((len(series), *series[0].shape[:-1], length))
    rows = out.reshape(len(series), -1, length)  # a view: channels on one axis
    for row, s in zip(rows, series):
        own = np.linspace(0.0, 1.0, s.shape[-1])
        for c, channel in enumerate(s.reshape(-1, s.shape[-1])):
            row[c] = np.interp(grid, own, channel)
    return out


def _unpadded(X):
    """The series of X as a list of arrays without their NaN padding."""
    if isinstance(X, np.ndarray) and X.dtype != object:
        X = list(X)
    series = []
    for i, s in enumerate(X):
        s = np.asarray(s, dtype=np.float64)
        if s.ndim not in (1, 2) or s.shape[-1] == 0:
            raise ValueError(
                f"Series {i} has shape {s.shape}; each series must be (L,) or "
                "(n_channels, L) with L >= 1."
            )
        missing = np.isnan(s).reshape(-1, s.shape[-1]).any(axis=0)
        n_valid = int(np.argmax(missing)) if missing.any() else s.shape[-1]
        if n_valid == 0:
            raise ValueError(f"Series {i} holds no values: it is all NaN (padding).")
        if missing[n_valid:].sum() != len(missing) - n_valid:
            raise ValueError(
                f"Series {i} has NaN inside it; NaN is read only as padding at "
                "the end of a shorter series. Impute missing values first."
            )
        series.append(s[..., :n_valid])
    if not series:
        raise ValueError("Found 0 series; at least one is required.")
    shapes = {s.shape[:-1] for s in series}
    if len(shapes) > 1:
        raise ValueError(
            "The series mix channel counts: found per-series shapes "
            f"{sorted(shapes)} (without the length); every series needs the "
            "same channels."
        )
    return series


def is_series_list(X):
    """Whether X is aeon's form of a collection: a list (or tuple) of
    arrays, one per series."""
    return isinstance(X, (list, tuple)) and bool(X) and all(hasattr(s, "shape") for s in X)


def is_unequal_length(X):
    """Whether X is a collection of series that :func:`equal_length` must
    first bring to one length: a list (or object array) of arrays of
    differing lengths, or a float array holding NaN."""
    if isinstance(X, np.ndarray):
        if X.dtype == object:
            return True
        # min() propagates NaN without a boolean copy of X (a memory map
        # may be large); this runs on every predict and transform.
        return np.issubdtype(X.dtype, np.floating) and X.size > 0 and bool(np.isnan(X.min()))
    if is_series_list(X):
        return len({np.shape(s) for s in X}) > 1 or any(
            np.isnan(np.asarray(s, dtype=np.float64)).any() for s in X
        )
    return False
