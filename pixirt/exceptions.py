"""Exceptions and warnings raised by pixirt.

The tree::

    PixirtError
    ├── CalibrationError EM diverged or gave estimates a bank cannot hold
    │                    (also an ArithmeticError)
    ├── DataError        bad input data (names file, row and field)
    ├── MissingExtraError an optional part whose extra is not installed (also an ImportError)
    ├── RuleError        a malformed or inconsistent rule set (names file and field path)
    ├── ScoringError     a certification that the rules cannot score
    └── SessionError     a step the session's state forbids (wrong challenge, test over, ...)

    DataWarning          input accepted with a change the caller must know about
                         (duplicate answers dropped, ids coerced, ...)
    ConvergenceWarning   an estimation stopped before meeting its tolerance
    └── DegenerateItemWarning  a calibration returned with items a bank for the engine
                               cannot hold (a ≤ 0, diverging a or b): result.problems
"""

from __future__ import annotations

__all__ = [
    "CalibrationError",
    "ConvergenceWarning",
    "DataError",
    "DataWarning",
    "DegenerateItemWarning",
    "MissingExtraError",
    "PixirtError",
    "RuleError",
    "ScoringError",
    "SessionError",
]


class PixirtError(Exception):
    """Base class of every error raised by pixirt."""


class DataError(PixirtError, ValueError):
    """Bad input data.

    Parameters
    ----------
    message
        What is wrong, in plain words.
    path
        The file the data came from, if any.
    row
        The 1-based data row (header excluded) or the row label, if known.
    field
        The column or field name, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        row: int | str | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.row = row
        self.field = field
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.path is not None:
            where.append(str(self.path))
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.field is not None:
            where.append(f"field {self.field!r}")
        prefix = " ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class CalibrationError(PixirtError, ArithmeticError):
    """EM diverged (non-finite values, estimates running off to infinity) or gave unusable estimates.

    Raised by :func:`pixirt.calibration.calibrate`; the message names the items.
    """


class MissingExtraError(PixirtError, ImportError):
    """An optional part of pixirt whose extra is not installed; the message names the extra.

    For example ``pip install 'pixirt[distributed]'`` for the Dask runs.
    """


class RuleError(PixirtError, ValueError):
    """A rule set that cannot be loaded or is inconsistent.

    The message names the file and the field path, e.g.
    ``my-rules.toml [scoring.v2.table][4].rr_below_70: expected one of ...``.
    """


class ScoringError(PixirtError):
    """A certification that the rule set cannot score (Pix's missing-rule and compute errors)."""


class SessionError(PixirtError):
    """A step the certification session's state forbids.

    Recording a challenge other than the one served, answering a finished or aborted
    test, scoring a test that is not over (the HTTP service answers 409).
    """


class DataWarning(UserWarning):
    """Input was accepted with a change the caller must know about."""


class ConvergenceWarning(UserWarning):
    """An iterative estimation stopped before reaching its tolerance."""


class DegenerateItemWarning(ConvergenceWarning):
    """A calibration returned with degenerate items (a ≤ 0, a or b running off to infinity).

    They are estimated and listed in ``CalibrationResult.problems``; the other items are
    estimated as usual; :meth:`CalibrationResult.engine_bank` refuses them.
    """
