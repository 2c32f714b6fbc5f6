"""All three item-fit statistics in one table."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._renamed import renamed
from pixirt._response_log import ResponseLog
from pixirt.calibration._binned_fit import binned_fit
from pixirt.calibration._infit import infit_outfit
from pixirt.calibration._item_fit_common import RMSD_CUT, Reference
from pixirt.calibration._sx2 import s_x2


@renamed(n_boot="n_bootstrap")
def item_fit(
    log: ResponseLog,
    bank: ItemBank,
    *,
    prior: tuple[float, float] | None = None,
    n_bins: int = 10,
    min_form_size: int = 100,
    reference: Reference = "auto",
    n_bootstrap: int = 100,
    seed: int | np.random.Generator | None = 0,
) -> pd.DataFrame:
    """Every item-fit statistic in one table.

    Infit/outfit, S-X² (where forms are shared) and the binned fit.

    Parameters
    ----------
    log, bank
        The answers and the item parameters.
    prior
        ``(mean, sd)`` of the ability prior; default the bank's latent scale.
    n_bins
        Bins of :func:`binned_fit`.
    min_form_size
        Smallest form on which :func:`s_x2` is computed.
    reference, n_bootstrap, seed
        The binned statistics' reference distribution (:func:`binned_fit`): a
        parametric bootstrap from the model up to 200,000 answers by default, the χ²
        and the RMSD's closed-form noise beyond.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``item_id``: ``n_answers``, ``outfit``, ``z_outfit``, ``infit``,
        ``z_infit``, ``s_x2``, ``s_x2_df``, ``s_x2_p``, ``s_x2_rmsea`` (mirt's
        ``RMSEA.S_X2``), ``s_x2_note``, ``binned_x2``, ``binned_df``, ``binned_p``,
        ``rmsd``, ``rmsd_p``, ``rmsd_q95`` and ``rmsd_flagged`` (``rmsd > 0.1`` and
        beyond the noise of its counts, ``rmsd_p < 0.05``).
    """
    io = infit_outfit(log, bank, prior=prior)
    sx = s_x2(log, bank, prior=prior, min_form_size=min_form_size)
    bf = binned_fit(
        log,
        bank,
        prior=prior,
        n_bins=n_bins,
        reference=reference,
        n_bootstrap=n_bootstrap,
        seed=seed,
    )
    out = io.copy()
    out["s_x2"] = sx["s_x2"]
    out["s_x2_df"] = sx["df"]
    out["s_x2_p"] = sx["p_value"]
    out["s_x2_rmsea"] = sx["rmsea"]
    out["s_x2_note"] = sx["note"]
    out["binned_x2"] = bf["x2"]
    out["binned_df"] = bf["df"]
    out["binned_p"] = bf["p_value"]
    out["rmsd"] = bf["rmsd"]
    out["rmsd_p"] = bf["rmsd_p"]
    out["rmsd_q95"] = bf["rmsd_q95"]
    with np.errstate(invalid="ignore"):
        out["rmsd_flagged"] = (out["rmsd"] > RMSD_CUT) & (out["rmsd_p"] < 0.05)
    return out
