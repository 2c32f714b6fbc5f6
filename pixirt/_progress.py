"""Progress: one type, one meaning of the ``progress`` argument.

Every public function that reports progress (:func:`pixirt.calibration.calibrate`,
:func:`pixirt.simulation.simulate`, :func:`pixirt.simulation.compare`, ...) takes
``progress: bool | Callable[[Progress], None]``: ``False`` says nothing, ``True`` writes
one line on stderr (redrawn in place, on a terminal only), a callable receives
:class:`Progress` values.
"""

from __future__ import annotations

import inspect
import sys
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from pixirt.exceptions import DataError

__all__ = ["Progress", "ProgressArg", "ProgressLine", "Reporter", "reporter"]


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a long computation stands.

    Attributes
    ----------
    stage
        What is being done (``"simulate"``, ``"baseline"``, ``"bootstrap"``,
        ``"calibrate 2PL"``, ...).
    done
        Units done so far (candidates, bootstrap draws, EM iterations).
    total
        Units in all, or None when unknown in advance (EM iterations).
    detail
        A short free text (e.g. the EM's last change and log-likelihood), possibly empty.

    Examples
    --------
    >>> Progress("simulate", 500, 2000).fraction
    0.25
    """

    stage: str
    done: int
    total: int | None
    detail: str = ""

    @property
    def fraction(self) -> float | None:
        """``done / total`` (1.0 for an empty total), None when the total is unknown."""
        if self.total is None:
            return None
        return self.done / self.total if self.total else 1.0

    @property
    def finished(self) -> bool:
        """The stage is over (``done >= total``; never for an unknown total)."""
        return self.total is not None and self.done >= self.total

    def __str__(self) -> str:
        # an unknown total is an iterative method's: say which iteration
        count = (
            f"iteration {self.done:,}" if self.total is None else f"{self.done:,}/{self.total:,}"
        )
        return f"{self.stage}: {count}" + (f"  {self.detail}" if self.detail else "")


#: The ``progress`` argument of the public functions.
ProgressArg = bool | Callable[[Progress], None]


class ProgressLine:
    """What ``progress=True`` does: one status line on a stream, redrawn in place.

    Parameters
    ----------
    stream
        Where to write (default ``sys.stderr``).
    only_tty
        Write only when the stream is a terminal (logs and CI stay clean).
    """

    def __init__(self, stream: TextIO | None = None, *, only_tty: bool = True) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = not only_tty or self.stream.isatty()
        self._width = 0

    def __call__(self, progress: Progress) -> None:
        """Redraw the line; end it when the stage is finished."""
        if not self.enabled:
            return
        line = f"pixirt {progress}"
        self._width = max(self._width, len(line))
        self.stream.write("\r" + line.ljust(self._width))
        if progress.finished:
            self.stream.write("\n")
            self._width = 0
        self.stream.flush()

    def close(self) -> None:
        """End a line left open (a stage of unknown total)."""
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0


class Reporter:
    """The normalised ``progress`` argument, as the library calls it.

    ``reporter(stage, done, total, detail="")`` builds a :class:`Progress` and hands it
    on; :meth:`close` ends an open status line.
    """

    def __init__(self, sink: Callable[[Progress], None] | None) -> None:
        self._sink = sink

    @property
    def active(self) -> bool:
        """Somebody listens."""
        return self._sink is not None

    def __call__(self, stage: str, done: int, total: int | None, detail: str = "") -> None:
        if self._sink is not None:
            self._sink(Progress(stage, done, total, detail))

    def close(self) -> None:
        close = getattr(self._sink, "close", None)
        if callable(close):
            close()


def _legacy(callback: Callable[..., Any], name: str) -> Callable[[Progress], None] | None:
    """Wrap a callback of the old signatures, ``(done, total)`` or ``(stage, done, total)``."""
    try:
        params = [
            p
            for p in inspect.signature(callback).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
        ]
    except (TypeError, ValueError):  # builtins without a signature: the new protocol
        return None
    if len(params) not in (2, 3):
        return None
    warnings.warn(
        f"a '{name}' callable taking ({', '.join(p.name for p in params)}) is deprecated: "
        "it now receives one pixirt.Progress(stage, done, total)",
        DeprecationWarning,
        stacklevel=4,
    )
    if len(params) == 2:
        return lambda p: callback(p.done, p.total)
    return lambda p: callback(p.stage, p.done, p.total)


def reporter(progress: Any, *, name: str = "progress") -> Reporter:
    """Normalise a ``progress`` argument (``bool | Callable[[Progress], None]``).

    Parameters
    ----------
    progress
        A :class:`Reporter` (returned as is); ``False``/``None``: silent; ``True``: a :class:`ProgressLine` on stderr; a
        callable: called with each :class:`Progress` (one taking the old
        ``(done, total)`` or ``(stage, done, total)`` still works, with a
        ``DeprecationWarning``).
    name
        The argument's name, for error messages.

    Raises
    ------
    DataError
        When ``progress`` is neither a bool nor a callable.
    """
    if isinstance(progress, Reporter):
        return progress
    if progress is None or progress is False:
        return Reporter(None)
    if progress is True:
        return Reporter(ProgressLine())
    if callable(progress):
        return Reporter(_legacy(progress, name) or progress)
    raise DataError(
        f"The '{name}' parameter must be a bool or a callable taking a pixirt.Progress. "
        f"Got {progress!r} instead.",
        field=name,
    )
