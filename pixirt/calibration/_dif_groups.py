"""The groups of a DIF analysis and the multiplicity of its tests.

Each person's group, focal groups against the reference, the groups' ability
distributions and Benjamini–Hochberg adjusted p-values.

Flags hold under multiplicity: ``flagged`` uses Benjamini–Hochberg adjusted p-values by
default (``correction="bh"``, named in ``attrs["correction"]``; ``"none"`` for the
nominal tests), and for Mantel–Haenszel also an ETS class B or C. More than two groups:
``focal`` a list or ``"all"``, each focal group against the reference. Both tests are
vectorized over items and answers, on sparse logs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import Aligned, blocks, grid_loglik, normalize_rows
from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

Matching = Literal["auto", "score", "theta"]
Correction = Literal["bh", "none"]
CORRECTIONS = {"bh": "Benjamini–Hochberg", "none": "none"}
MAX_SWEEP_ROUNDS = 10

CACHE_CELLS = 1 << 25  # keep per-answer posteriors in memory up to this many floats
PERSON_BLOCK = 32_768
ANSWER_BLOCK = 1 << 19


@dataclass(frozen=True, slots=True)
class Groups:
    code: IntArray  # per person: 0 reference, 1 focal, -1 not analysed
    focal: Any
    reference: Any


def resolve_groups(log: ResponseLog, groups: Any, focal: Any, reference: Any | None) -> Groups:
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
    return Groups(code=code, focal=focal, reference=reference)


def normal_log_w(nodes: FloatArray, mean: float, sd: float) -> FloatArray:
    lw = -0.5 * ((nodes - mean) / sd) ** 2
    return np.asarray(lw - np.log(np.exp(lw - lw.max()).sum()) - lw.max(), dtype=np.float64)


def group_distributions(
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
    cached = al.n_persons * len(nodes) <= CACHE_CELLS
    cache: list[tuple[int, int, FloatArray]] = []
    if cached:
        for s0, s1 in blocks(al.indptr, max_persons=PERSON_BLOCK, max_answers=ANSWER_BLOCK):
            cache.append((s0, s1, grid_loglik(al, s0, s1, table)))
    n_g = np.bincount(code[code >= 0], minlength=2).astype(np.float64)
    for _ in range(max_iter):
        lw = np.stack([normal_log_w(nodes, m, s) for m, s in params])
        m1 = np.zeros(2)
        m2 = np.zeros(2)
        it = (
            cache
            if cached
            else (
                (s0, s1, grid_loglik(al, s0, s1, table))
                for s0, s1 in blocks(al.indptr, max_persons=PERSON_BLOCK, max_answers=ANSWER_BLOCK)
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


def bh(p: FloatArray) -> FloatArray:
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


def check_correction(correction: Any) -> None:
    if correction not in CORRECTIONS:
        raise DataError(
            f"The 'correction' parameter must be 'bh' or 'none'. Got {correction!r} instead.",
            field="correction",
        )


def adjusted(p_value: FloatArray, correction: str) -> FloatArray:
    """The p-values the flags use: Benjamini–Hochberg adjusted, or as they are."""
    return bh(p_value) if correction == "bh" else np.asarray(p_value, dtype=np.float64)


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


def many_groups(
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
    out["p_adjusted"] = adjusted(out["p_value"].to_numpy(dtype=np.float64), correction)
    out["flagged"] = flag(out)
    out.attrs.update(
        {
            "reference": reference,
            "focal": [str(f) for f in _focal_labels(groups, log, focal, reference)],
            "correction": CORRECTIONS[correction],
            "alpha": alpha,
            "by_focal": attrs,
        }
    )
    return out


def check_alpha(alpha: float) -> None:
    if not (isinstance(alpha, float | int) and 0.0 < float(alpha) < 1.0):
        raise DataError(
            f"The 'alpha' parameter must be in (0, 1). Got {alpha!r} instead.", field="alpha"
        )
