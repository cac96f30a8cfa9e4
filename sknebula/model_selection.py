"""Helpers for choosing hyper-parameters with scikit-learn's searches.

The scorers live in :mod:`sknebula.metrics`; this module holds what a
search needs beyond a score, such as a parsimonious ``refit`` rule.
"""

import numpy as np

__all__ = ["parsimonious_refit"]


def parsimonious_refit(metric=None, *, param="n_anchors", tolerance="std"):
    """Make a ``refit`` rule: the smallest ``param`` scoring near the best.

    Unsupervised scores often plateau once the model has enough anchors
    (surplus anchors stay empty or split a group with little loss), and the
    maximum of a plateau is decided by noise. This rule picks, among the
    candidates whose mean test score is within ``tolerance`` of the best,
    the one with the smallest ``param`` (the one-standard-error rule when
    ``tolerance="std"``).

    Parameters
    ----------
    metric : str, default=None
        Name of the scorer in a multi-metric search (a key of ``scoring``);
        None for a single-metric search.
    param : str, default="n_anchors"
        Parameter whose smallest value is preferred; it must take ordered
        values in the grid.
    tolerance : "std" or float, default="std"
        How far below the best mean score a candidate may be: the standard
        deviation across folds of the best candidate, or a fixed amount in
        the score's units.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> int``, the index of the chosen candidate, to
        pass as ``GridSearchCV(refit=...)``.

    Examples
    --------
    >>> from sknebula.model_selection import parsimonious_refit
    >>> cv_results = {
    ...     "mean_test_score": [0.70, 0.91, 0.90, 0.91],
    ...     "std_test_score": [0.01, 0.02, 0.01, 0.01],
    ...     "param_n_anchors": [2, 3, 4, 5],
    ... }
    >>> parsimonious_refit()(cv_results)
    1
    """
    if tolerance != "std" and not (isinstance(tolerance, (int, float)) and tolerance >= 0):
        raise ValueError(f"tolerance must be 'std' or a float >= 0, got {tolerance!r}.")
    suffix = "score" if metric is None else metric

    def refit(cv_results):
        means = np.asarray(cv_results[f"mean_test_{suffix}"], dtype=np.float64)
        values = np.asarray(cv_results[f"param_{param}"])
        finite = np.isfinite(means)
        if not finite.any():
            raise ValueError(f"No candidate has a finite mean test {suffix}.")
        best = int(np.nanargmax(np.where(finite, means, np.nan)))
        if tolerance == "std":
            tol = float(np.asarray(cv_results[f"std_test_{suffix}"])[best])
        else:
            tol = float(tolerance)
        near = np.flatnonzero(finite & (means >= means[best] - tol))
        # The smallest parameter among the near-best; ties keep grid order.
        return int(near[np.argmin(values[near].astype(np.float64))])

    return refit
