"""The E-step design of a response log.

Persons in chunks of CSR answer codes (dense when dense enough), the quadrature grid
and each person's group; built by :func:`pixirt.calibration.calibrate` for a whole log,
by :mod:`pixirt.calibration._partitions` for each partition of persons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from pixirt._response_log import ResponseLog

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CHUNK_CELLS = 4_000_000  # persons × nodes (or items) per E-step chunk (32 MB of float64)
_DENSE_MIN_DENSITY = 0.25  # a chunk at least this dense uses dense BLAS products
_DENSE_CACHE_BYTES = 512 * 2**20  # most memory held by dense chunks


@dataclass(frozen=True, slots=True)
class Chunk:
    """A block of persons and their answers, sparse or dense.

    Sparse: ``sparse`` is the CSR incidence persons × answer codes (``2·item + correct``)
    built on the log's arrays (no copy). Dense (when the block is dense enough for BLAS
    to beat the sparse products): ``right`` (1 where answered right) and ``seen`` (1
    where answered; None when every cell is answered), persons × items.
    """

    p0: int
    p1: int
    sparse: Any
    right: FloatArray | None
    seen: FloatArray | None

    def gather(self, table: FloatArray) -> FloatArray:
        """``Σ`` over each person's answers of ``table[code]``, shape (persons, nodes)."""
        if self.right is None:
            return np.asarray(self.sparse @ table)
        t0, t1 = table[0::2], table[1::2]
        out = self.right @ (t1 - t0)
        if self.seen is None:
            out += t0.sum(axis=0)
        else:
            out += self.seen @ t0
        return np.asarray(out, dtype=np.float64)

    def scatter(self, post: FloatArray) -> tuple[FloatArray, FloatArray]:
        """Posterior mass of the persons who answered each item wrong and right, (items, nodes) each."""
        if self.right is None:
            both = np.asarray(self.sparse.T @ post)
            return both[0::2], both[1::2]
        right = self.right.T @ post
        total = post.sum(axis=0)[None, :] if self.seen is None else self.seen.T @ post
        return total - right, right


@dataclass(frozen=True, slots=True)
class Design:
    """The answered cells, chunked by persons, in the form the E-step uses."""

    n_items: int
    n_quad: int
    theta: FloatArray  # quadrature nodes
    codes: npt.NDArray[np.int32]  # 2 · item + correct, one per answer
    indptr: IntArray  # persons with at least one answer
    chunks: tuple[Chunk, ...]
    group: IntArray | None = None  # each person's group (0: reference), multiple-group calibration

    @property
    def n_persons(self) -> int:
        return len(self.indptr) - 1


def build_design(
    log: ResponseLog,
    n_quad: int,
    theta_range: tuple[float, float],
    group: IntArray | None = None,
) -> Design:
    """Chunk the persons: at most ``_CHUNK_CELLS`` persons × nodes (or × items when dense).

    A chunk whose density reaches ``_DENSE_MIN_DENSITY`` is held as dense 0/1 matrices
    while they fit in ``_DENSE_CACHE_BYTES`` (one dense BLAS product then replaces a
    sparse one ~10 times slower per cell); the others stay sparse.
    """
    counts = np.diff(log.indptr)
    indptr = np.concatenate([[0], np.cumsum(counts[counts > 0])]).astype(np.int64)
    codes = (log.indices.astype(np.int32) * 2 + log.answers).astype(np.int32)
    n_p, n_items = len(indptr) - 1, log.n_items
    dense_mode = n_p > 0 and len(codes) >= _DENSE_MIN_DENSITY * n_p * n_items
    width = max(n_quad, n_items) if dense_mode else n_quad
    step = max(1, _CHUNK_CELLS // width)
    bounds = [(s, min(n_p, s + step)) for s in range(0, n_p, step)]
    longest = max((int(indptr[e] - indptr[s]) for s, e in bounds), default=0)
    ones = np.ones(longest)
    budget = _DENSE_CACHE_BYTES
    chunks = []
    for p0, p1 in bounds:
        a0, a1 = int(indptr[p0]), int(indptr[p1])
        cells = (p1 - p0) * n_items
        full = a1 - a0 == cells
        need = cells * 8 * (1 if full else 2)
        if dense_mode and a1 - a0 >= _DENSE_MIN_DENSITY * cells and need <= budget:
            budget -= need
            rows = np.repeat(np.arange(p1 - p0), np.diff(indptr[p0 : p1 + 1]))
            items = codes[a0:a1] >> 1
            right = np.zeros((p1 - p0, n_items))
            right[rows, items] = codes[a0:a1] & 1
            seen = None
            if not full:
                seen = np.zeros((p1 - p0, n_items))
                seen[rows, items] = 1.0
            chunks.append(Chunk(p0, p1, None, right, seen))
            continue
        local = (indptr[p0 : p1 + 1] - a0).astype(np.int32 if a1 - a0 < 2**31 - 1 else np.int64)
        mat = sp.csr_matrix(
            (ones[: a1 - a0], codes[a0:a1], local), shape=(p1 - p0, 2 * n_items), copy=False
        )
        chunks.append(Chunk(p0, p1, mat, None, None))
    return Design(
        n_items=n_items,
        n_quad=n_quad,
        theta=np.linspace(theta_range[0], theta_range[1], n_quad),
        codes=codes,
        indptr=indptr,
        chunks=tuple(chunks),
        group=None if group is None else np.ascontiguousarray(group[counts > 0], dtype=np.int64),
    )
