"""IRT likelihood-ratio (and Wald) DIF test per item, anchors held at the bank.

A likelihood-ratio test (and a Wald test) per item: the studied item's parameters are
estimated separately in each group and in common, every other item being an anchor held
at its bank values and each group's ability distribution estimated from the anchors. For
one studied item with the anchors fixed, the marginal likelihood factorizes as
``p(anchors) · Π_persons p(y_i | anchors)``, and the second factor is
``Σ_q post(θ_q | the person's anchor answers) · P_i(y_i | θ_q)``: the test is an exact
likelihood-ratio test of that model, computed on each person's posterior over the
quadrature grid (the person's own answer to the item excluded). Degrees of freedom: the
studied item's free parameters (``b`` for Rasch/1PL; ``a`` and ``b`` for the 2PL and 3PL,
``c`` held at its bank value). ``anchors`` restricts the conditioning to a DIF-free set;
``purify=True`` runs once with all other items, then again with the items not flagged as
anchors; ``anchors="sweep"`` is the anchor sweep: all other items as anchors, then
purified to a fixed point.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import expit

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import (
    Aligned,
    align,
    blocks,
    check_n_quad,
    grid,
    grid_loglik,
    log_prob_table,
    normalize_rows,
    resolve_prior,
)
from pixirt.calibration._dif_groups import (
    ANSWER_BLOCK,
    CACHE_CELLS,
    CORRECTIONS,
    MAX_SWEEP_ROUNDS,
    PERSON_BLOCK,
    Correction,
    Groups,
    adjusted,
    check_alpha,
    check_correction,
    group_distributions,
    many_groups,
    normal_log_w,
    resolve_groups,
)
from pixirt.exceptions import ConvergenceWarning, DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _node_tables(
    a: FloatArray, d: FloatArray, c: FloatArray, nodes: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Answer probabilities and their η-derivatives on the nodes.

    For parameter sets ``(a, d, c)`` (shape ``(n,)``): ``f``, ``∂log f/∂η`` and
    ``∂²log f/∂η²`` per answer value and node, each ``(n, 2, n_nodes)``.
    """
    eta = a[:, None] * nodes[None, :] + d[:, None]
    s = expit(eta)
    cc = c[:, None]
    p = cc + (1.0 - cc) * s
    f = np.stack([(1.0 - cc) * (1.0 - s), p], axis=1)
    g1_right = (1.0 - cc) * s * (1.0 - s) / p
    g1 = np.stack([-s, g1_right], axis=1)
    g2 = np.stack([-s * (1.0 - s), g1_right * ((1.0 - 2.0 * s) - g1_right)], axis=1)
    return f, g1, g2


@dataclass(frozen=True, slots=True)
class _Sums:
    loglik: FloatArray
    g_a: FloatArray
    g_d: FloatArray
    h_aa: FloatArray
    h_ad: FloatArray
    h_dd: FloatArray
    n: FloatArray


class _Posteriors:
    """Per studied answer, the posterior of θ given the person's anchor answers.

    The answer itself is excluded; computed by blocks, kept in memory when small enough.
    """

    def __init__(
        self,
        al: Aligned,
        code: IntArray,
        studied: npt.NDArray[np.bool_],
        anchor: npt.NDArray[np.bool_],
        nodes: FloatArray,
        group_log_w: FloatArray,
    ) -> None:
        self.al, self.code, self.nodes, self.group_log_w = al, code, nodes, group_log_w
        self.anchor = anchor
        table = log_prob_table(al.a, al.b, al.c, nodes)
        self.table = table
        self.anchor_table = np.where(np.repeat(anchor, 2)[:, None], table, 0.0)
        person = np.repeat(np.arange(al.n_persons), al.counts)
        self.select = studied[al.indices] & (code[person] >= 0)
        n_cells = int(self.select.sum()) * len(nodes)
        self.cache: list[tuple[IntArray, IntArray, IntArray, FloatArray]] | None = None
        if n_cells <= CACHE_CELLS:
            self.cache = list(self._compute())

    def _compute(self) -> Any:
        al = self.al
        for s0, s1 in blocks(al.indptr, max_persons=PERSON_BLOCK, max_answers=ANSWER_BLOCK):
            lo, hi = int(al.indptr[s0]), int(al.indptr[s1])
            sel = self.select[lo:hi]
            if not sel.any():
                continue
            g = self.code[s0:s1]
            ll = grid_loglik(al, s0, s1, self.anchor_table)
            post = normalize_rows(ll + self.group_log_w[np.maximum(g, 0)])
            local = np.repeat(np.arange(s1 - s0), np.diff(al.indptr[s0 : s1 + 1]))[sel]
            items = al.indices[lo:hi][sel].astype(np.int64)
            y = al.answers[lo:hi][sel].astype(np.int64)
            rows = post[local]
            own = self.anchor[items]
            if own.any():  # leave the studied answer out of its own conditioning set
                rows[own] *= np.exp(-self.table[2 * items[own] + y[own]])
                rows[own] /= rows[own].sum(axis=1, keepdims=True)
            yield items, y, g[local], rows

    def __iter__(self) -> Any:
        return iter(self.cache) if self.cache is not None else self._compute()


def _accumulate(
    post: _Posteriors, a: FloatArray, d: FloatArray, c: FloatArray, n_sets: int
) -> _Sums:
    """Log-likelihood and derivatives per (item, slot): slot 0 reference, 1 focal, 2 pooled."""
    nodes = post.nodes
    f, g1, g2 = _node_tables(a, d, np.repeat(c, 3), nodes)
    n_q = len(nodes)
    f2, g12, g22 = f.reshape(-1, n_q), g1.reshape(-1, n_q), g2.reshape(-1, n_q)
    powers = np.stack([np.ones_like(nodes), nodes, nodes * nodes], axis=1)  # (n_q, 3)
    acc = np.zeros((7, n_sets))
    sub = 4096  # rows per step: the working arrays stay in cache
    for items_b, y_b, g_b, rows_b in post:
        for s0 in range(0, len(items_b), sub):
            items, y, g = items_b[s0 : s0 + sub], y_b[s0 : s0 + sub], g_b[s0 : s0 + sub]
            rows = rows_b[s0 : s0 + sub]
            for slot in (g, np.full_like(g, 2)):
                key = items * 3 + slot
                flat = key * 2 + y
                r = rows * np.take(f2, flat, axis=0)
                m = r.sum(axis=1)
                r /= m[:, None]
                g1r = np.take(g12, flat, axis=0)
                w = g1r * g1r
                w += np.take(g22, flat, axis=0)
                w *= r
                g1r *= r
                s_d, s_a = (g1r @ powers[:, :2]).T
                a0, a1, a2 = (w @ powers).T
                for row, v in enumerate(
                    (np.log(m), s_a, s_d, a2 - s_a**2, a1 - s_a * s_d, a0 - s_d**2, np.ones_like(m))
                ):
                    acc[row] += np.bincount(key, weights=v, minlength=n_sets)
    return _Sums(*acc)


def _newton_step(s: _Sums, free_a: bool) -> tuple[FloatArray, FloatArray]:
    if not free_a:
        with np.errstate(divide="ignore", invalid="ignore"):
            step_d = np.where(s.h_dd < 0, -s.g_d / s.h_dd, 0.1 * s.g_d)
        return np.zeros_like(step_d), np.clip(np.nan_to_num(step_d), -2.0, 2.0)
    det = s.h_aa * s.h_dd - s.h_ad**2
    ok = (s.h_aa < 0) & (det > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        step_a = np.where(ok, -(s.h_dd * s.g_a - s.h_ad * s.g_d) / det, 0.1 * s.g_a)
        step_d = np.where(ok, -(-s.h_ad * s.g_a + s.h_aa * s.g_d) / det, 0.1 * s.g_d)
    return np.clip(np.nan_to_num(step_a), -0.5, 0.5), np.clip(np.nan_to_num(step_d), -2.0, 2.0)


def _fit_studied(
    post: _Posteriors,
    a0: FloatArray,
    d0: FloatArray,
    c: FloatArray,
    free_a: bool,
    *,
    max_iter: int,
    tol: float,
) -> tuple[FloatArray, FloatArray, _Sums, npt.NDArray[np.bool_]]:
    """ML of the studied items' parameters per slot, by Newton with step halving."""
    n_sets = len(a0)
    acc_a, acc_d = a0.copy(), d0.copy()
    cur = _accumulate(post, acc_a, acc_d, c, n_sets)
    step_a, step_d = _newton_step(cur, free_a)
    converged = cur.n == 0
    for _ in range(max_iter):
        if converged.all():
            break
        trial_a = np.maximum(acc_a + np.where(converged, 0.0, step_a), 0.02)
        trial_d = acc_d + np.where(converged, 0.0, step_d)
        new = _accumulate(post, trial_a, trial_d, c, n_sets)
        better = new.loglik >= cur.loglik - 1e-10 * np.abs(cur.loglik)
        moved = np.maximum(np.abs(trial_a - acc_a), np.abs(trial_d - acc_d))
        take = better & ~converged
        acc_a = np.where(take, trial_a, acc_a)
        acc_d = np.where(take, trial_d, acc_d)
        cur = _Sums(
            *(np.where(take, nv, cv) for nv, cv in zip(_fields(new), _fields(cur), strict=True))
        )
        na, nd = _newton_step(cur, free_a)
        step_a = np.where(take, na, 0.5 * step_a)
        step_d = np.where(take, nd, 0.5 * step_d)
        converged |= (take & (moved < tol)) | (np.maximum(np.abs(step_a), np.abs(step_d)) < tol)
    return acc_a, acc_d, cur, converged


def _fields(s: _Sums) -> tuple[FloatArray, ...]:
    return (s.loglik, s.g_a, s.g_d, s.h_aa, s.h_ad, s.h_dd, s.n)


def _is_sweep(anchors: Any) -> bool:
    """Whether ``anchors`` asks for the anchor sweep (a DataError on another string)."""
    sweep = isinstance(anchors, str) and anchors == "sweep"
    if isinstance(anchors, str) and not sweep:
        raise DataError(
            f"The 'anchors' parameter must be None, 'sweep' or a list of item ids. Got {anchors!r} instead.",
            field="anchors",
        )
    return sweep


def _item_mask(
    item_index: pd.Index, ids: Sequence[Any], label: str, field: str
) -> npt.NDArray[np.bool_]:
    """The log's items listed in ``ids`` (a DataError names the first one not in the log)."""
    pos = item_index.get_indexer(pd.Index(list(ids)))
    if (pos < 0).any():
        raise DataError(
            f"{label} {list(ids)[int(np.flatnonzero(pos < 0)[0])]!r} is not in the log",
            field=field,
        )
    mask = np.zeros(len(item_index), dtype=bool)
    mask[pos] = True
    return mask


def _purify(
    one_round: Callable[[npt.NDArray[np.bool_]], pd.DataFrame],
    out: pd.DataFrame,
    anchor: npt.NDArray[np.bool_],
    studied: npt.NDArray[np.bool_],
    sweep: bool,
) -> tuple[pd.DataFrame, int]:
    """Rerun with the unflagged items as anchors, to a fixed point (sweep) or once more."""
    rounds = 1
    seen = [anchor]
    while rounds < (MAX_SWEEP_ROUNDS if sweep else 2):
        clean = ~out["flagged"].to_numpy() | ~studied
        if not clean.any() or any(np.array_equal(clean, x) for x in seen):
            break
        out = one_round(clean)
        seen.append(clean)
        rounds += 1
    return out, rounds


def irt_dif(
    log: ResponseLog,
    bank: ItemBank,
    groups: pd.Series | Mapping[Any, Any] | Sequence[Any] | npt.NDArray[Any],
    *,
    focal: Any,
    reference: Any | None = None,
    anchors: Sequence[Any] | Literal["sweep"] | None = None,
    purify: bool = False,
    items: Sequence[Any] | None = None,
    n_quad: int = 61,
    alpha: float = 0.05,
    max_iter: int = 100,
    tol: float = 1e-6,
    correction: Correction = "bh",
) -> pd.DataFrame:
    """IRT likelihood-ratio and Wald DIF tests per item, with anchor items.

    Parameters
    ----------
    log
        The answers (dense or sparse).
    bank
        Item parameters; anchors are held at these values.
    groups, focal, reference
        As in :func:`mantel_haenszel_dif`.
    groups, focal, reference
        As in :func:`mantel_haenszel_dif` (``focal`` a list or ``"all"`` for more than
        two groups: each against the reference, indexed by ``(focal, item_id)``).
    anchors
        Item ids assumed free of DIF. None: every other item (the studied item is
        always left out of its own conditioning set). ``"sweep"``: the anchor sweep —
        every other item as anchors, then purified until the flagged set stops
        changing (at most 10 rounds): each round tests every item with the items not
        flagged in the previous round as anchors.
    purify
        With ``anchors=None``: run once, then again with the items not flagged at
        ``alpha`` as anchors (two stages).
    items
        Items to test (default: every item of the log).
    n_quad
        Quadrature nodes (grid over the bank's latent scale ± 6 sd).
    alpha
        Level of the flags.
    max_iter, tol
        Newton iterations and tolerance of the per-item fits.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_reference``, ``n_focal``, ``a_reference``,
        ``b_reference``, ``a_focal``, ``b_focal``, ``a_common``, ``b_common``, ``c``,
        ``delta_b`` (focal − reference), ``lr``, ``df``, ``p_value``, ``p_adjusted``
        (Benjamini–Hochberg over the tested items; ``p_value`` with
        ``correction="none"``), ``wald``, ``wald_p``, ``flagged`` (``p_adjusted <
        alpha``), ``anchor`` and ``converged``. ``attrs``: the groups' estimated
        distributions, the anchors, the number of purification rounds and
        ``correction`` (its name).
    """
    check_alpha(alpha)
    check_correction(correction)
    if isinstance(focal, list | tuple) or (isinstance(focal, str) and focal == "all"):
        return many_groups(
            lambda pair, f: irt_dif(
                log,
                bank,
                pair,
                focal=f,
                reference=reference,
                anchors=anchors,
                purify=purify,
                items=items,
                n_quad=n_quad,
                alpha=alpha,
                max_iter=max_iter,
                tol=tol,
                correction=correction,
            ),
            log,
            groups,
            focal,
            reference,
            alpha,
            correction,
            lambda out: out["p_adjusted"].fillna(1.0) < alpha,
        )
    sweep = _is_sweep(anchors)
    if sweep:
        anchors = None
    al = align(log, bank)
    grp = resolve_groups(log, groups, focal, reference)
    k = al.n_items
    n_quad = check_n_quad(n_quad)
    item_index = pd.Index(al.item_ids)
    studied = np.ones(k, dtype=bool)
    if items is not None:
        studied = _item_mask(item_index, items, "item", "items")
    if anchors is None:
        anchor = np.ones(k, dtype=bool)
    else:
        anchor = _item_mask(item_index, anchors, "anchor", "anchors")
        if not anchor.any():
            raise DataError("no anchor item", field="anchors")

    def one_round(anchor: npt.NDArray[np.bool_]) -> pd.DataFrame:
        return _irt_dif_round(
            al, bank, grp, anchor, studied, n_quad, alpha, max_iter, tol, correction
        )

    out = one_round(anchor)
    rounds = 1
    if (purify or sweep) and anchors is None:
        out, rounds = _purify(one_round, out, anchor, studied, sweep)
    out.attrs["purification_rounds"] = rounds
    out.attrs["correction"] = CORRECTIONS[correction]
    out.attrs["alpha"] = alpha
    if not out["converged"][studied].all():
        warnings.warn(
            f"the DIF fit of {int((~out['converged'][studied]).sum())} item(s) did not converge",
            ConvergenceWarning,
            stacklevel=2,
        )
    return out


def _irt_dif_round(
    al: Aligned,
    bank: ItemBank,
    grp: Groups,
    anchor: npt.NDArray[np.bool_],
    studied: npt.NDArray[np.bool_],
    n_quad: int,
    alpha: float,
    max_iter: int,
    tol: float,
    correction: str = "bh",
) -> pd.DataFrame:
    mean, sd = resolve_prior(bank, None)
    nodes, _ = grid(mean, sd, n_quad)
    table = log_prob_table(al.a, al.b, al.c, nodes)
    anchor_table = np.where(np.repeat(anchor, 2)[:, None], table, 0.0)
    dist = group_distributions(al, grp.code, nodes, anchor_table, (mean, sd))
    group_log_w = np.stack([normal_log_w(nodes, m, s) for m, s in dist])
    post = _Posteriors(al, grp.code, studied, anchor, nodes, group_log_w)
    free_a = bank.model not in ("Rasch", "1PL")
    k = al.n_items
    a0 = np.repeat(al.a, 3)
    d0 = np.repeat(-al.a * al.b, 3)
    a_hat, d_hat, sums, conv = _fit_studied(post, a0, d0, al.c, free_a, max_iter=max_iter, tol=tol)
    a3, d3 = a_hat.reshape(k, 3), d_hat.reshape(k, 3)
    ll = sums.loglik.reshape(k, 3)
    n3 = sums.n.reshape(k, 3)
    n_par = 2 if free_a else 1
    has = (n3[:, 0] > 0) & (n3[:, 1] > 0) & studied
    lr = np.where(has, np.maximum(2.0 * (ll[:, 0] + ll[:, 1] - ll[:, 2]), 0.0), np.nan)
    p_value = np.where(has, stats.chi2.sf(np.nan_to_num(lr), n_par), np.nan)
    wald = _wald(sums, a3, d3, free_a, k)
    wald = np.where(has, wald, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        b3 = -d3 / a3
        wald_p = stats.chi2.sf(wald, n_par)

    def nan_unless(v: FloatArray) -> FloatArray:
        return np.asarray(np.where(has, v, np.nan), dtype=np.float64)

    out = pd.DataFrame(
        {
            "n_reference": n3[:, 0].astype(np.int64),
            "n_focal": n3[:, 1].astype(np.int64),
            "a_reference": nan_unless(a3[:, 0]),
            "b_reference": nan_unless(b3[:, 0]),
            "a_focal": nan_unless(a3[:, 1]),
            "b_focal": nan_unless(b3[:, 1]),
            "a_common": nan_unless(a3[:, 2]),
            "b_common": nan_unless(b3[:, 2]),
            "c": al.c,
            "delta_b": nan_unless(b3[:, 1] - b3[:, 0]),
            "lr": lr,
            "df": np.where(has, n_par, 0),
            "p_value": p_value,
            "p_adjusted": (p_adj := adjusted(p_value, correction)),
            "wald": wald,
            "wald_p": np.where(has, wald_p, np.nan),
            "flagged": np.nan_to_num(p_adj, nan=1.0) < alpha,
            "anchor": anchor,
            "converged": conv.reshape(k, 3).all(axis=1) | ~has,
        },
        index=pd.Index(al.item_ids, name="item_id"),
    )
    out.attrs.update(
        {
            "focal": grp.focal,
            "reference": grp.reference,
            "group_distributions": {
                str(grp.reference): tuple(map(float, dist[0])),
                str(grp.focal): tuple(map(float, dist[1])),
            },
            "anchors": al.item_ids[anchor].tolist(),
            "model": bank.model,
        }
    )
    return out


def _wald(s: _Sums, a3: FloatArray, d3: FloatArray, free_a: bool, k: int) -> FloatArray:
    haa, had, hdd = (v.reshape(k, 3) for v in (s.h_aa, s.h_ad, s.h_dd))
    with np.errstate(divide="ignore", invalid="ignore"):
        if not free_a:
            var = -1.0 / hdd[:, 0] - 1.0 / hdd[:, 1]
            return np.asarray((d3[:, 1] - d3[:, 0]) ** 2 / var, dtype=np.float64)
        cov = np.zeros((k, 2, 2))
        for slot in (0, 1):
            det = haa[:, slot] * hdd[:, slot] - had[:, slot] ** 2
            cov[:, 0, 0] += -hdd[:, slot] / det
            cov[:, 1, 1] += -haa[:, slot] / det
            cov[:, 0, 1] += had[:, slot] / det
        cov[:, 1, 0] = cov[:, 0, 1]
        delta = np.stack([a3[:, 1] - a3[:, 0], d3[:, 1] - d3[:, 0]], axis=1)
        det_c = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] ** 2
        inv00, inv11, inv01 = cov[:, 1, 1] / det_c, cov[:, 0, 0] / det_c, -cov[:, 0, 1] / det_c
        return np.asarray(
            delta[:, 0] ** 2 * inv00
            + 2 * delta[:, 0] * delta[:, 1] * inv01
            + delta[:, 1] ** 2 * inv11,
            dtype=np.float64,
        )
