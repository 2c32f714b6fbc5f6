"""pixirt: adaptive-testing psychometrics for the Pix digital-skills certification.

The public API re-exported here: response logs (:func:`read_responses`,
:class:`ResponseLog`), item banks (:class:`ItemBank`), the IRT functions
(:mod:`pixirt.models`) and the exceptions. The parts live in sub-packages:
:mod:`pixirt.calibration`, :mod:`pixirt.cat`, :mod:`pixirt.simulation`.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from pixirt import models, rules
from pixirt.exceptions import (
    ConvergenceWarning,
    DataError,
    DataWarning,
    DegenerateItemWarning,
    PixirtError,
    RuleError,
    ScoringError,
    SessionError,
)
from pixirt.item_bank import ItemBank
from pixirt.responses import LogDescription, LogSplit, ResponseLog, read_responses

try:
    __version__ = version("pixirt")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "DegenerateItemWarning",
    "ItemBank",
    "LogDescription",
    "LogSplit",
    "PixirtError",
    "ResponseLog",
    "RuleError",
    "ScoringError",
    "SessionError",
    "__version__",
    "models",
    "read_responses",
    "rules",
]
