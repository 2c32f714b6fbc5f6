"""Item response functions: probability, information and log-likelihood.

All models share Pix's parameterization, with no 1.7 scaling constant::

    P(correct | θ) = c + (1 − c) / (1 + exp(−a (θ − b)))

- Rasch and 1PL: ``a`` common to every item (1 for Rasch), ``c = 0``;
- 2PL: ``a`` and ``b`` per item, ``c = 0``;
- 3PL: ``a``, ``b`` and a lower asymptote ``c`` in [0, 1).

R's mirt writes the same 2PL in slope-intercept form ``1 / (1 + exp(−(a θ + d)))``;
the conversion is ``d = −a·b`` and ``b = −d / a`` (:func:`to_slope_intercept`,
:func:`from_slope_intercept`). With ``c`` the guessing parameter is the same in both.

Every function is pure and vectorized: arguments broadcast with numpy rules, so
``probability(theta[:, None], a[None, :], b[None, :])`` gives a persons × items matrix.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.special import expit, log_expit

__all__ = [
    "MODELS",
    "Model",
    "from_slope_intercept",
    "information",
    "log_likelihood",
    "probability",
    "to_slope_intercept",
]

Model = Literal["Rasch", "1PL", "2PL", "3PL"]
MODELS: tuple[Model, ...] = ("Rasch", "1PL", "2PL", "3PL")

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]


def probability(theta: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike = 0.0) -> FloatArray:
    """Probability of a correct answer.

    Parameters
    ----------
    theta
        Abilities.
    a, b, c
        Discrimination, difficulty and lower asymptote (broadcast against ``theta``).

    Returns
    -------
    numpy.ndarray
        ``c + (1 − c) / (1 + exp(−a (θ − b)))``, computed without overflow.

    Examples
    --------
    >>> float(probability(0.0, 1.0, 0.0))
    0.5
    >>> round(float(probability(1.0, 1.2, 1.0, 0.2)), 6)
    0.6
    """
    z = np.multiply(a, np.subtract(theta, b), dtype=np.float64)
    c_ = np.asarray(c, dtype=np.float64)
    return np.asarray(c_ + (1.0 - c_) * expit(z), dtype=np.float64)


def information(theta: ArrayLike, a: ArrayLike, b: ArrayLike, c: ArrayLike = 0.0) -> FloatArray:
    """Fisher information of an item at ``theta``.

    For the 2PL, ``a² P (1 − P)``, which peaks at ``θ = b`` with ``a² / 4``. For the 3PL,
    ``a² (P − c)² (1 − P) / ((1 − c)² P)`` (Birnbaum; Lord 1980, eq. 5-7 without D).

    Parameters
    ----------
    theta
        Abilities.
    a, b, c
        Item parameters (broadcast against ``theta``).

    Returns
    -------
    numpy.ndarray
        Item information.

    Examples
    --------
    >>> float(information(0.5, 2.0, 0.5))
    1.0
    """
    a_ = np.asarray(a, dtype=np.float64)
    c_ = np.asarray(c, dtype=np.float64)
    z = a_ * np.subtract(theta, b, dtype=np.float64)
    s = expit(z)  # the 2PL part
    # With P = c + (1-c) s: (P-c)^2 (1-P) / ((1-c)^2 P) = s^2 (1-c)(1-s) / P
    p = c_ + (1.0 - c_) * s
    with np.errstate(invalid="ignore", divide="ignore"):
        info = a_**2 * s * s * (1.0 - c_) * (1.0 - s) / p
    return np.asarray(np.where(p > 0, info, 0.0), dtype=np.float64)


def log_likelihood(
    correct: ArrayLike,
    theta: ArrayLike,
    a: ArrayLike,
    b: ArrayLike,
    c: ArrayLike = 0.0,
) -> FloatArray:
    """Log-likelihood of each answer: ``log P`` if correct, ``log(1 − P)`` if wrong.

    Parameters
    ----------
    correct
        0/1 answers (broadcast against the other arguments). ``NaN`` means not
        administered and contributes 0.
    theta
        Abilities.
    a, b, c
        Item parameters.

    Returns
    -------
    numpy.ndarray
        Log-likelihood per answer (sum it for a person or a test). Computed with
        ``log_expit`` so it stays finite far in the tails for ``c = 0``.

    Examples
    --------
    >>> round(float(log_likelihood(1, 0.0, 1.0, 0.0)), 6)
    -0.693147
    """
    y = np.asarray(correct, dtype=np.float64)
    a_ = np.asarray(a, dtype=np.float64)
    c_ = np.asarray(c, dtype=np.float64)
    z = a_ * np.subtract(theta, b, dtype=np.float64)
    if np.all(c_ == 0):
        ll_right = log_expit(z)
        ll_wrong = log_expit(-z)
    else:
        s = expit(z)
        ll_right = np.log(c_ + (1.0 - c_) * s)
        ll_wrong = np.log1p(-c_) + log_expit(-z)
    out = np.where(y == 1, ll_right, np.where(y == 0, ll_wrong, 0.0))
    return np.asarray(out, dtype=np.float64)


def to_slope_intercept(a: ArrayLike, b: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert Pix's ``(a, b)`` to mirt's slope-intercept ``(a1, d)`` with ``d = −a·b``.

    Parameters
    ----------
    a, b
        Discrimination and difficulty.

    Returns
    -------
    tuple of numpy.ndarray
        ``(a1, d)``.
    """
    a_ = np.asarray(a, dtype=np.float64)
    return a_, -a_ * np.asarray(b, dtype=np.float64)


def from_slope_intercept(a1: ArrayLike, d: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Convert mirt's slope-intercept ``(a1, d)`` to Pix's ``(a, b)`` with ``b = −d / a``.

    Parameters
    ----------
    a1, d
        Slope and intercept.

    Returns
    -------
    tuple of numpy.ndarray
        ``(a, b)``.
    """
    a_ = np.asarray(a1, dtype=np.float64)
    return a_, -np.asarray(d, dtype=np.float64) / a_
