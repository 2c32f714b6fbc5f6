"""Local dependence: Yen's Q3 and the pairs above its threshold.

Yen's (1984) Q3: correlations of the residuals ``y − P(θ̂)`` over the persons who
answered both items, for dense or near-dense data; :func:`q3_pairs` lists the pairs
above ``mean(Q3) + 0.2`` (Christensen et al., 2017).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import Method, align
from pixirt.calibration._item_fit_common import finite_thetas, scores_for


def yen_q3(
    log: ResponseLog,
    bank: ItemBank,
    *,
    scores: pd.DataFrame | None = None,
    method: Method = "EAP",
    prior: tuple[float, float] | None = None,
    min_pairs: int = 30,
    max_cells: int = 50_000_000,
) -> pd.DataFrame:
    """Yen's Q3: correlations between items of the residuals ``y − P(θ̂)``.

    Parameters
    ----------
    log, bank
        The answers (dense or near-dense: a persons × items matrix is built) and the
        item parameters.
    scores, method, prior
        Person scores (EAP by default, as mirt's ``residuals(type = "Q3")``).
    min_pairs
        Pairs of items answered together by fewer persons get NaN.
    max_cells
        Largest persons × items matrix allowed.

    Returns
    -------
    pandas.DataFrame
        Items × items (``item_id`` labels), 1 on the diagonal; correlations over the
        persons who answered both items.
    """
    al = align(log, bank)
    sc = scores_for(log, bank, scores, method, prior)
    theta = finite_thetas(sc["theta"].to_numpy(dtype=np.float64))
    dense = log.to_dense(max_cells=max_cells)
    mask = np.isfinite(dense) & np.isfinite(theta)[:, None]
    p = al.c + (1.0 - al.c) / (1.0 + np.exp(-al.a * (theta[:, None] - al.b)))
    d = np.where(mask, dense - p, 0.0)
    m = mask.astype(np.float64)
    n = m.T @ m
    sx = d.T @ m  # sx[i, j]: sum of d_i over persons who answered i and j
    sxx = (d * d).T @ m
    sxy = d.T @ d
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = n * sxy - sx * sx.T
        var_i = n * sxx - sx * sx
        q3 = cov / np.sqrt(var_i * var_i.T)
    q3[n < min_pairs] = np.nan
    np.fill_diagonal(q3, 1.0)
    ids = pd.Index(al.item_ids, name="item_id")
    return pd.DataFrame(q3, index=ids, columns=ids)


def q3_pairs(q3: pd.DataFrame, *, threshold: float = 0.2) -> pd.DataFrame:
    """Item pairs whose Q3 exceeds the mean off-diagonal Q3 by more than ``threshold``.

    Parameters
    ----------
    q3
        Output of :func:`yen_q3`.
    threshold
        Excess over the average Q3 flagged as local dependence (Christensen, Makransky
        & Horton, 2017, suggest 0.2).

    Returns
    -------
    pandas.DataFrame
        ``item_1``, ``item_2``, ``q3`` and ``q3_minus_mean``, largest first.
    """
    values = q3.to_numpy(dtype=np.float64)
    iu = np.triu_indices_from(values, k=1)
    off = values[iu]
    mean = float(np.nanmean(off)) if np.isfinite(off).any() else float("nan")
    excess = off - mean
    sel = np.flatnonzero(np.nan_to_num(excess, nan=-np.inf) > threshold)
    order = sel[np.argsort(-excess[sel], kind="stable")]
    ids = q3.index.to_numpy()
    return pd.DataFrame(
        {
            "item_1": ids[iu[0][order]],
            "item_2": ids[iu[1][order]],
            "q3": off[order],
            "q3_minus_mean": excess[order],
        }
    )
