"""The observed information by Louis's (1982) identity.

Analytic complete-data scores and Hessians, and the final pass over the posteriors at
the estimates accumulating what the standard errors need (sums over persons:
partitions add up).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from pixirt.calibration import _priors as _priors
from pixirt.calibration._design import Chunk, Design
from pixirt.calibration._estep import EStep, add_esteps, posteriors, state_log_weights
from pixirt.calibration._mstep import node_terms, variance_terms
from pixirt.calibration._priors import Priors
from pixirt.calibration._state import Layout, State, answer_table
from pixirt.models import Model

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_SE_BATCH_CELLS = 3_000_000  # local score cells per batch in the full information
_SE_GATHER = 4_096  # answers per batch in the item-block information (stays in cache)


def slot_names(model: Model) -> tuple[str, ...]:
    return {"Rasch": ("d",), "1PL": ("a", "d"), "2PL": ("a", "d"), "3PL": ("a", "d", "g")}[model]


def global_index(layout: Layout, n_items: int) -> IntArray:
    """``G[item, slot]``: position of each item slot in ``x``; ``layout.size`` (a dummy) for fixed items."""
    slots = slot_names(layout.model)
    dummy = layout.size
    g = np.full((n_items, len(slots)), dummy, dtype=np.int64)
    k = np.arange(layout.n_free)
    for j, name in enumerate(slots):
        if name == "a":
            g[layout.free, j] = k if layout.model in ("2PL", "3PL") else 0
        elif name == "d":
            g[layout.free, j] = layout.off_d + k
        else:
            g[layout.free, j] = layout.off_g + k
    return g


@dataclass(frozen=True, slots=True)
class Derivatives:
    """Per code (2·item + correct) and node: complete-data scores and Hessians per slot."""

    score: tuple[FloatArray, ...]  # one (2J, Q) table per slot
    hess: dict[tuple[int, int], FloatArray]  # (j, l), j ≤ l → (2J, Q)
    lz: FloatArray  # ∂ℓ/∂z (the slope's score is θ·lz, the intercept's lz)
    lg: FloatArray  # ∂ℓ/∂logit(c)


def derivatives(s: State, layout: Layout, theta: FloatArray) -> Derivatives:
    a, d, c = s.a, s.d, s.c
    sg, tg, rho, _, _, cc = node_terms(a, d, c, theta)
    j_, q_ = sg.shape

    def interleave(wrong: FloatArray | float, right: FloatArray | float) -> FloatArray:
        out = np.empty((2 * j_, q_))
        out[0::2] = wrong
        out[1::2] = right
        return out

    lz = interleave(-sg, rho * tg)
    lzz = interleave(-sg * tg, rho * tg * ((1 - 2 * sg) - rho * tg))
    lg = interleave(-cc, (1 - rho) * (1 - cc) * tg)
    lzg = interleave(0.0, -rho * tg * (cc + (1 - rho) * (1 - cc) * tg))
    lgg = interleave(
        -cc * (1 - cc),
        (1 - rho) * (1 - cc) * tg * (1 - 2 * cc) - ((1 - rho) * (1 - cc) * tg) ** 2,
    )
    th = theta[None, :]
    slots = slot_names(layout.model)
    first = {"a": lz * th, "d": lz, "g": lg}
    second = {
        ("a", "a"): lzz * th * th,
        ("a", "d"): lzz * th,
        ("d", "d"): lzz,
        ("a", "g"): lzg * th,
        ("d", "g"): lzg,
        ("g", "g"): lgg,
    }
    hess = {
        (j, k): second[(slots[j], slots[k])]
        for j in range(len(slots))
        for k in range(j, len(slots))
    }
    return Derivatives(score=tuple(first[n] for n in slots), hess=hess, lz=lz, lg=lg)


def prior_information(s: State, layout: Layout, priors: Priors, size: int) -> Any:
    """``−∇² log prior`` in ``x`` (exact second derivatives), a sparse (size, size) matrix."""
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    vals: list[FloatArray] = []

    def add(r: IntArray, c: IntArray, v: FloatArray) -> None:
        rows.append(r)
        cols.append(c)
        vals.append(v)

    if not priors.is_empty and layout.n_free:
        f = layout.free
        a, d, c = s.a[f], s.d[f], s.c[f]
        k = np.arange(layout.n_free)
        ia = k if layout.model in ("2PL", "3PL") else np.zeros(layout.n_free, dtype=np.int64)
        id_ = layout.off_d + k
        if priors.a_lognormal is not None:
            if layout.model in ("2PL", "3PL"):
                add(ia, ia, -_priors.lognormal_terms(a, priors.a_lognormal)[2])
            elif layout.model == "1PL":
                h = _priors.lognormal_terms(a[:1], priors.a_lognormal)[2]
                add(np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), -h)
        if priors.b_normal is not None:
            _, _, _, h_aa, h_ad, h_dd = _priors.normal_b_terms(a, d, priors.b_normal)
            add(id_, id_, -h_dd)
            if layout.model != "Rasch":
                add(ia, ia, -h_aa)
                add(ia, id_, -h_ad)
                add(id_, ia, -h_ad)
        if priors.c_beta is not None:
            ig = layout.off_g + k
            add(ig, ig, -_priors.beta_c_terms(c, priors.c_beta)[2])
    if not vals:
        return sp.csr_matrix((size, size))
    return sp.coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(size, size)
    ).tocsr()


def expected_neg_hessian(
    e: EStep,
    der: Derivatives,
    gidx: IntArray,
    layout: Layout,
    s: State,
    theta: FloatArray,
    size: int,
) -> FloatArray:
    """``E[−∇² log f(y, θ)]`` over the posterior, from the expected counts (shape size+1 square)."""
    out = np.zeros((size + 1, size + 1))
    for (j, k), table in der.hess.items():
        value = -((e.wrong * table[0::2]).sum(1) + (e.right * table[1::2]).sum(1))
        np.add.at(out, (gidx[:, j], gidx[:, k]), value)
        if j != k:
            np.add.at(out, (gidx[:, k], gidx[:, j]), value)
    if layout.var_free:
        _, _, hess = variance_terms(theta, s.mean, s.variance)
        out[layout.off_v, layout.off_v] -= float(e.nodes @ hess)
    return out


def full_cost(k_hist: IntArray, n_quad: int, layout: Layout) -> float:
    """Multiply-adds of the full information, from ``k_hist[k]`` = persons with ``k`` answers."""
    m = len(slot_names(layout.model))
    k = np.arange(len(k_hist), dtype=np.float64)
    return float(n_quad * np.sum(k_hist * (m * k + int(layout.var_free)) ** 2))


def own_slots(layout: Layout) -> list[int]:
    """The slots that belong to one item alone (the 1PL's common slope does not)."""
    slots = slot_names(layout.model)
    return [j for j, n in enumerate(slots) if not (n == "a" and layout.model == "1PL")]


@dataclass(frozen=True, slots=True)
class Pass:
    """One pass over the posteriors at the estimates: E-step sums and the SE accumulators."""

    e: EStep
    full: FloatArray | None  # Σ_p Cov_post(score_p), (size+1)² (method "full")
    answer_means: FloatArray | None  # Σ_answers s̄ s̄ᵀ per item, (n_items, m, m) ("items")
    global_cov: float  # Σ_p Var_post of the 1PL slope's or the variance's score ("items")


def _accumulate_full(
    acc: FloatArray,
    design: Design,
    p0: int,
    post: FloatArray,
    der: Derivatives,
    gidx: IntArray,
    var_score: FloatArray | None,
    var_index: int,
    dim: int,
) -> None:
    """Add the chunk's per-person posterior covariances of the complete-data scores to ``acc``.

    Persons are grouped by their number of answers ``k``; each person's local score
    vector has ``k · m`` item slots (plus the variance) and its covariance is scattered
    to the parameters' positions (a repeated position, the 1PL slope, sums correctly).
    """
    m = len(der.score)
    counts = np.diff(design.indptr[p0 : p0 + len(post) + 1])
    for k in np.unique(counts):
        people = np.flatnonzero(counts == k)
        width = int(k) * m + int(var_score is not None)
        batch = max(1, _SE_BATCH_CELLS // (width * max(width, design.n_quad)))
        for b0 in range(0, len(people), batch):
            sel = people[b0 : b0 + batch]
            rows = design.indptr[p0 + sel][:, None] + np.arange(int(k))[None, :]
            codes = design.codes[rows]  # (n, k)
            items = codes >> 1
            local = np.empty((len(sel), width, design.n_quad))
            index = np.empty((len(sel), width), dtype=np.int64)
            for j in range(m):
                local[:, j : int(k) * m : m, :] = der.score[j][codes]
                index[:, j : int(k) * m : m] = gidx[items, j]
            if var_score is not None:
                local[:, -1, :] = var_score
                index[:, -1] = var_index
            w = post[sel]  # (n, Q)
            mean = np.einsum("npq,nq->np", local, w)
            local -= mean[:, :, None]
            weighted = local * w[:, None, :]
            if width <= 64:  # small products: batched BLAS is fastest
                cov = np.matmul(weighted, local.transpose(0, 2, 1))
            else:  # larger ones trigger BLAS threading, erratic on a loaded machine
                cov = np.einsum("npq,nrq->npr", weighted, local)
            flat = index[:, :, None] * dim + index[:, None, :]
            acc += np.bincount(flat.ravel(), weights=cov.ravel(), minlength=dim * dim)


def _accumulate_answer_means(
    acc: FloatArray,
    design: Design,
    chunk: Chunk,
    post: FloatArray,
    der: Derivatives,
    own: list[str],
) -> None:
    """Add ``s̄ s̄ᵀ`` per answer (posterior mean of the item's own scores) to its item's block."""
    m = len(own)
    if chunk.right is not None:  # dense: the means of every cell by BLAS, kept where answered
        wrong = (1.0 - chunk.right) if chunk.seen is None else (chunk.seen - chunk.right)
        means: dict[str, FloatArray] = {}
        for name, table, weight in (
            ("d", der.lz, post),
            ("a", der.lz, post * design.theta),
            ("g", der.lg, post),
        ):
            if name in own:
                means[name] = chunk.right * (weight @ table[1::2].T) + wrong * (
                    weight @ table[0::2].T
                )
        for x in range(m):
            for y in range(x, m):
                block = (means[own[x]] * means[own[y]]).sum(axis=0)
                acc[:, x, y] += block
                if x != y:
                    acc[:, y, x] += block
        return
    # sparse: per answer, in small cache-sized batches and in float32 (SEs need ~4 digits;
    # the sums over answers are float64)
    p0, p1 = chunk.p0, chunk.p1
    a0, a1 = int(design.indptr[p0]), int(design.indptr[p1])
    owner = np.repeat(np.arange(p1 - p0), np.diff(design.indptr[p0 : p1 + 1]))
    post32 = post.astype(np.float32)
    lz32, lg32 = der.lz.astype(np.float32), der.lg.astype(np.float32)
    theta32 = design.theta.astype(np.float32)
    n_items = acc.shape[0]
    for b0 in range(a0, a1, _SE_GATHER):
        b1 = min(a1, b0 + _SE_GATHER)
        codes = design.codes[b0:b1]
        w = post32[owner[b0 - a0 : b1 - a0]]  # (answers, Q)
        per_answer: dict[str, npt.NDArray[np.float64]] = {}
        if "a" in own or "d" in own:
            wz = w * lz32[codes]
            per_answer["d"] = wz.sum(axis=1, dtype=np.float64)
            per_answer["a"] = (wz @ theta32).astype(np.float64)
        if "g" in own:
            per_answer["g"] = (w * lg32[codes]).sum(axis=1, dtype=np.float64)
        items = codes >> 1
        for x in range(m):
            for y in range(x, m):
                weights = per_answer[own[x]] * per_answer[own[y]]
                block = np.bincount(items, weights=weights, minlength=n_items)
                acc[:, x, y] += block
                if x != y:
                    acc[:, y, x] += block


def final_pass(
    design: Design, s: State, layout: Layout, der: Derivatives, method: Literal["full", "items"]
) -> Pass:
    """E-step at the estimates, accumulating what the chosen SE method needs on the way."""
    theta = design.theta
    table = answer_table(s, theta)
    log_w = state_log_weights(theta, s)
    var_score = variance_terms(theta, s.mean, s.variance)[1] if layout.var_free else None
    slots = slot_names(layout.model)
    own = [slots[j] for j in own_slots(layout)]
    wrong = np.zeros((design.n_items, design.n_quad))
    right = np.zeros((design.n_items, design.n_quad))
    nodes = np.zeros(design.n_quad)
    loglik = 0.0
    dim = layout.size + 1
    full = np.zeros(dim * dim) if method == "full" else None
    gidx = global_index(layout, design.n_items)
    means = np.zeros((design.n_items, len(own), len(own))) if method == "items" else None
    global_cov = 0.0
    for chunk, post, ll in posteriors(design, table, log_w):
        w, r = chunk.scatter(post)
        wrong += w
        right += r
        nodes += post.sum(axis=0)
        loglik += ll
        if full is not None:
            _accumulate_full(full, design, chunk.p0, post, der, gidx, var_score, layout.off_v, dim)
            continue
        assert means is not None
        _accumulate_answer_means(means, design, chunk, post, der, own)
        if layout.model == "1PL":
            score_a = chunk.gather(der.score[slots.index("a")])  # Σ over the person's answers
            mean_a = (score_a * post).sum(axis=1)
            global_cov += float((((score_a - mean_a[:, None]) ** 2) * post).sum())
        elif var_score is not None:
            mean_v = post @ var_score
            global_cov += float((((var_score[None, :] - mean_v[:, None]) ** 2) * post).sum())
    e = EStep(loglik=loglik, wrong=wrong, right=right, nodes=nodes)
    return Pass(
        e=e,
        full=None if full is None else full.reshape(dim, dim),
        answer_means=means,
        global_cov=global_cov,
    )


def add_passes(x: Pass, y: Pass) -> Pass:
    """Sum of two partitions' final passes."""
    return Pass(
        e=add_esteps(x.e, y.e),
        full=None if x.full is None or y.full is None else x.full + y.full,
        answer_means=(
            None
            if x.answer_means is None or y.answer_means is None
            else x.answer_means + y.answer_means
        ),
        global_cov=x.global_cov + y.global_cov,
    )
