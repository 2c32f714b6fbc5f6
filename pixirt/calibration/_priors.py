"""Prior distributions on item parameters, for MAP calibration.

A :class:`Priors` holds up to three independent priors, each optional:

- ``a_lognormal = (mu, sigma)``: ``log a ~ N(mu, sigma²)`` on the discrimination;
- ``b_normal = (mean, sd)``: ``b ~ N(mean, sd²)`` on the difficulty;
- ``c_beta = (alpha, beta)``: ``c ~ Beta(alpha, beta)`` on the lower asymptote (3PL).

With priors, :func:`pixirt.calibration.calibrate` maximizes the log-posterior
``log L + log p(a) + log p(b) + log p(c)`` (MAP); without, the marginal likelihood (ML,
as R's mirt does by default). The densities are those of the parameters as reported
(``a``, ``b = −d / a``, ``c``), whatever the internal parameterization.

Which priors apply (:meth:`Priors.resolve`):

- ``priors=None``: none, except for the 3PL, which always needs a prior on ``c`` to be
  identified in practice: ``c ~ Beta(5, 17)`` (mode 0.2, mean 0.23; BILOG-MG's default
  for five-option items, ``alpha = 20·0.2 + 1``, ``beta = 20·0.8 + 1``).
- ``priors="default"``: :meth:`Priors.default`, ``log a ~ N(0, 0.5²)``, ``b ~ N(0, 3²)``
  and, for the 3PL, ``c ~ Beta(5, 17)``. The prior on ``b`` keeps the difficulty of an
  item answered always right (or always wrong) finite; the others are mild.
- a :class:`Priors`: exactly those (so ``Priors()`` is pure ML even for the 3PL).

Priors apply to the calibrated items only, never to the items of a ``fixed`` bank. The
Rasch model has no free slope, so ``a_lognormal`` is ignored there; the 1PL applies it
once, to the common slope. ``c_beta`` is ignored unless the model is 3PL.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from pixirt._json import from_dict, to_dict
from pixirt.exceptions import DataError
from pixirt.models import Model

__all__ = ["DEFAULT_C_BETA", "Priors"]

FloatArray = npt.NDArray[np.float64]

#: The beta prior on ``c`` used for the 3PL when no priors are given (BILOG-MG's default).
DEFAULT_C_BETA: tuple[float, float] = (5.0, 17.0)
_DEFAULT_A_LOGNORMAL: tuple[float, float] = (0.0, 0.5)
_DEFAULT_B_NORMAL: tuple[float, float] = (0.0, 3.0)


def _pair(value: Any, name: str, *, positive_first: bool) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        first, second = (float(v) for v in value)
    except (TypeError, ValueError):
        raise DataError(
            f"The {name!r} parameter must be None or a pair of numbers. Got {value!r} instead.",
            field=name,
        ) from None
    if (
        not (math.isfinite(first) and math.isfinite(second))
        or second <= 0
        or (positive_first and first <= 0)
    ):
        what = "both positive" if positive_first else "finite, with a positive second value"
        raise DataError(
            f"The {name!r} parameter must be {what}. Got {value!r} instead.", field=name
        )
    return first, second


@dataclass(frozen=True, slots=True)
class Priors:
    """Independent priors on the item parameters (each None for no prior).

    Parameters
    ----------
    a_lognormal
        ``(mu, sigma)``: ``log a ~ N(mu, sigma²)``.
    b_normal
        ``(mean, sd)``: ``b ~ N(mean, sd²)``.
    c_beta
        ``(alpha, beta)``: ``c ~ Beta(alpha, beta)``, both > 0 (use values ≥ 1 to keep
        ``c`` away from 0 and 1).

    Examples
    --------
    >>> Priors(b_normal=(0.0, 2.0))
    Priors(a_lognormal=None, b_normal=(0.0, 2.0), c_beta=None)
    >>> Priors.default("3PL").c_beta
    (5.0, 17.0)
    """

    a_lognormal: tuple[float, float] | None = None
    b_normal: tuple[float, float] | None = None
    c_beta: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "a_lognormal", _pair(self.a_lognormal, "a_lognormal", positive_first=False)
        )
        object.__setattr__(self, "b_normal", _pair(self.b_normal, "b_normal", positive_first=False))
        object.__setattr__(self, "c_beta", _pair(self.c_beta, "c_beta", positive_first=True))

    @classmethod
    def default(cls, model: Model = "2PL") -> Priors:
        """The default priors: ``log a ~ N(0, 0.5²)``, ``b ~ N(0, 3²)``, and ``c ~ Beta(5, 17)`` for the 3PL."""
        return cls(
            a_lognormal=_DEFAULT_A_LOGNORMAL,
            b_normal=_DEFAULT_B_NORMAL,
            c_beta=DEFAULT_C_BETA if model == "3PL" else None,
        )

    @classmethod
    def resolve(cls, priors: Priors | str | None, model: Model) -> Priors:
        """The priors a calibration uses, from the ``priors`` argument of ``calibrate``.

        Parameters
        ----------
        priors
            None, ``"default"`` or a :class:`Priors`.
        model
            The IRT model.

        Returns
        -------
        Priors
            With the parts the model does not use removed (``c_beta`` unless 3PL,
            ``a_lognormal`` for the Rasch model).

        Raises
        ------
        DataError
            For any other value (field ``priors``).
        """
        if priors is None:
            out = cls(c_beta=DEFAULT_C_BETA) if model == "3PL" else cls()
        elif isinstance(priors, str):
            if priors != "default":
                raise DataError(
                    f"The 'priors' parameter must be None, 'default' or a Priors. Got {priors!r} instead.",
                    field="priors",
                )
            out = cls.default(model)
        elif isinstance(priors, Priors):
            out = priors
        else:
            raise DataError(
                f"The 'priors' parameter must be None, 'default' or a Priors. Got {type(priors).__name__} instead.",
                field="priors",
            )
        return cls(
            a_lognormal=None if model == "Rasch" else out.a_lognormal,
            b_normal=out.b_normal,
            c_beta=out.c_beta if model == "3PL" else None,
        )

    @property
    def is_empty(self) -> bool:
        """True when there is no prior at all (pure maximum likelihood)."""
        return self.a_lognormal is None and self.b_normal is None and self.c_beta is None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (pairs as lists)."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Priors:
        """Rebuild from :meth:`to_dict` output."""
        return from_dict(cls, data, where="priors")

    def __str__(self) -> str:
        parts = []
        if self.a_lognormal is not None:
            parts.append(f"log a ~ N({self.a_lognormal[0]:g}, {self.a_lognormal[1]:g}²)")
        if self.b_normal is not None:
            parts.append(f"b ~ N({self.b_normal[0]:g}, {self.b_normal[1]:g}²)")
        if self.c_beta is not None:
            parts.append(f"c ~ Beta({self.c_beta[0]:g}, {self.c_beta[1]:g})")
        return ", ".join(parts) if parts else "none (maximum likelihood)"


# --------------------------------------------------------------------------- log-densities
# Each returns (log-density up to a constant, first derivatives, second derivatives) in the
# engine's parameters: the slope a, the intercept d (b = −d/a) and γ = logit(c).


def lognormal_terms(
    a: FloatArray, prior: tuple[float, float]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log p(a)`` for ``log a ~ N(mu, sigma²)`` (a > 0), with its first and second derivatives in ``a``."""
    mu, sigma = prior
    with np.errstate(divide="ignore", invalid="ignore"):
        la = np.log(a)
        u = (la - mu) / sigma**2
        value = -la - 0.5 * (la - mu) * u
        d1 = (-1.0 - u) / a
        d2 = (1.0 + u - 1.0 / sigma**2) / a**2
    bad = ~(a > 0)
    return np.where(bad, -np.inf, value), np.where(bad, 0.0, d1), np.where(bad, 0.0, d2)


def normal_b_terms(
    a: FloatArray, d: FloatArray, prior: tuple[float, float]
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    """``log p(b)`` for ``b = −d/a ~ N(mean, sd²)``, with derivatives in ``(a, d)``.

    Returns
    -------
    tuple of numpy.ndarray
        ``value, g_a, g_d, h_aa, h_ad, h_dd``.
    """
    mean, sd = prior
    b = -d / a
    e = (b - mean) / sd**2
    db_da, db_dd = -b / a, -1.0 / a
    # second derivatives of b: b_aa = −2d/a³ = 2b/a², b_ad = 1/a², b_dd = 0
    b_aa, b_ad = 2.0 * b / a**2, 1.0 / a**2
    value = -0.5 * (b - mean) * e
    g_a, g_d = -e * db_da, -e * db_dd
    inv = 1.0 / sd**2
    h_aa = -inv * db_da**2 - e * b_aa
    h_ad = -inv * db_da * db_dd - e * b_ad
    h_dd = -inv * db_dd**2
    return value, g_a, g_d, h_aa, h_ad, h_dd


def beta_c_terms(
    c: FloatArray, prior: tuple[float, float]
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``log p(c)`` for ``c ~ Beta(alpha, beta)``, with derivatives in ``γ = logit(c)``."""
    alpha, beta = prior
    with np.errstate(divide="ignore"):
        value = (alpha - 1.0) * np.log(c) + (beta - 1.0) * np.log1p(-c)
    d1 = (alpha - 1.0) * (1.0 - c) - (beta - 1.0) * c
    d2 = -(alpha + beta - 2.0) * c * (1.0 - c)
    return value, d1, d2
