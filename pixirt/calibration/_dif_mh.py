"""Mantel–Haenszel DIF: common odds ratio, chi-square test, ETS delta and classes.

The Mantel–Haenszel common odds ratio across strata of a matching variable, its
chi-square test (with continuity correction), the ETS delta ``D = −2.35 ln α_MH`` with
the Robins–Breslow–Greenland standard error, and the ETS A/B/C classes (Zieky 1993;
Zwick 2012): **A** when ``|D| < 1`` or the MH test is not significant; **C** when
``|D| ≥ 1.5`` and ``|D|`` is significantly above 1 (one-sided, level ``alpha``); **B**
otherwise. A negative ``D`` means the item is harder for the focal group than for
reference candidates of the same ability ("−", favours the reference). Matching: the
total score when every analysed person answered every item (``matching="score"``, the
classical MH), else (``"theta"``, sparse logs) equal-count strata of the person's ability
estimated from their *other* answers (leave-one-out EAP), each group with its own normal
prior estimated by marginal maximum likelihood, so that equal matching values mean equal
expected ability in both groups even when the groups differ in ability (impact).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import (
    Aligned,
    align,
    check_n_quad,
    grid,
    leave_one_out,
    log_prob_table,
    resolve_prior,
)
from pixirt.calibration._binned_fit import equal_count_bins
from pixirt.calibration._dif_groups import (
    CORRECTIONS,
    Correction,
    Groups,
    Matching,
    adjusted,
    check_alpha,
    check_correction,
    group_distributions,
    many_groups,
    normal_log_w,
    resolve_groups,
)
from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_ETS_SCALE = 2.35


@dataclass(frozen=True, slots=True)
class _Setup:
    """The analysed answers of a Mantel–Haenszel run and what its matching needs."""

    al: Aligned
    grp: Groups
    matching: str
    person: IntArray
    analysed: npt.NDArray[np.bool_]
    items: IntArray
    y: IntArray
    g: IntArray
    theta_setup: tuple[FloatArray, FloatArray, float, float] | None


def _check_arguments(matching: Any, n_strata: Any, alpha: float, correction: Any) -> None:
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
    check_alpha(alpha)
    check_correction(correction)


def _setup(
    log: ResponseLog,
    bank: ItemBank,
    groups: Any,
    focal: Any,
    reference: Any,
    matching: str,
    prior: tuple[float, float] | None,
    n_quad: int,
) -> _Setup:
    """Align the log, resolve the groups and the matching (``"auto"``: score if dense)."""
    al = align(log, bank)
    grp = resolve_groups(log, groups, focal, reference)
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
    items = al.indices[analysed].astype(np.int64)
    y = al.answers[analysed].astype(np.int64)
    g = grp.code[person[analysed]]
    theta_setup: tuple[FloatArray, FloatArray, float, float] | None = None
    if matching == "theta":
        mean, sd = resolve_prior(bank, prior)
        nodes, _ = grid(mean, sd, check_n_quad(n_quad))
        theta_setup = (nodes, log_prob_table(al.a, al.b, al.c, nodes), mean, sd)
    return _Setup(al, grp, matching, person, analysed, items, y, g, theta_setup)


def _strata(
    st: _Setup, clean: npt.NDArray[np.bool_], n_strata: int, attrs: dict[str, Any]
) -> tuple[IntArray, int]:
    """Each analysed answer's stratum on the clean items, and the number of strata."""
    al, grp, person, analysed, items, y = st.al, st.grp, st.person, st.analysed, st.items, st.y
    k = al.n_items
    if st.theta_setup is None:
        weights = np.where(clean[al.indices], al.answers, 0)
        total = np.bincount(person, weights=weights, minlength=al.n_persons).astype(np.int64)
        # the matching score: the clean items plus the studied item itself
        stratum = total[person[analysed]] + np.where(clean[items], 0, y)
        n_s = k + 1
    else:
        nodes, table, mean, sd = st.theta_setup
        clean_table = np.where(np.repeat(clean, 2)[:, None], table, 0.0)
        dist = group_distributions(al, grp.code, nodes, clean_table, (mean, sd))
        group_log_w = np.stack([normal_log_w(nodes, m, s) for m, s in dist])
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
    return stratum, n_s


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
    _check_arguments(matching, n_strata, alpha, correction)
    if isinstance(focal, list | tuple) or (isinstance(focal, str) and focal == "all"):
        return many_groups(
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
    st = _setup(log, bank, groups, focal, reference, matching, prior, n_quad)
    al, grp, k = st.al, st.grp, st.al.n_items
    attrs: dict[str, Any] = {
        "matching": st.matching,
        "focal": grp.focal,
        "reference": grp.reference,
    }

    def one_round(clean: npt.NDArray[np.bool_]) -> pd.DataFrame:
        stratum, n_s = _strata(st, clean, n_strata, attrs)
        return _mh_table(st.items, st.y, st.g, stratum, n_s, k, alpha, al.item_ids, correction)

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
    attrs["correction"] = CORRECTIONS[correction]
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
            "p_adjusted": (p_adj := adjusted(p_value, correction)),
            "flagged": (np.nan_to_num(p_adj, nan=1.0) < alpha) & (ets_class != "A"),
            "ets_class": ets_class,
            "ets": np.char.add(ets_class.astype(str), sign.astype(str)),
        },
        index=pd.Index(item_ids, name="item_id"),
    )
    return out


def _ets_classes(
    d: FloatArray, se: FloatArray, p_value: FloatArray, alpha: float
) -> npt.NDArray[np.str_]:
    z = stats.norm.isf(alpha)
    with np.errstate(invalid="ignore"):
        is_a = ~(np.abs(d) >= 1.0) | ~(p_value < alpha)
        is_c = (np.abs(d) >= 1.5) & ((np.abs(d) - 1.0) / se > z)
    return np.where(is_a, "A", np.where(is_c, "C", "B"))
