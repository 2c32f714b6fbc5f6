"""Infit and outfit mean squares per item, with their Wilson–Hilferty z.

Computed as R's mirt ``itemfit(x, "infit")`` does (Wright & Masters, 1982) but over the
answered cells only, so it works on sparse logs. Abilities are EAP scores by default
(mirt's default); infinite scores are replaced by the largest (smallest) finite score ±
0.1 and answer variances below ``sqrt(1e-5)`` are floored there, as mirt does.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import Method, align
from pixirt.calibration._item_fit_common import finite_thetas, item_frame, scores_for

FloatArray = npt.NDArray[np.float64]

_W_FLOOR = math.sqrt(1e-5)  # mirt's floor for the answer variance in infit/outfit


def _wilson_hilferty(ms: FloatArray, q: FloatArray) -> FloatArray:
    q = np.minimum(q, 1.4142)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray((np.cbrt(ms) - 1.0) * (3.0 / q) + q / 3.0, dtype=np.float64)


def infit_outfit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    scores: pd.DataFrame | None = None,
    method: Method = "EAP",
    prior: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Infit and outfit mean squares per item, with their standardized z.

    Parameters
    ----------
    log
        The answers (dense or sparse).
    bank
        Item parameters.
    scores
        Person scores from :func:`~pixirt.calibration.score_persons` (computed
        with ``method`` and ``prior`` when None).
    method, prior
        Passed to ``score_persons`` when ``scores`` is None (EAP by default, as mirt).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_answers``, ``outfit``, ``z_outfit``, ``infit``,
        ``z_infit`` (NaN for unanswered items).
    """
    al = align(log, bank)
    sc = scores_for(log, bank, scores, method, prior)
    theta = finite_thetas(sc["theta"].to_numpy(dtype=np.float64))
    person = log.person_index
    keep = np.isfinite(theta[person])
    items = al.indices[keep]
    th = theta[person[keep]]
    y = al.answers[keep].astype(np.float64)
    p = al.c[items] + (1.0 - al.c[items]) / (1.0 + np.exp(-al.a[items] * (th - al.b[items])))
    w = p * (1.0 - p)
    c4 = w * (p**3 + (1.0 - p) ** 3)  # E[(y − P)^4]
    w = np.where(w * w < 1e-5, _W_FLOOR, w)
    r2 = (y - p) ** 2
    k = al.n_items
    n = np.bincount(items, minlength=k).astype(np.float64)
    sum_w = np.bincount(items, weights=w, minlength=k)
    with np.errstate(divide="ignore", invalid="ignore"):
        outfit = np.bincount(items, weights=r2 / w, minlength=k) / n
        q_out = np.sqrt(np.bincount(items, weights=c4 / w**2, minlength=k) / n**2 - 1.0 / n)
        infit = np.bincount(items, weights=r2, minlength=k) / sum_w
        q_in = np.sqrt(np.bincount(items, weights=c4 - w**2, minlength=k) / sum_w**2)
    return item_frame(
        al,
        {
            "n_answers": n.astype(np.int64),
            "outfit": outfit,
            "z_outfit": _wilson_hilferty(outfit, q_out),
            "infit": infit,
            "z_infit": _wilson_hilferty(infit, q_in),
        },
    )
