"""Held-out validation of a calibration (re-exported from :mod:`pixirt.calibration._holdout`).

The module that held it is named after what it holds (``_holdout``: hold out answers,
calibrate on the rest, score the predictions); ``pixirt._validation`` checks arguments.
"""

from __future__ import annotations

from pixirt.calibration._holdout import HoldoutResult, holdout_validation
from pixirt.calibration._holdout_metrics import log_loss, roc_auc
from pixirt.calibration._holdout_predictions import BASELINE, holdout_predictions
from pixirt.calibration._holdout_scores import holdout_scores, pairwise_gains, prediction_scores

__all__ = [
    "BASELINE",
    "HoldoutResult",
    "holdout_predictions",
    "holdout_scores",
    "holdout_validation",
    "log_loss",
    "pairwise_gains",
    "prediction_scores",
    "roc_auc",
]
