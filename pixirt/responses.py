"""Response logs: who answered which item, right or wrong, stored sparse.

A :class:`ResponseLog` holds only the answered cells, in compressed sparse rows by
person (CSR): ``indptr`` (int64, ``n_persons + 1``), ``indices`` (int32 item
positions) and ``answers`` (int8, 1 = correct, 0 = wrong). Thirty million answers take
about 150 MB. Person and item ids are kept as given (int64 when every id is an
integer, else strings) with their dense positions.

Pix answer statuses (``pix-rules.md`` §2.2): only ``ok`` is correct, ``ko`` is wrong;
``aband``, ``timedout``, ``focusedOut``, ``partially`` and ``unimplemented`` are wrong
under Pix's scoring rule (``statuses="wrong"``, the default) or not administered
(``statuses="missing"``, for calibration studies that should not read a skip as a
wrong answer).

Ordering. Persons and items are numbered in order of first appearance. Within a
person, answers keep the order of the input rows, so :meth:`ResponseLog.to_frame`
returns the input grouped by person (the input itself when already grouped).
"""

from __future__ import annotations

from pixirt._response_log import LogDescription, LogSplit, ResponseLog
from pixirt._response_reading import read_responses
from pixirt._response_values import _MISSING as _MISSING
from pixirt._response_values import CORRECT_STATUSES, PIX_STATUSES
from pixirt._response_values import Keep as Keep
from pixirt._response_values import Statuses as Statuses

__all__ = [
    "CORRECT_STATUSES",
    "PIX_STATUSES",
    "LogDescription",
    "LogSplit",
    "ResponseLog",
    "read_responses",
]
