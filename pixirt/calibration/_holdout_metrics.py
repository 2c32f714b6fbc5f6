"""Scores of probabilistic predictions: log-loss, AUC and cluster-robust standard errors."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy.stats import rankdata

from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Probabilities are clipped to [_EPS, 1 − _EPS] in the log-loss.
_EPS = 1e-15


def check_pair(y: npt.ArrayLike, p: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    yy = np.asarray(y, dtype=np.float64).ravel()
    pp = np.asarray(p, dtype=np.float64).ravel()
    if yy.shape != pp.shape:
        raise DataError(
            f"answers and predictions differ in length ({len(yy)} vs {len(pp)})", field="p"
        )
    if len(yy) and not np.isin(yy, (0.0, 1.0)).all():
        raise DataError("answers must be 0 or 1", field="y")
    if len(pp) and not (np.all(np.isfinite(pp)) and pp.min() >= 0.0 and pp.max() <= 1.0):
        raise DataError("predictions must be probabilities in [0, 1]", field="p")
    return yy, pp


def answer_losses(y: FloatArray, p: FloatArray) -> FloatArray:
    q = np.clip(p, _EPS, 1.0 - _EPS)
    return -(y * np.log(q) + (1.0 - y) * np.log1p(-q))


def log_loss(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Mean negative log-likelihood of 0/1 answers under predicted probabilities.

    Parameters
    ----------
    y
        Answers, 0 or 1.
    p
        Predicted probabilities of a correct answer (clipped to ``[1e-15, 1 − 1e-15]``).

    Returns
    -------
    float
        ``−mean(y log p + (1 − y) log(1 − p))`` in nats (NaN when empty); 0.693 for a
        coin flip.

    Examples
    --------
    >>> round(log_loss([1, 0], [0.5, 0.5]), 4)
    0.6931
    """
    yy, pp = check_pair(y, p)
    return float(answer_losses(yy, pp).mean()) if len(yy) else math.nan


def roc_auc(y: npt.ArrayLike, p: npt.ArrayLike) -> float:
    """Area under the ROC curve (Mann–Whitney), ties counted one half.

    Parameters
    ----------
    y
        Answers, 0 or 1.
    p
        Predictions (any scores ordered like the probability of a correct answer).

    Returns
    -------
    float
        The probability that a random correct answer has a higher prediction than a
        random wrong one; NaN when all answers are equal.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    yy, pp = check_pair(y, p)
    n1 = float(yy.sum())
    n0 = float(len(yy) - n1)
    if n1 == 0 or n0 == 0:
        return math.nan
    ranks = rankdata(pp)
    return float((ranks[yy == 1].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def cluster_se(values: FloatArray, cluster: IntArray, n_clusters: int) -> float:
    """Standard error of ``values.mean()`` robust to correlation within clusters."""
    n = len(values)
    if n == 0 or n_clusters < 2:
        return math.nan
    mean = values.mean()
    sums = np.bincount(cluster, weights=values - mean, minlength=n_clusters)
    return float(math.sqrt(n_clusters / (n_clusters - 1) * float(np.sum(sums * sums))) / n)
