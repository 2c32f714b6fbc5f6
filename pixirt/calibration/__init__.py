"""Calibration of item parameters from answer logs: MML-EM for Rasch, 1PL, 2PL and 3PL.

>>> from pixirt.calibration import calibrate, Priors
>>> # result = calibrate(log, "2PL")  # → CalibrationResult with .bank, .loglik, .summary()

See :mod:`pixirt.calibration.em` for the algorithm and ``docs/calibration.md`` for a guide.
"""

from pixirt.calibration.em import calibrate
from pixirt.calibration.priors import DEFAULT_C_BETA, Priors
from pixirt.calibration.results import CalibrationError, CalibrationResult, CalibrationSummary
from pixirt.exceptions import ConvergenceWarning

__all__ = [
    "DEFAULT_C_BETA",
    "CalibrationError",
    "CalibrationResult",
    "CalibrationSummary",
    "ConvergenceWarning",
    "Priors",
    "calibrate",
]
