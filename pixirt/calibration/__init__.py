"""Calibration and diagnostics: MML-EM for Rasch, 1PL, 2PL and 3PL, person scores, fit, DIF, linking.

>>> from pixirt.calibration import calibrate, score_persons
>>> # result = calibrate(log, "2PL")           # → CalibrationResult with .bank, .loglik, .summary()
>>> # scores = score_persons(log, result.bank)  # → person_id, theta, se, n_answers, finite
>>> # holdout_validation(log, ("Rasch", "2PL"))   # → held-out log-loss and AUC per model

See :mod:`pixirt.calibration.em` for the algorithm, :mod:`pixirt.calibration.validation`
for held-out validation, ``docs/calibration.md`` and
``docs/diagnostics.md`` for guides. The plots (``plot_icc``, ``plot_information``,
``plot_wright_map``, ``plot_dif``, ``plot_drift``) are imported on first use (matplotlib).
"""

from typing import Any

from pixirt.calibration.ability import (
    METHODS,
    empirical_reliability,
    marginal_reliability,
    score_persons,
    standard_error,
)
from pixirt.calibration.dif import dif_power_study, irt_dif, mantel_haenszel_dif
from pixirt.calibration.em import calibrate
from pixirt.calibration.fit import (
    binned_fit,
    identify_forms,
    infit_outfit,
    item_fit,
    person_fit,
    q3_pairs,
    s_x2,
    yen_q3,
)
from pixirt.calibration.linking import LINK_METHODS, LinkingResult, link
from pixirt.calibration.model_fit import compare_models, m2, plausible_values, sum_score_eap
from pixirt.calibration.partitions import ResponseSource
from pixirt.calibration.priors import DEFAULT_C_BETA, Priors
from pixirt.calibration.results import CalibrationError, CalibrationResult, CalibrationSummary
from pixirt.calibration.validation import (
    BASELINE,
    HoldoutResult,
    holdout_predictions,
    holdout_scores,
    holdout_validation,
    log_loss,
    pairwise_gains,
    prediction_scores,
    roc_auc,
)
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

_PLOTS = ("plot_dif", "plot_drift", "plot_icc", "plot_information", "plot_wright_map")


def __getattr__(name: str) -> Any:
    """The plots, imported with matplotlib on first use."""
    if name in _PLOTS:
        from pixirt.calibration import plots

        return getattr(plots, name)
    raise AttributeError(f"module 'pixirt.calibration' has no attribute {name!r}")
