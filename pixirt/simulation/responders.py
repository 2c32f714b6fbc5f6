"""How simulated candidates answer, and what goes wrong during their sessions.

A :class:`Responder` turns a served challenge into an answer status, and decides the
session's incidents. Every decision is a counter-based draw keyed by the candidate's
index (:mod:`pixirt.streams`), so the vectorized simulator and a one-by-one replay
through :mod:`pixirt.cat` take the same decisions.

Answers follow the bank's 2PL/3PL at the candidate's true ability (``ability =
"general"``, default) or at the true ability of the challenge's competence
(``"competence"``), with optional misfit: with ``slip`` a share of answers that should
be right come out wrong (careless), with ``guess`` a share that should be wrong come
out right, i.e. ``P' = guess + (1 − guess − slip) · P``.

Incidents (rates per candidate unless said otherwise):

- ``live_alert_rate`` — per served challenge (v3): a technical problem validated as a
  live alert; the challenge is withdrawn and replaced;
- ``neutralize_rate`` — per answered challenge: the jury neutralizes it afterwards;
- ``abandon_rate`` — the candidate leaves after ``k`` answers, ``k`` uniform in
  ``abandon_after`` (inclusive); ``technical_abort_rate`` likewise with a technical reason;
- ``fraud_rate`` — the session is flagged for fraud.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from pixirt import streams
from pixirt.exceptions import DataError

__all__ = ["Incidents", "Responder"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class Incidents:
    """The incidents drawn for a batch of candidates (arrays over candidates).

    Attributes
    ----------
    abort_after
        Number of answers after which the session is aborted (−1: never).
    abort_reason
        ``"candidate"``, ``"technical"`` or ``""`` (no abort), per candidate.
    fraud
        Fraud flag per candidate.
    """

    abort_after: npt.NDArray[np.int64]
    abort_reason: npt.NDArray[np.object_]
    fraud: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class Responder:
    """Simulated answering behaviour and incidents (see the module doc).

    Parameters
    ----------
    ability
        ``"general"`` or ``"competence"``: which true ability answers a challenge.
    slip, guess
        Misfit shares (0 by default: answers follow the model).
    live_alert_rate, neutralize_rate
        Per-challenge incident rates.
    abandon_rate, technical_abort_rate, fraud_rate
        Per-candidate incident rates.
    abandon_after
        Inclusive range of the number of answers before an abort.
    """

    ability: Literal["general", "competence"] = "general"
    slip: float = 0.0
    guess: float = 0.0
    live_alert_rate: float = 0.0
    neutralize_rate: float = 0.0
    abandon_rate: float = 0.0
    technical_abort_rate: float = 0.0
    fraud_rate: float = 0.0
    abandon_after: tuple[int, int] = (1, 31)

    def __post_init__(self) -> None:
        if self.ability not in ("general", "competence"):
            raise DataError(
                f"expected 'general' or 'competence', got {self.ability!r}", field="ability"
            )
        for name in (
            "slip",
            "guess",
            "live_alert_rate",
            "neutralize_rate",
            "abandon_rate",
            "technical_abort_rate",
            "fraud_rate",
        ):
            value = getattr(self, name)
            if not (0.0 <= float(value) < 1.0):
                raise DataError(f"expected a rate in [0, 1), got {value!r}", field=name)
        if self.slip + self.guess >= 1.0:
            raise DataError("slip + guess must be < 1", field="slip")
        if self.abandon_rate + self.technical_abort_rate >= 1.0:
            raise DataError("abandon_rate + technical_abort_rate must be < 1", field="abandon_rate")
        lo, hi = self.abandon_after
        if not (0 <= lo <= hi):
            raise DataError(
                f"expected (low, high) with 0 <= low <= high, got {self.abandon_after!r}",
                field="abandon_after",
            )

    # -- answers ---------------------------------------------------------------------------
    def probability(self, p: FloatArray) -> FloatArray:
        """The answering probability after misfit: ``guess + (1 − guess − slip) · p``."""
        return self.guess + (1.0 - self.guess - self.slip) * p

    def answers(
        self, seed: int, index: npt.ArrayLike, step: npt.ArrayLike, p: FloatArray
    ) -> npt.NDArray[np.bool_]:
        """Whether each answer is right, given the model probability ``p`` (one per candidate)."""
        u = streams.uniform(seed, "sim.answer", index, step)
        return np.asarray(u < self.probability(p), dtype=bool)

    def live_alerts(
        self, seed: int, index: npt.ArrayLike, step: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Whether the challenge served at ``step`` gets a validated live alert."""
        if self.live_alert_rate == 0:
            return np.zeros(np.broadcast(np.asarray(index), np.asarray(step)).shape, dtype=bool)
        return np.asarray(
            streams.uniform(seed, "sim.live-alert", index, step) < self.live_alert_rate
        )

    def neutralized(
        self, seed: int, index: npt.ArrayLike, step: npt.ArrayLike
    ) -> npt.NDArray[np.bool_]:
        """Whether the jury neutralizes the challenge asked at ``step``."""
        if self.neutralize_rate == 0:
            return np.zeros(np.broadcast(np.asarray(index), np.asarray(step)).shape, dtype=bool)
        return np.asarray(
            streams.uniform(seed, "sim.neutralize", index, step) < self.neutralize_rate
        )

    # -- session incidents -----------------------------------------------------------------
    def incidents(self, seed: int, index: npt.ArrayLike) -> Incidents:
        """Aborts and fraud for the candidates of ``index``."""
        idx = np.asarray(index, dtype=np.int64)
        u = streams.uniform(seed, "sim.abort", idx)
        lo, hi = self.abandon_after
        k = lo + np.minimum(
            (streams.uniform(seed, "sim.abort.after", idx) * (hi - lo + 1)).astype(np.int64),
            hi - lo,
        )
        candidate = u < self.abandon_rate
        technical = (u >= self.abandon_rate) & (u < self.abandon_rate + self.technical_abort_rate)
        reason = np.where(candidate, "candidate", np.where(technical, "technical", "")).astype(
            object
        )
        after = np.where(candidate | technical, k, -1).astype(np.int64)
        fraud = streams.uniform(seed, "sim.fraud", idx) < self.fraud_rate
        return Incidents(
            abort_after=after, abort_reason=reason, fraud=np.asarray(fraud, dtype=bool)
        )
