"""Differential item functioning (DIF) between groups of candidates, on sparse logs.

Flags hold under multiplicity: ``flagged`` uses Benjamini–Hochberg adjusted p-values by
default (``correction="bh"``, named in ``attrs["correction"]``; ``"none"`` for the
nominal tests), and for Mantel–Haenszel also an ETS class B or C. More than two
groups: ``focal`` a list or ``"all"``, each focal group against the reference. The
IRT test's ``anchors="sweep"`` is the anchor sweep: all other items as anchors, then
purified to a fixed point.

Two tests, both per item and both vectorized over items and answers:

:func:`mantel_haenszel_dif`
    The Mantel–Haenszel common odds ratio across strata of a matching variable, its
    chi-square test (with continuity correction), the ETS delta ``D = −2.35 ln α_MH``
    with the Robins–Breslow–Greenland standard error, and the ETS A/B/C classes
    (Zieky 1993; Zwick 2012): **A** when ``|D| < 1`` or the MH test is not significant;
    **C** when ``|D| ≥ 1.5`` and ``|D|`` is significantly above 1 (one-sided, level
    ``alpha``); **B** otherwise. A negative ``D`` means the item is harder for the focal
    group than for reference candidates of the same ability ("−", favours the
    reference). Matching: the total score when every analysed person answered every
    item (``matching="score"``, the classical MH), else (``"theta"``, sparse logs)
    equal-count strata of the person's ability estimated from their *other* answers
    (leave-one-out EAP), each group with its own normal prior estimated by marginal
    maximum likelihood, so that equal matching values mean equal expected ability in
    both groups even when the groups differ in ability (impact).
:func:`irt_dif`
    A likelihood-ratio test (and a Wald test) per item: the studied item's parameters
    are estimated separately in each group and in common, every other item being an
    anchor held at its bank values and each group's ability distribution estimated
    from the anchors. For one studied item with the anchors fixed, the marginal
    likelihood factorizes as ``p(anchors) · Π_persons p(y_i | anchors)``, and the second
    factor is ``Σ_q post(θ_q | the person's anchor answers) · P_i(y_i | θ_q)``: the test
    is an exact likelihood-ratio test of that model, computed on each person's
    posterior over the quadrature grid (the person's own answer to the item excluded).
    Degrees of freedom: the studied item's free parameters (``b`` for Rasch/1PL; ``a``
    and ``b`` for the 2PL and 3PL, ``c`` held at its bank value). ``anchors`` restricts
    the conditioning to a DIF-free set; ``purify=True`` runs once with all other items,
    then again with the items not flagged as anchors.

:func:`dif_power_study` simulates two-group data with DIF planted on known items and
reports the power and false-positive rate of both tests over repeated seeds.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import expit

from pixirt.calibration.ability import (
    Aligned,
    align,
    blocks,
    check_n_quad,
    grid,
    grid_loglik,
    leave_one_out,
    log_prob_table,
    normalize_rows,
    resolve_prior,
)
from pixirt.calibration.fit import equal_count_bins
from pixirt.exceptions import ConvergenceWarning, DataError
from pixirt.item_bank import ItemBank
from pixirt.responses import ResponseLog

__all__ = ["dif_power_study", "irt_dif", "mantel_haenszel_dif"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Matching = Literal["auto", "score", "theta"]
Correction = Literal["bh", "none"]
_CORRECTIONS = {"bh": "Benjamini–Hochberg", "none": "none"}
_MAX_SWEEP_ROUNDS = 10

_ETS_SCALE = 2.35
_CACHE_CELLS = 1 << 25  # keep per-answer posteriors in memory up to this many floats
_PERSON_BLOCK = 32_768
_ANSWER_BLOCK = 1 << 19


# --------------------------------------------------------------------------- groups
@dataclass(frozen=True, slots=True)
class _Groups:
    code: IntArray  # per person: 0 reference, 1 focal, -1 not analysed
    focal: Any
    reference: Any


def _resolve_groups(log: ResponseLog, groups: Any, focal: Any, reference: Any | None) -> _Groups:
    if isinstance(groups, pd.Series):
        series = groups
        if not series.index.is_unique:
            raise DataError("groups has duplicate person ids in its index", field="groups")
        values = series.reindex(pd.Index(log.person_ids)).to_numpy(dtype=object)
    elif isinstance(groups, Mapping):
        series = pd.Series(dict(groups), dtype=object)
        values = series.reindex(pd.Index(log.person_ids)).to_numpy(dtype=object)
    else:
        try:
            values = np.asarray(groups, dtype=object)
        except (TypeError, ValueError):
            raise DataError(
                "groups must be a Series indexed by person_id, a mapping or an array",
                field="groups",
            ) from None
        if values.ndim != 1 or len(values) != log.n_persons:
            raise DataError(
                f"groups must have one label per person of the log ({log.n_persons}), "
                f"got shape {values.shape}",
                field="groups",
            )
    present = pd.Series(values).dropna()
    labels = pd.unique(present)
    if focal not in set(labels):
        raise DataError(
            f"focal group {focal!r} is not among the groups {sorted(map(str, labels))}",
            field="focal",
        )
    others = [g for g in labels if g != focal]
    if reference is None:
        if len(others) != 1:
            raise DataError(
                f"{len(others)} groups besides the focal one: name the reference group",
                field="reference",
            )
        reference = others[0]
    elif reference not in set(others):
        raise DataError(
            f"reference group {reference!r} is not among the groups {sorted(map(str, labels))}",
            field="reference",
        )
    is_focal = pd.Series(values).eq(focal).to_numpy()
    is_ref = pd.Series(values).eq(reference).to_numpy()
    for label, mask in ((reference, is_ref), (focal, is_focal)):
        n = int(mask.sum())
        if n < 2:
            raise DataError(
                f"group {label!r} has {n} member(s); at least 2 are needed", field="groups"
            )
    code = np.where(is_ref, 0, np.where(is_focal, 1, -1)).astype(np.int64)
    return _Groups(code=code, focal=focal, reference=reference)


def _normal_log_w(nodes: FloatArray, mean: float, sd: float) -> FloatArray:
    lw = -0.5 * ((nodes - mean) / sd) ** 2
    return np.asarray(lw - np.log(np.exp(lw - lw.max()).sum()) - lw.max(), dtype=np.float64)


def _group_distributions(
    al: Aligned,
    code: IntArray,
    nodes: FloatArray,
    table: FloatArray,
    start: tuple[float, float],
    *,
    max_iter: int = 500,
    tol: float = 1e-7,
) -> FloatArray:
    """Each group's normal (mean, sd) by marginal ML (EM on the grid), items fixed."""
    params = np.array([start, start], dtype=np.float64)
    cached = al.n_persons * len(nodes) <= _CACHE_CELLS
    cache: list[tuple[int, int, FloatArray]] = []
    if cached:
        for s0, s1 in blocks(al.indptr, max_persons=_PERSON_BLOCK, max_answers=_ANSWER_BLOCK):
            cache.append((s0, s1, grid_loglik(al, s0, s1, table)))
    n_g = np.bincount(code[code >= 0], minlength=2).astype(np.float64)
    for _ in range(max_iter):
        lw = np.stack([_normal_log_w(nodes, m, s) for m, s in params])
        m1 = np.zeros(2)
        m2 = np.zeros(2)
        it = (
            cache
            if cached
            else (
                (s0, s1, grid_loglik(al, s0, s1, table))
                for s0, s1 in blocks(
                    al.indptr, max_persons=_PERSON_BLOCK, max_answers=_ANSWER_BLOCK
                )
            )
        )
        for s0, s1, ll in it:
            g = code[s0:s1]
            keep = g >= 0
            post = normalize_rows(ll[keep] + lw[g[keep]])
            m1 += np.bincount(g[keep], weights=post @ nodes, minlength=2)
            m2 += np.bincount(g[keep], weights=post @ (nodes * nodes), minlength=2)
        mean = m1 / n_g
        sd = np.sqrt(np.maximum(m2 / n_g - mean**2, 1e-12))
        new = np.column_stack([mean, sd])
        done = np.max(np.abs(new - params)) < tol
        params = new
        if done:
            break
    return params


# --------------------------------------------------------------------------- Mantel-Haenszel
def _bh(p: FloatArray) -> FloatArray:
    """Benjamini–Hochberg adjusted p-values (NaN kept)."""
    out = np.full_like(p, np.nan)
    ok = np.flatnonzero(np.isfinite(p))
    if len(ok) == 0:
        return out
    order = ok[np.argsort(p[ok])]
    m = len(ok)
    adj = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    out[order] = np.minimum(adj, 1.0)
    return out


def _check_correction(correction: Any) -> None:
    if correction not in _CORRECTIONS:
        raise DataError(
            f"The 'correction' parameter must be 'bh' or 'none'. Got {correction!r} instead.",
            field="correction",
        )


def _adjusted(p_value: FloatArray, correction: str) -> FloatArray:
    """The p-values the flags use: Benjamini–Hochberg adjusted, or as they are."""
    return _bh(p_value) if correction == "bh" else np.asarray(p_value, dtype=np.float64)


def _focal_labels(groups: Any, log: ResponseLog, focal: Any, reference: Any | None) -> list[Any]:
    """The focal groups of a many-group call (``focal`` a list, or ``"all"``)."""
    if isinstance(focal, list | tuple):
        if not focal:
            raise DataError("no focal group", field="focal")
        return list(focal)
    if reference is None:
        raise DataError("focal='all' needs the reference group named", field="reference")
    labels = pd.unique(pd.Series(_group_values(log, groups)).dropna())
    return [g for g in labels if g != reference]


def _group_values(log: ResponseLog, groups: Any) -> npt.NDArray[Any]:
    if isinstance(groups, pd.Series):
        if not groups.index.is_unique:
            raise DataError("groups has duplicate person ids in its index", field="groups")
        return groups.reindex(pd.Index(log.person_ids)).to_numpy(dtype=object)
    if isinstance(groups, Mapping):
        return (
            pd.Series(dict(groups), dtype=object)
            .reindex(pd.Index(log.person_ids))
            .to_numpy(dtype=object)
        )
    values = np.asarray(groups, dtype=object)
    if values.ndim != 1 or len(values) != log.n_persons:
        raise DataError(
            f"groups must have one label per person of the log ({log.n_persons}), "
            f"got shape {values.shape}",
            field="groups",
        )
    return values


def _many_groups(
    run: Any,
    log: ResponseLog,
    groups: Any,
    focal: Any,
    reference: Any,
    alpha: float,
    correction: str,
    flag: Any,
) -> pd.DataFrame:
    """Each focal group against the reference, the flags' adjustment over every test."""
    values = _group_values(log, groups)
    parts = []
    attrs: dict[str, Any] = {}
    for f in _focal_labels(groups, log, focal, reference):
        keep = (values == f) | (values == reference)
        pair = pd.Series(values, index=pd.Index(log.person_ids)).where(keep)
        one: pd.DataFrame = run(pair, f)
        attrs[str(f)] = dict(one.attrs)
        parts.append(one.assign(focal=str(f)).set_index("focal", append=True))
    out = pd.concat(parts).reorder_levels(["focal", "item_id"])
    out["p_adjusted"] = _adjusted(out["p_value"].to_numpy(dtype=np.float64), correction)
    out["flagged"] = flag(out)
    out.attrs.update(
        {
            "reference": reference,
            "focal": [str(f) for f in _focal_labels(groups, log, focal, reference)],
            "correction": _CORRECTIONS[correction],
            "alpha": alpha,
            "by_focal": attrs,
        }
    )
    return out


def mantel_haenszel_dif(
    log: ResponseLog,
    bank: ItemBank,
    groups: pd.Series | Mapping[Any, Any] | Sequence[Any] | npt.NDArray[Any],
    *,
    focal: Any,
    reference: Any | None = None,
    matching: Matching = "auto",
    n_strata: int = 10,
    prior: tuple[float, float] | None = None,
    n_quad: int = 61,
    alpha: float = 0.05,
    purify: bool = False,
    correction: Correction = "bh",
) -> pd.DataFrame:
    """Mantel–Haenszel DIF per item with the ETS A/B/C classification.

    Parameters
    ----------
    log
        The answers (dense or sparse).
    bank
        Item parameters, used for the ability matching of sparse logs.
    groups
        Each person's group: a Series indexed by ``person_id`` (persons absent or NaN
        are left out), a mapping, or one label per person in log order.
    focal, reference
        The two groups compared (``reference`` defaults to the only other group). More
        than two groups: ``focal`` a list of labels, or ``"all"`` (every group but the
        named ``reference``); each focal group is compared with the reference and the
        result is indexed by ``(focal, item_id)``, the adjustment running over every
        test.
    matching
        ``"score"`` (total score; every analysed person must have answered every item),
        ``"theta"`` (strata of the leave-one-out EAP) or ``"auto"`` (score when dense).
    n_strata
        Equal-count ability strata per item for ``"theta"`` matching.
    prior, n_quad
        Starting prior and grid for the ability matching (default: the bank's scale).
    alpha
        Level of the MH test and of the ETS comparisons.
    purify
        Two-stage purification (Holland & Thayer, 1988): rerun with the matching
        variable computed from the items not flagged in the first run (plus the
        studied item itself for score matching).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_reference``, ``n_focal``, ``p_reference``,
        ``p_focal``, ``alpha_mh``, ``d_dif``, ``se_d``, ``chi2``, ``p_value``,
        ``p_adjusted`` (Benjamini–Hochberg over the items, or ``p_value`` with
        ``correction="none"``), ``flagged`` (``p_adjusted < alpha`` and an ETS class B
        or C: an item the ETS rule rates negligible, A, is never flagged), ``ets_class``
        and ``ets`` (class with the sign, e.g. ``"C-"``; the classes use the unadjusted
        test, as ETS's rule). ``attrs`` holds the matching used, the matching items,
        the purification rounds, ``correction`` (its name) and, for ``"theta"``, the
        groups' estimated distributions.

    Raises
    ------
    DataError
        Bad groups (unknown focal/reference, a group with fewer than two members),
        score matching on a sparse log, items missing from the bank.
    """
    if matching not in ("auto", "score", "theta"):
        raise DataError(
            f"The 'matching' parameter must be 'auto', 'score' or 'theta'. Got {matching!r} instead.",
            field="matching",
        )
    if isinstance(n_strata, bool) or not isinstance(n_strata, int) or n_strata < 1:
        raise DataError(
            f"The 'n_strata' parameter must be a positive int. Got {n_strata!r} instead.",
            field="n_strata",
        )
    _check_alpha(alpha)
    _check_correction(correction)
    if isinstance(focal, list | tuple) or (isinstance(focal, str) and focal == "all"):
        return _many_groups(
            lambda pair, f: mantel_haenszel_dif(
                log,
                bank,
                pair,
                focal=f,
                reference=reference,
                matching=matching,
                n_strata=n_strata,
                prior=prior,
                n_quad=n_quad,
                alpha=alpha,
                purify=purify,
                correction=correction,
            ),
            log,
            groups,
            focal,
            reference,
            alpha,
            correction,
            lambda out: (out["p_adjusted"].fillna(1.0) < alpha) & (out["ets_class"] != "A"),
        )
    al = align(log, bank)
    grp = _resolve_groups(log, groups, focal, reference)
    person = log.person_index
    analysed = grp.code[person] >= 0
    counts = al.counts
    dense = bool(np.all(counts[grp.code >= 0] == al.n_items))
    if matching == "auto":
        matching = "score" if dense else "theta"
    if matching == "score" and not dense:
        raise DataError(
            "score matching needs every analysed person to answer every item; use matching='theta'",
            field="matching",
        )
    k = al.n_items
    items = al.indices[analysed].astype(np.int64)
    y = al.answers[analysed].astype(np.int64)
    g = grp.code[person[analysed]]
    attrs: dict[str, Any] = {"matching": matching, "focal": grp.focal, "reference": grp.reference}
    theta_setup: tuple[FloatArray, FloatArray, float, float] | None = None
    if matching == "theta":
        mean, sd = resolve_prior(bank, prior)
        nodes, _ = grid(mean, sd, check_n_quad(n_quad))
        theta_setup = (nodes, log_prob_table(al.a, al.b, al.c, nodes), mean, sd)

    def one_round(clean: npt.NDArray[np.bool_]) -> pd.DataFrame:
        if theta_setup is None:
            weights = np.where(clean[al.indices], al.answers, 0)
            total = np.bincount(person, weights=weights, minlength=al.n_persons).astype(np.int64)
            # the matching score: the clean items plus the studied item itself
            stratum = total[person[analysed]] + np.where(clean[items], 0, y)
            n_s = k + 1
        else:
            nodes, table, mean, sd = theta_setup
            clean_table = np.where(np.repeat(clean, 2)[:, None], table, 0.0)
            dist = _group_distributions(al, grp.code, nodes, clean_table, (mean, sd))
            group_log_w = np.stack([_normal_log_w(nodes, m, s) for m, s in dist])
            loo = leave_one_out(
                al,
                nodes,
                group_log_w[0],
                person_groups=np.maximum(grp.code, 0),
                group_log_w=group_log_w,
                included=clean,
            )
            n_s = n_strata
            stratum = equal_count_bins(
                al.indices[analysed], loo.theta[analysed], k, np.full(k, n_strata, dtype=np.int64)
            )
            attrs["group_distributions"] = {
                str(grp.reference): tuple(map(float, dist[0])),
                str(grp.focal): tuple(map(float, dist[1])),
            }
        return _mh_table(items, y, g, stratum, n_s, k, alpha, al.item_ids, correction)

    clean = np.ones(k, dtype=bool)
    out = one_round(clean)
    rounds = 1
    if purify:
        flagged = out["flagged"].to_numpy()
        if flagged.any() and (~flagged).sum() >= 2:
            out = one_round(~flagged)
            rounds = 2
            clean = ~flagged
    attrs["purification_rounds"] = rounds
    attrs["matching_items"] = al.item_ids[clean].tolist()
    attrs["correction"] = _CORRECTIONS[correction]
    attrs["alpha"] = alpha
    out.attrs.update(attrs)
    return out


def _mh_table(
    items: IntArray,
    y: IntArray,
    g: IntArray,
    stratum: IntArray,
    n_s: int,
    k: int,
    alpha: float,
    item_ids: npt.NDArray[Any],
    correction: str = "bh",
) -> pd.DataFrame:
    cell = ((items * n_s + stratum) * 2 + g) * 2 + y
    tab = np.bincount(cell, minlength=k * n_s * 4).reshape(k, n_s, 2, 2).astype(np.float64)
    a_, b_ = tab[:, :, 0, 1], tab[:, :, 0, 0]  # reference right, wrong
    c_, d_ = tab[:, :, 1, 1], tab[:, :, 1, 0]  # focal right, wrong
    n = a_ + b_ + c_ + d_
    n_r, n_f, m1, m0 = a_ + b_, c_ + d_, a_ + c_, b_ + d_
    use = (n_r > 0) & (n_f > 0)
    nn = np.where(use, n, 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = np.where(use, a_ * d_ / nn, 0.0)
        s = np.where(use, b_ * c_ / nn, 0.0)
        p_ = np.where(use, (a_ + d_) / nn, 0.0)
        q_ = np.where(use, (b_ + c_) / nn, 0.0)
        sr, ss = r.sum(axis=1), s.sum(axis=1)
        alpha_mh = sr / ss
        var_log = (
            (p_ * r).sum(axis=1) / (2 * sr**2)
            + (p_ * s + q_ * r).sum(axis=1) / (2 * sr * ss)
            + (q_ * s).sum(axis=1) / (2 * ss**2)
        )
        expected = np.where(use, n_r * m1 / nn, 0.0).sum(axis=1)
        variance = np.where(
            use & (n > 1), n_r * n_f * m1 * m0 / (nn**2 * np.maximum(nn - 1, 1)), 0.0
        ).sum(axis=1)
        observed = np.where(use, a_, 0.0).sum(axis=1)
        chi2 = np.where(
            variance > 0, np.maximum(np.abs(observed - expected) - 0.5, 0.0) ** 2 / variance, np.nan
        )
        d_dif = -_ETS_SCALE * np.log(alpha_mh)
        se_d = _ETS_SCALE * np.sqrt(var_log)
    d_dif = np.where(np.isfinite(d_dif), d_dif, np.nan)
    se_d = np.where(np.isfinite(se_d), se_d, np.nan)
    p_value = np.where(np.isfinite(chi2), stats.chi2.sf(np.nan_to_num(chi2), 1), np.nan)
    ets_class = _ets_classes(d_dif, se_d, p_value, alpha)
    sign = np.where(ets_class == "A", "", np.where(d_dif < 0, "-", "+"))
    n_ref = tab[:, :, 0, :].sum(axis=(1, 2))
    n_foc = tab[:, :, 1, :].sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p_ref = tab[:, :, 0, 1].sum(axis=1) / n_ref
        p_foc = tab[:, :, 1, 1].sum(axis=1) / n_foc
    out = pd.DataFrame(
        {
            "n_reference": n_ref.astype(np.int64),
            "n_focal": n_foc.astype(np.int64),
            "p_reference": p_ref,
            "p_focal": p_foc,
            "alpha_mh": np.where(np.isfinite(alpha_mh), alpha_mh, np.nan),
            "d_dif": d_dif,
            "se_d": se_d,
            "chi2": chi2,
            "p_value": p_value,
            "p_adjusted": (p_adj := _adjusted(p_value, correction)),
            "flagged": (np.nan_to_num(p_adj, nan=1.0) < alpha) & (ets_class != "A"),
            "ets_class": ets_class,
            "ets": np.char.add(ets_class.astype(str), sign.astype(str)),
        },
        index=pd.Index(item_ids, name="item_id"),
    )
    return out


def _check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, float | int) and 0.0 < float(alpha) < 1.0):
        raise DataError(
            f"The 'alpha' parameter must be in (0, 1). Got {alpha!r} instead.", field="alpha"
        )


def _ets_classes(
    d: FloatArray, se: FloatArray, p_value: FloatArray, alpha: float
) -> npt.NDArray[np.str_]:
    z = stats.norm.isf(alpha)
    with np.errstate(invalid="ignore"):
        is_a = ~(np.abs(d) >= 1.0) | ~(p_value < alpha)
        is_c = (np.abs(d) >= 1.5) & ((np.abs(d) - 1.0) / se > z)
    return np.where(is_a, "A", np.where(is_c, "C", "B"))


# --------------------------------------------------------------------------- IRT DIF
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
        if n_cells <= _CACHE_CELLS:
            self.cache = list(self._compute())

    def _compute(self) -> Any:
        al = self.al
        for s0, s1 in blocks(al.indptr, max_persons=_PERSON_BLOCK, max_answers=_ANSWER_BLOCK):
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
    _check_alpha(alpha)
    _check_correction(correction)
    if isinstance(focal, list | tuple) or (isinstance(focal, str) and focal == "all"):
        return _many_groups(
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
    sweep = isinstance(anchors, str) and anchors == "sweep"
    if isinstance(anchors, str) and not sweep:
        raise DataError(
            f"The 'anchors' parameter must be None, 'sweep' or a list of item ids. Got {anchors!r} instead.",
            field="anchors",
        )
    if sweep:
        anchors = None
    al = align(log, bank)
    grp = _resolve_groups(log, groups, focal, reference)
    k = al.n_items
    n_quad = check_n_quad(n_quad)
    item_index = pd.Index(al.item_ids)
    studied = np.ones(k, dtype=bool)
    if items is not None:
        pos = item_index.get_indexer(pd.Index(list(items)))
        if (pos < 0).any():
            raise DataError(
                f"item {list(items)[int(np.flatnonzero(pos < 0)[0])]!r} is not in the log",
                field="items",
            )
        studied = np.zeros(k, dtype=bool)
        studied[pos] = True
    if anchors is None:
        anchor = np.ones(k, dtype=bool)
    else:
        pos = item_index.get_indexer(pd.Index(list(anchors)))
        if (pos < 0).any():
            raise DataError(
                f"anchor {list(anchors)[int(np.flatnonzero(pos < 0)[0])]!r} is not in the log",
                field="anchors",
            )
        if len(pos) == 0:
            raise DataError("no anchor item", field="anchors")
        anchor = np.zeros(k, dtype=bool)
        anchor[pos] = True

    def one_round(anchor: npt.NDArray[np.bool_]) -> pd.DataFrame:
        return _irt_dif_round(
            al, bank, grp, anchor, studied, n_quad, alpha, max_iter, tol, correction
        )

    out = one_round(anchor)
    rounds = 1
    if (purify or sweep) and anchors is None:
        seen = [anchor]
        while rounds < (_MAX_SWEEP_ROUNDS if sweep else 2):
            clean = ~out["flagged"].to_numpy() | ~studied
            if not clean.any() or any(np.array_equal(clean, x) for x in seen):
                break
            out = one_round(clean)
            seen.append(clean)
            rounds += 1
    out.attrs["purification_rounds"] = rounds
    out.attrs["correction"] = _CORRECTIONS[correction]
    out.attrs["alpha"] = alpha
    if not out["converged"][studied].all():
        import warnings

        warnings.warn(
            f"the DIF fit of {int((~out['converged'][studied]).sum())} item(s) did not converge",
            ConvergenceWarning,
            stacklevel=2,
        )
    return out


def _irt_dif_round(
    al: Aligned,
    bank: ItemBank,
    grp: _Groups,
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
    dist = _group_distributions(al, grp.code, nodes, anchor_table, (mean, sd))
    group_log_w = np.stack([_normal_log_w(nodes, m, s) for m, s in dist])
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
            "p_adjusted": (p_adj := _adjusted(p_value, correction)),
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


# --------------------------------------------------------------------------- power study
def _two_group_log(
    bank: ItemBank,
    focal_bank: ItemBank,
    n_reference: int,
    n_focal: int,
    answers_per_person: int,
    impact: float,
    seed: int,
) -> tuple[ResponseLog, pd.Series]:
    from pixirt.simulation import simulate_answers

    s_ref, s_foc = np.random.SeedSequence(seed).generate_state(2)
    ref = simulate_answers(
        bank, n_reference, answers_per_person=answers_per_person, seed=int(s_ref)
    )
    foc = simulate_answers(
        focal_bank,
        n_focal,
        answers_per_person=answers_per_person,
        theta_mean=-impact,
        seed=int(s_foc),
    )
    f_ref, f_foc = ref.log.to_frame(), foc.log.to_frame()
    f_foc["person_id"] = f_foc["person_id"] + n_reference
    log = ResponseLog.from_frame(pd.concat([f_ref, f_foc], ignore_index=True))
    groups = pd.Series(
        np.where(log.person_ids < n_reference, "reference", "focal"),
        index=pd.Index(log.person_ids, name="person_id"),
    )
    return log, groups


def dif_power_study(
    *,
    n_replications: int = 20,
    n_items: int = 40,
    dif_items: int = 4,
    dif_size: float = 0.6,
    n_reference: int = 1000,
    n_focal: int = 1000,
    answers_per_person: int | None = None,
    impact: float = 0.5,
    alpha: float = 0.05,
    purify: bool = False,
    seed: int = 0,
    correction: Correction = "bh",
) -> pd.DataFrame:
    """Power and false-positive rate of the MH and IRT DIF tests, by simulation.

    Each replication draws a 2PL bank (``a ~ lognormal(0, 0.25)``, ``b ~ N(0, 1)``),
    reference abilities ``N(0, 1)`` and focal abilities ``N(−impact, 1)``, and makes the
    first ``dif_items`` items harder for the focal group by ``dif_size`` (uniform DIF
    on ``b``). Both tests run with the generating (reference) parameters as the bank
    and every other item as anchor.

    Parameters
    ----------
    n_replications
        Replications (one seed each, derived from ``seed``).
    n_items, dif_items, dif_size
        Test length, number of items with planted DIF and its size (``b`` shift).
    n_reference, n_focal
        Group sizes.
    answers_per_person
        Items per person (random subsets: a sparse log); None for a dense log.
    impact
        Mean ability difference, reference minus focal.
    alpha
        Level of the tests.
    purify
        Purify the matching items (MH) and the anchors (IRT).
    seed
        Base seed.
    correction
        The flags' multiplicity correction (``"bh"``: Benjamini–Hochberg over the
        items, also applied to the Wald p-values; ``"none"``: the nominal tests).

    Returns
    -------
    pandas.DataFrame
        One row per test (``"MH"``, ``"IRT-LR"``, ``"IRT-Wald"``): ``power`` (share of
        DIF items flagged), ``false_positive_rate`` (share of clean items flagged),
        ``ets_bc_rate`` for MH (share of DIF items classed B or C), ``n_replications``
        and ``seconds`` (mean time of one analysis).
    """
    if dif_items >= n_items:
        raise DataError("dif_items must be smaller than n_items", field="dif_items")
    per = n_items if answers_per_person is None else answers_per_person
    flags: dict[str, list[npt.NDArray[np.bool_]]] = {"MH": [], "IRT-LR": [], "IRT-Wald": []}
    ets_bc: list[npt.NDArray[np.bool_]] = []
    seconds: dict[str, float] = {"MH": 0.0, "IRT-LR": 0.0, "IRT-Wald": 0.0}
    seeds = np.random.SeedSequence(seed).generate_state(n_replications)
    for rep in range(n_replications):  # a loop over replications
        rng = np.random.default_rng(int(seeds[rep]))
        a = np.exp(rng.normal(0.0, 0.25, n_items))
        b = rng.normal(0.0, 1.0, n_items)
        bank = ItemBank.from_frame(pd.DataFrame({"item_id": np.arange(n_items), "a": a, "b": b}))
        shift = np.zeros(n_items)
        shift[:dif_items] = dif_size
        focal_bank = bank.with_parameters(b=b + shift)
        log, groups = _two_group_log(
            bank, focal_bank, n_reference, n_focal, per, impact, int(seeds[rep])
        )
        t0 = time.perf_counter()
        mh = mantel_haenszel_dif(
            log, bank, groups, focal="focal", alpha=alpha, purify=purify, correction=correction
        )
        t1 = time.perf_counter()
        irt = irt_dif(
            log, bank, groups, focal="focal", alpha=alpha, purify=purify, correction=correction
        )
        t2 = time.perf_counter()
        order = pd.Index(log.item_ids).get_indexer(bank.item_ids)
        flags["MH"].append(mh["flagged"].to_numpy()[order])
        ets_bc.append((mh["ets_class"].to_numpy() != "A")[order])
        flags["IRT-LR"].append(irt["flagged"].to_numpy()[order])
        wald_p = _adjusted(irt["wald_p"].to_numpy(dtype=np.float64), correction)
        flags["IRT-Wald"].append((np.nan_to_num(wald_p, nan=1.0) < alpha)[order])
        seconds["MH"] += t1 - t0
        seconds["IRT-LR"] += t2 - t1
        seconds["IRT-Wald"] += t2 - t1
    rows = []
    for name, f in flags.items():
        arr = np.array(f)
        rows.append(
            {
                "test": name,
                "power": float(arr[:, :dif_items].mean()) if dif_items else float("nan"),
                "false_positive_rate": float(arr[:, dif_items:].mean()),
                "ets_bc_rate": float(np.array(ets_bc)[:, :dif_items].mean())
                if name == "MH" and dif_items
                else float("nan"),
                "n_replications": n_replications,
                "seconds": seconds[name] / n_replications,
            }
        )
    return pd.DataFrame(rows).set_index("test")
