"""Person fit: Snijders' lz*, lz and infit/outfit per person.

Snijders' (2001) ``lz*`` is ``lz`` corrected for the estimated θ (MLE, WLE or MAP
scores); ``lz`` uncorrected is Drasgow et al. (1985), mirt's ``Zh``.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats
from scipy.special import expit, log_expit

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import Method, align, resolve_prior
from pixirt.calibration._item_fit_common import scores_for

FloatArray = npt.NDArray[np.float64]


def person_fit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    method: Method = "WLE",
    scores: pd.DataFrame | None = None,
    prior: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Person fit: Snijders' ``lz*``, Drasgow's ``lz`` and infit/outfit per person.

    ``lz*`` (Snijders, 2001; Magis, Raîche & Béland, 2012) corrects ``lz`` for the
    estimation of θ: with ``w_i = log(P_i / Q_i)``, ``r_i = P_i' / (P_i Q_i)`` and
    ``r_0`` the estimator's correction (0 for MLE, ``I'/(2I)`` for WLE,
    ``−(θ − μ)/σ²`` for MAP), ``c = Σ P_i' w_i / Σ P_i' r_i`` and
    ``lz* = (Σ (y_i − P_i) w_i + c r_0) / sqrt(Σ (w_i − c r_i)² P_i Q_i)``, asymptotically
    N(0, 1) under the model; large negative values flag aberrant patterns.

    Parameters
    ----------
    log, bank
        The answers and the item parameters.
    method
        Estimator of θ: ``"WLE"`` (default: finite for perfect patterns), ``"MLE"`` or
        ``"MAP"`` (``"EAP"`` is accepted, with the MAP correction, an approximation).
    scores
        Precomputed scores with that method (in log order).
    prior
        ``(mean, sd)`` of the prior (MAP, EAP); default the bank's latent scale.

    Returns
    -------
    pandas.DataFrame
        One row per person: ``person_id``, ``n_answers``, ``theta``, ``lz``,
        ``lz_star``, ``p_value`` (lower tail of N(0, 1) for ``lz*``), ``outfit`` and
        ``infit``. NaN where θ is not finite or a person has fewer than 2 answers.
    """
    al = align(log, bank)
    sc = scores_for(log, bank, scores, method, prior)
    mean, sd = resolve_prior(bank, prior)
    n = al.n_persons
    theta = sc["theta"].to_numpy(dtype=np.float64)
    person = log.person_index
    ok_ans = np.isfinite(theta[person])
    owner = person[ok_ans]
    th = theta[owner]
    idx = al.indices[ok_ans]
    a, b, c = al.a[idx], al.b[idx], al.c[idx]
    y = al.answers[ok_ans].astype(np.float64)
    z = a * (th - b)
    s = expit(z)
    p = c + (1.0 - c) * s
    q = (1.0 - c) * (1.0 - s)
    p1 = a * (1.0 - c) * s * (1.0 - s)
    r = a * s / p
    w = (np.log(p) if np.any(c > 0) else log_expit(z)) - np.log1p(-c) - log_expit(-z)
    pq = p * q

    def sums(v: FloatArray) -> FloatArray:
        return np.asarray(np.bincount(owner, weights=v, minlength=n), dtype=np.float64)

    numerator = sums((y - p) * w)
    var_lz = sums(pq * w * w)
    with np.errstate(invalid="ignore", divide="ignore"):
        c_n = sums(p1 * w) / sums(p1 * r)
        s_rr, s_wr = sums(pq * r * r), sums(pq * w * r)
        tau = var_lz - 2.0 * c_n * s_wr + c_n**2 * s_rr
        if method == "MLE":
            r0 = np.zeros(n)
        elif method == "WLE":
            s2 = s * (1.0 - s)
            p2 = a * a * (1.0 - c) * s2 * (1.0 - 2.0 * s)
            hp = a * a * c * s2 / (p * p)
            info = sums(p1 * r)
            info1 = sums(p2 * r + p1 * hp)
            r0 = 0.5 * info1 / info
        else:
            r0 = -(theta - mean) / sd**2
    counts = al.counts
    valid = np.isfinite(theta) & (counts >= 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        lz = np.where(valid, numerator / np.sqrt(var_lz), np.nan)
        lz_star = np.where(valid, (numerator + c_n * r0) / np.sqrt(tau), np.nan)
        resid2 = (y - p) ** 2
        outfit = sums(resid2 / pq) / counts
        infit = sums(resid2) / sums(pq)
    return pd.DataFrame(
        {
            "person_id": al.person_ids,
            "n_answers": counts.astype(np.int64),
            "theta": theta,
            "lz": lz,
            "lz_star": lz_star,
            "p_value": stats.norm.cdf(lz_star),
            "outfit": np.where(valid, outfit, np.nan),
            "infit": np.where(valid, infit, np.nan),
        }
    )
