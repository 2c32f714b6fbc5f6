"""The E-step over a design.

Per-person posteriors at the nodes, summed per item into expected counts of wrong and
right answers; partitions' sums add up.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from pixirt.calibration._design import Chunk, Design
from pixirt.calibration._state import State, answer_table, log_weights

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class EStep:
    loglik: float
    wrong: FloatArray  # expected wrong answers per item and node
    right: FloatArray  # expected right answers per item and node
    nodes: FloatArray  # expected persons per node
    group_nodes: FloatArray | None = None  # (groups, Q): expected persons per group and node


def state_log_weights(theta: FloatArray, s: State) -> FloatArray:
    """The nodes' log weights: ``(Q,)`` for one group, ``(groups, Q)`` for several."""
    if s.g_mean is None or s.g_var is None:
        return log_weights(theta, s.mean, s.variance)
    return np.stack([log_weights(theta, m, v) for m, v in zip(s.g_mean, s.g_var, strict=True)])


def posteriors(
    design: Design, table: FloatArray, log_w: FloatArray
) -> Iterator[tuple[Chunk, FloatArray, float]]:
    """Per chunk: ``(chunk, posterior, loglik)``; posteriors normalized in log space.

    ``log_w`` is ``(Q,)``, or ``(groups, Q)`` with ``design.group`` giving each
    person's row (multiple-group calibration).
    """
    for chunk in design.chunks:
        post = chunk.gather(table)
        if log_w.ndim == 2:
            assert design.group is not None
            post += log_w[design.group[chunk.p0 : chunk.p1]]
        else:
            post += log_w
        top = post.max(axis=1)
        post -= top[:, None]
        np.exp(post, out=post)
        total = post.sum(axis=1)
        post /= total[:, None]
        yield chunk, post, float(np.sum(top + np.log(total)))


def _group_sums(design: Design, chunk: Chunk, post: FloatArray, n_groups: int) -> FloatArray:
    """``(groups, Q)``: the chunk's posterior mass per group and node."""
    assert design.group is not None
    g = design.group[chunk.p0 : chunk.p1]
    member = sp.csr_matrix((np.ones(len(g)), (g, np.arange(len(g)))), shape=(n_groups, len(g)))
    return np.asarray(member @ post, dtype=np.float64)


def e_step(design: Design, s: State) -> EStep:
    table = answer_table(s, design.theta)
    log_w = state_log_weights(design.theta, s)
    wrong = np.zeros((design.n_items, design.n_quad))
    right = np.zeros((design.n_items, design.n_quad))
    nodes = np.zeros(design.n_quad)
    group_nodes = np.zeros(log_w.shape) if log_w.ndim == 2 else None
    loglik = 0.0
    for chunk, post, ll in posteriors(design, table, log_w):
        w, r = chunk.scatter(post)
        wrong += w
        right += r
        nodes += post.sum(axis=0)
        if group_nodes is not None:
            group_nodes += _group_sums(design, chunk, post, len(group_nodes))
        loglik += ll
    return EStep(loglik=loglik, wrong=wrong, right=right, nodes=nodes, group_nodes=group_nodes)


def add_esteps(x: EStep, y: EStep) -> EStep:
    """Sum of two partitions' E-step sums."""
    return EStep(
        loglik=x.loglik + y.loglik,
        wrong=x.wrong + y.wrong,
        right=x.right + y.right,
        nodes=x.nodes + y.nodes,
        group_nodes=None
        if x.group_nodes is None or y.group_nodes is None
        else x.group_nodes + y.group_nodes,
    )
