"""Counter-based random draws: every number a pure function of (seed, stream, candidate, step).

The engine, the HTTP service and the vectorized simulator must draw the *same* numbers
for the same candidate, whatever the order candidates are processed in, the chunk they
fall in, or whether a session was paused and resumed from JSON. A shared sequential
generator cannot promise that; a counter-based one can: the draw for candidate ``i`` at
step ``t`` of stream ``s`` is ``hash(seed, s, i, t)``, computed independently of every
other draw.

The hash is the SplitMix64 finaliser (Steele, Lea & Flood 2014) applied in two nested
rounds, over 64-bit integers with wrap-around arithmetic::

    key  = mix(mix(seed + φ) ^ stream_id)
    bits = mix(key ^ mix(candidate · φ₂ + step))

``mix`` is a bijection of 64-bit integers with full avalanche, so distinct counters
give independent-looking bits (SplitMix64 over a counter passes BigCrush). 53 bits make
a uniform in [0, 1); normals use the inverse normal CDF of a uniform in (0, 1). This is
a simulation generator, not a cryptographic one.

Streams are named (``"v3.pick"``, ``"population.general"``, ...) and turned into 64-bit
ids by SHA-256, so adding a stream never shifts another one's numbers.

Examples
--------
>>> import numpy as np
>>> u = uniform(7, "demo", np.arange(3), 0)
>>> bool(np.all((u >= 0) & (u < 1)))
True
>>> float(uniform(7, "demo", 2, 0)) == float(u[2])   # one candidate alone: same number
True
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.special import ndtri

__all__ = ["bits", "normal", "stream_id", "uniform"]

_PHI = np.uint64(0x9E3779B97F4A7C15)
_PHI2 = np.uint64(0xD1B54A32D192ED03)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO53 = 1.0 / 9007199254740992.0


def _mix(z: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    z = z ^ (z >> np.uint64(30))
    z = z * _M1
    z = z ^ (z >> np.uint64(27))
    z = z * _M2
    return z ^ (z >> np.uint64(31))


_MASK = 2**64 - 1


def _mix_int(z: int) -> int:
    z ^= z >> 30
    z = (z * 0xBF58476D1CE4E5B9) & _MASK
    z ^= z >> 27
    z = (z * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _bits_small(
    seed: int, stream: str, candidate: npt.NDArray[Any], step: npt.NDArray[Any]
) -> npt.NDArray[np.uint64]:
    """:func:`bits` with Python integers (same arithmetic modulo 2**64), for a handful of values."""
    key = _stream_key(int(seed), stream)
    shape = np.broadcast_shapes(candidate.shape, step.shape)
    cs = np.broadcast_to(candidate, shape).ravel().tolist()
    ts = np.broadcast_to(step, shape).ravel().tolist()
    flat = [
        _mix_int(key ^ _mix_int((int(c) * 0xD1B54A32D192ED03 + int(t)) & _MASK))
        for c, t in zip(cs, ts, strict=True)
    ]
    return np.asarray(flat, dtype=np.uint64).reshape(shape)


@lru_cache(maxsize=256)
def _stream_key(seed: int, stream: str) -> int:
    """The per-(seed, stream) key (the first round of the hash), kept for repeated calls."""
    return _mix_int(_mix_int((seed + 0x9E3779B97F4A7C15) & _MASK) ^ stream_id(stream))


@lru_cache(maxsize=256)
def stream_id(name: str) -> int:
    """The 64-bit id of a named stream (first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "little")


def bits(
    seed: int, stream: str, candidate: npt.ArrayLike, step: npt.ArrayLike = 0
) -> npt.NDArray[np.uint64]:
    """64 random bits per (candidate, step), broadcast together.

    Parameters
    ----------
    seed
        Non-negative integer seed (taken modulo 2**64).
    stream
        Name of the stream (what the numbers are for).
    candidate
        Candidate indices (non-negative integers).
    step
        Step indices (non-negative integers), broadcast against ``candidate``.

    Returns
    -------
    numpy.ndarray
        ``uint64`` array of the broadcast shape.
    """
    c_in, t_in = np.asarray(candidate), np.asarray(step)
    if (
        c_in.size * t_in.size <= 32
    ):  # small requests (one session's step): plain integers are faster
        return _bits_small(seed, stream, c_in, t_in)
    with np.errstate(over="ignore"):
        s = np.asarray([int(seed) % 2**64], dtype=np.uint64)
        key = _mix(_mix(s + _PHI) ^ np.uint64(stream_id(stream)))[0]
        c = np.asarray(candidate).astype(np.uint64)
        t = np.asarray(step).astype(np.uint64)
        return _mix(key ^ _mix(c * _PHI2 + t))


def uniform(
    seed: int, stream: str, candidate: npt.ArrayLike, step: npt.ArrayLike = 0
) -> npt.NDArray[np.float64]:
    """Uniform numbers in [0, 1) with 53 random bits, one per (candidate, step)."""
    return (bits(seed, stream, candidate, step) >> np.uint64(11)).astype(np.float64) * _TWO53


def normal(
    seed: int, stream: str, candidate: npt.ArrayLike, step: npt.ArrayLike = 0
) -> npt.NDArray[np.float64]:
    """Standard normal numbers, one per (candidate, step) (inverse CDF of a uniform in (0, 1))."""
    u = ((bits(seed, stream, candidate, step) >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO53
    return np.asarray(ndtri(u), dtype=np.float64)
