"""pixirt: adaptive-testing psychometrics for the Pix digital-skills certification.

The public API re-exported here: response logs (:func:`read_responses`,
:class:`ResponseLog`), item banks (:class:`ItemBank`), the IRT functions
(:mod:`pixirt.models`), the exceptions and :class:`Progress` (what a ``progress``
callable receives). The parts live in sub-packages:
:mod:`pixirt.calibration`, :mod:`pixirt.cat`, :mod:`pixirt.simulation`.
"""

from __future__ import annotations

from pixirt import models, rules
from pixirt._progress import Progress
from pixirt._version import __version__
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

__all__ = [
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "DegenerateItemWarning",
    "ItemBank",
    "LogDescription",
    "LogSplit",
    "PixirtError",
    "Progress",
    "ResponseLog",
    "RuleError",
    "ScoringError",
    "SessionError",
    "__version__",
    "models",
    "read_responses",
    "rules",
]
