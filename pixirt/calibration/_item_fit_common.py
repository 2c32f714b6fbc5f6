"""What the item-fit statistics share: parameter counts, ability scores, item frames."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import Aligned, Method, score_persons
from pixirt.exceptions import DataError
from pixirt.models import Model

FloatArray = npt.NDArray[np.float64]

Reference = Literal["auto", "bootstrap", "chi2"]
AUTO_BOOTSTRAP_MAX_ANSWERS = 200_000  # "auto": the bootstrap up to this many answers
RMSD_CUT = 0.1  # PISA's item-fit threshold on the RMSD


def n_item_parameters(model: Model) -> int:
    return {"Rasch": 1, "1PL": 1, "2PL": 2, "3PL": 3}[model]


def n_scale_parameters(model: Model) -> int:
    """Parameters shared by all items: the free latent variance (Rasch) or common slope (1PL)."""
    return 1 if model in ("Rasch", "1PL") else 0


def scores_for(
    log: ResponseLog,
    bank: ItemBank,
    scores: pd.DataFrame | None,
    method: Method,
    prior: tuple[float, float] | None,
) -> pd.DataFrame:
    if scores is None:
        return score_persons(log, bank, method, prior=prior)
    if not isinstance(scores, pd.DataFrame) or not {"person_id", "theta"} <= set(scores.columns):
        raise DataError(
            "scores must be a DataFrame from score_persons (person_id, theta, ...)", field="scores"
        )
    if len(scores) != log.n_persons or not np.array_equal(
        scores["person_id"].to_numpy(), log.person_ids
    ):
        raise DataError(
            "scores must list the log's persons in log order (score_persons output)",
            field="scores",
        )
    return scores


def finite_thetas(theta: FloatArray) -> FloatArray:
    """Replace ±inf, as mirt does, by the finite max + 0.1 / min − 0.1 (NaN stays NaN)."""
    out = theta.copy()
    fin = np.isfinite(out)
    if fin.any():
        out[out == np.inf] = out[fin].max() + 0.1
        out[out == -np.inf] = out[fin].min() - 0.1
    return out


def item_frame(al: Aligned, columns: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(columns, index=pd.Index(al.item_ids, name="item_id"))
