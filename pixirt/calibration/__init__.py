"""Calibration and diagnostics: MML-EM for Rasch, 1PL, 2PL and 3PL, person scores, fit, DIF, linking.

>>> from pixirt.calibration import calibrate, score_persons
>>> # result = calibrate(log, "2PL")           # → CalibrationResult with .bank, .loglik, .summary()
>>> # scores = score_persons(log, result.bank)  # → person_id, theta, se, n_answers, finite
>>> # holdout_validation(log, ("Rasch", "2PL"))   # → held-out log-loss and AUC per model

The implementation modules are private (``_em`` holds the algorithm, ``_holdout`` the
held-out validation); ``docs/calibration.md`` and ``docs/diagnostics.md`` are the guides.
The plots (``plot_icc``, ``plot_information``, ``plot_wright_map``, ``plot_dif``,
``plot_drift``, ``empirical_icc``) are imported on first use (matplotlib).
"""

from typing import Any

from pixirt.calibration._ability import (
    METHODS,
    empirical_reliability,
    marginal_reliability,
    score_persons,
    standard_error,
)
from pixirt.calibration._binned_fit import binned_fit
from pixirt.calibration._dif_irt import irt_dif
from pixirt.calibration._dif_mh import mantel_haenszel_dif
from pixirt.calibration._dif_power import dif_power_study
from pixirt.calibration._em import calibrate
from pixirt.calibration._holdout import HoldoutResult, holdout_validation
from pixirt.calibration._holdout_metrics import log_loss, roc_auc
from pixirt.calibration._holdout_predictions import BASELINE, holdout_predictions
from pixirt.calibration._holdout_scores import holdout_scores, pairwise_gains, prediction_scores
from pixirt.calibration._infit import infit_outfit
from pixirt.calibration._item_fit import item_fit
from pixirt.calibration._linking import LINK_METHODS, LinkingResult, link
from pixirt.calibration._model_fit import compare_models, m2, plausible_values, sum_score_eap
from pixirt.calibration._partitions import ResponseSource
from pixirt.calibration._person_fit import person_fit
from pixirt.calibration._priors import DEFAULT_C_BETA, Priors
from pixirt.calibration._q3 import q3_pairs, yen_q3
from pixirt.calibration._results import CalibrationError, CalibrationResult, CalibrationSummary
from pixirt.calibration._sx2 import identify_forms, s_x2
from pixirt.exceptions import ConvergenceWarning, DegenerateItemWarning

__all__ = [
    "BASELINE",
    "DEFAULT_C_BETA",
    "LINK_METHODS",
    "METHODS",
    "CalibrationError",
    "CalibrationResult",
    "CalibrationSummary",
    "ConvergenceWarning",
    "DegenerateItemWarning",
    "HoldoutResult",
    "LinkingResult",
    "Priors",
    "ResponseSource",
    "binned_fit",
    "calibrate",
    "compare_models",
    "dif_power_study",
    "empirical_icc",
    "empirical_reliability",
    "holdout_predictions",
    "holdout_scores",
    "holdout_validation",
    "identify_forms",
    "infit_outfit",
    "irt_dif",
    "item_fit",
    "link",
    "log_loss",
    "m2",
    "mantel_haenszel_dif",
    "marginal_reliability",
    "pairwise_gains",
    "person_fit",
    "plausible_values",
    "plot_dif",
    "plot_drift",
    "plot_icc",
    "plot_information",
    "plot_wright_map",
    "prediction_scores",
    "q3_pairs",
    "roc_auc",
    "s_x2",
    "score_persons",
    "standard_error",
    "sum_score_eap",
    "yen_q3",
]

_PLOTS = (
    "empirical_icc",
    "plot_dif",
    "plot_drift",
    "plot_icc",
    "plot_information",
    "plot_wright_map",
)


def __getattr__(name: str) -> Any:
    """The plots, imported with matplotlib on first use."""
    if name in _PLOTS:
        from pixirt.calibration import _plots as plots

        return getattr(plots, name)
    raise AttributeError(f"module 'pixirt.calibration' has no attribute {name!r}")
