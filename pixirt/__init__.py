"""pixirt: adaptive-testing psychometrics for the Pix digital-skills certification.

The public API re-exported here: response logs (:func:`read_responses`,
:class:`ResponseLog`), item banks (:class:`ItemBank`), the IRT functions
(:mod:`pixirt.models`), the exceptions and :class:`Progress` (what a ``progress``
callable receives). The parts live in sub-packages: :mod:`pixirt.calibration`,
:mod:`pixirt.cat`, :mod:`pixirt.simulation` (and :mod:`pixirt.service`, :mod:`pixirt.cli`).

The public modules of this package are :mod:`pixirt.exceptions`, :mod:`pixirt.datasets`,
:mod:`pixirt.testing`, :mod:`pixirt.rules` and :mod:`pixirt.models`; every other module
(``_name.py``, here and in the sub-packages) is an implementation module, private behind
the names its package exports (``tests/test_public_api.py`` checks both).
"""

from __future__ import annotations

from pixirt import models, rules
from pixirt._item_bank import ItemBank
from pixirt._progress import Progress
from pixirt._response_log import LogDescription, LogSplit, ResponseLog
from pixirt._response_reading import read_responses
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
