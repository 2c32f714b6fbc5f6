"""Boundary checks shared by the public entry points (kernels trust their inputs)."""

from __future__ import annotations

import numbers

import numpy as np

from pixirt.exceptions import DataError

__all__ = ["as_generator", "check_choice", "check_in_range"]


def as_generator(
    seed: int | np.random.Generator | np.random.SeedSequence | None,
) -> np.random.Generator:
    """Normalise a seed to a :class:`numpy.random.Generator` (PCG64).

    Parameters
    ----------
    seed
        None (fresh entropy), a non-negative int, a ``SeedSequence`` or a ``Generator``
        (returned as is).

    Returns
    -------
    numpy.random.Generator
        The generator.
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None or isinstance(seed, np.random.SeedSequence):
        return np.random.default_rng(seed)
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and int(seed) >= 0:
        return np.random.default_rng(int(seed))
    raise DataError(
        f"The 'seed' parameter must be None, a non-negative int or a numpy Generator. Got {seed!r} instead.",
        field="seed",
    )


def check_in_range(
    value: float,
    name: str,
    low: float,
    high: float,
    *,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """Check that a number lies in a range, naming the parameter in the error."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataError(
            f"The {name!r} parameter must be a number. Got {value!r} instead.", field=name
        ) from None
    lo_ok = v > low if low_open else v >= low
    hi_ok = v < high if high_open else v <= high
    if not (np.isfinite(v) and lo_ok and hi_ok):
        lb = "(" if low_open else "["
        rb = ")" if high_open else "]"
        raise DataError(
            f"The {name!r} parameter must be in {lb}{low}, {high}{rb}. Got {value!r} instead.",
            field=name,
        )
    return v


def check_choice(value: str, name: str, choices: tuple[str, ...]) -> str:
    """Check that a string is one of ``choices``, naming the parameter in the error."""
    if value not in choices:
        raise DataError(
            f"The {name!r} parameter must be one of {', '.join(map(repr, choices))}. Got {value!r} instead.",
            field=name,
        )
    return value
