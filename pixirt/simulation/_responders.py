"""How simulated candidates answer, and what goes wrong during their sessions.

A :class:`Responder` turns a served challenge into an answer status, and decides the
session's incidents. Every decision is a counter-based draw keyed by the candidate's
index (:mod:`pixirt._streams`), so the vectorized simulator and a one-by-one replay
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

Answer statuses and issue reports (Pix's, ``pix-rules.md`` §2.1 and docs/rules.md):

- ``skip_rate`` — share of wrong answers recorded as abandoned (``aband``);
  ``timeout_rate`` — share of the other wrong answers, on a timed challenge, recorded
  ``timedout``;
  ``focus_out_rate`` — share of answers on a focus challenge recorded ``focusedOut``
  (right or wrong: the candidate left the window, the answer counts as wrong);
- ``issue_rates`` — subcategory → rate per answered challenge of an issue report on it
  (``UNINTENTIONAL_FOCUS_OUT``: per focused-out answer); at most one per challenge;
- ``session_issue_rates`` — category or subcategory → rate per candidate of a report on
  no challenge (identity, signature, fraud, ...).

The rule set's incident policy then resolves the reports (:mod:`pixirt.cat._incidents`).
:data:`PIX_LIKE_INCIDENTS` holds assumed rates for a realistic session (Pix publishes
none): ``Responder(**PIX_LIKE_INCIDENTS)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from pixirt import _streams as streams
from pixirt.cat._incidents import FEATURES, STATUSES
from pixirt.exceptions import DataError

__all__ = ["PIX_LIKE_INCIDENTS", "Incidents", "Responder"]

_OK, _KO, _ABAND, _TIMEDOUT, _FOCUSED_OUT = (
    STATUSES.index(x) for x in ("ok", "ko", "aband", "timedout", "focusedOut")
)
_TIMED, _FOCUS = (1 << FEATURES.index("timed")), (1 << FEATURES.index("focus"))
_FOCUS_OUT_REPORT = "UNINTENTIONAL_FOCUS_OUT"

#: Assumed incident rates of a realistic session (assumptions, not Pix data).
PIX_LIKE_INCIDENTS: dict[str, Any] = {
    "skip_rate": 0.03,
    "timeout_rate": 0.2,
    "focus_out_rate": 0.03,
    "issue_rates": {
        "IMAGE_NOT_DISPLAYING": 0.0006,
        "EMBED_NOT_WORKING": 0.0006,
        "FILE_NOT_OPENING": 0.0005,
        "WEBSITE_UNAVAILABLE": 0.0003,
        "WEBSITE_BLOCKED": 0.0003,
        "SOFTWARE_NOT_WORKING": 0.0003,
        "EXTRA_TIME_EXCEEDED": 0.0002,
        "SKIP_ON_OOPS": 0.0002,
        "ACCESSIBILITY_ISSUE": 0.0001,
        "LINK_NOT_WORKING": 0.0001,
        "OTHER": 0.0001,
        "UNINTENTIONAL_FOCUS_OUT": 0.3,
    },
    "session_issue_rates": {
        "NAME_OR_BIRTHDATE": 0.01,
        "EXTRA_TIME_PERCENTAGE": 0.005,
        "SIGNATURE_ISSUE": 0.01,
        "FRAUD": 0.002,
        "NON_BLOCKING_CANDIDATE_ISSUE": 0.02,
        "NON_BLOCKING_TECHNICAL_ISSUE": 0.02,
        "LEFT_EXAM_ROOM": 0.002,
    },
}

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
    skip_rate, timeout_rate, focus_out_rate
        Answer statuses other than ``ok``/``ko`` (see the module doc).
    issue_rates, session_issue_rates
        Issue reports by subcategory (per answered challenge) and by category or
        subcategory (per candidate).
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
    skip_rate: float = 0.0
    timeout_rate: float = 0.0
    focus_out_rate: float = 0.0
    issue_rates: Mapping[str, float] = field(default_factory=dict, hash=False)
    session_issue_rates: Mapping[str, float] = field(default_factory=dict, hash=False)

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
            "skip_rate",
            "timeout_rate",
            "focus_out_rate",
        ):
            value = getattr(self, name)
            if not (0.0 <= float(value) < 1.0):
                raise DataError(f"expected a rate in [0, 1), got {value!r}", field=name)
        for name in ("issue_rates", "session_issue_rates"):
            rates = getattr(self, name)
            if not isinstance(rates, Mapping):
                raise DataError(f"expected a mapping name → rate, got {rates!r}", field=name)
            for key, value in rates.items():
                if not isinstance(key, str) or not key:
                    raise DataError(f"expected a report name, got {key!r}", field=name)
                if not (0.0 <= float(value) < 1.0):
                    raise DataError(
                        f"expected a rate in [0, 1), got {value!r}", field=f"{name}.{key}"
                    )
            object.__setattr__(self, name, {k: float(v) for k, v in sorted(rates.items())})
        plain = sum(v for k, v in self.issue_rates.items() if k != _FOCUS_OUT_REPORT)
        if plain >= 1.0:
            raise DataError("the issue rates per challenge must sum to < 1", field="issue_rates")
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

    @property
    def reports_anything(self) -> bool:
        """Whether any issue report can be drawn."""
        return any(self.issue_rates.values()) or any(self.session_issue_rates.values())

    def statuses(
        self,
        seed: int,
        index: npt.ArrayLike,
        step: npt.ArrayLike,
        correct: npt.ArrayLike,
        features: npt.ArrayLike,
    ) -> npt.NDArray[np.int64]:
        """Answer status codes (:data:`pixirt.cat._incidents.STATUSES`) of answers drawn right or wrong.

        Wrong answers may be abandoned or, on a timed challenge, timed out; any answer on
        a focus challenge may be focused out (then wrong).
        """
        ok = np.asarray(correct, dtype=bool)
        feat = np.asarray(features, dtype=np.int64)
        code = np.where(ok, _OK, _KO).astype(np.int64)
        if self.skip_rate:
            u = streams.uniform(seed, "sim.status.skip", index, step)
            code = np.where(~ok & (u < self.skip_rate), _ABAND, code)
        if self.timeout_rate:
            u = streams.uniform(seed, "sim.status.timeout", index, step)
            code = np.where(
                (code == _KO) & ((feat & _TIMED) != 0) & (u < self.timeout_rate), _TIMEDOUT, code
            )
        if self.focus_out_rate:
            u = streams.uniform(seed, "sim.status.focus", index, step)
            code = np.where(((feat & _FOCUS) != 0) & (u < self.focus_out_rate), _FOCUSED_OUT, code)
        return np.asarray(code, dtype=np.int64)

    def challenge_reports(
        self, seed: int, index: npt.ArrayLike, step: npt.ArrayLike, status: npt.ArrayLike
    ) -> npt.NDArray[np.int64]:
        """Per answered challenge, the index in :attr:`issue_rates` of its report (−1: none)."""
        st = np.asarray(status, dtype=np.int64)
        out = np.full(st.shape, -1, dtype=np.int64)
        if not self.issue_rates:
            return out
        names = list(self.issue_rates)
        plain = [k for k, n in enumerate(names) if n != _FOCUS_OUT_REPORT]
        if plain:
            u = streams.uniform(seed, "sim.report", index, step)
            edges = np.cumsum([self.issue_rates[names[k]] for k in plain])
            which = np.searchsorted(edges, u, side="right")
            hit = (which < len(plain)) & (st >= 0)
            out[hit] = np.asarray(plain, dtype=np.int64)[which[hit]]
        if _FOCUS_OUT_REPORT in self.issue_rates:
            u = streams.uniform(seed, "sim.report.focus", index, step)
            hit = (st == _FOCUSED_OUT) & (u < self.issue_rates[_FOCUS_OUT_REPORT])
            out[hit] = names.index(_FOCUS_OUT_REPORT)
        return out

    def session_reports(self, seed: int, index: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """``(n, len(session_issue_rates))``: which session reports each candidate gets."""
        idx = np.asarray(index, dtype=np.int64)
        cols = [
            streams.uniform(seed, "sim.report.session", idx, k) < rate
            for k, rate in enumerate(self.session_issue_rates.values())
        ]
        if not cols:
            return np.zeros((len(idx), 0), dtype=bool)
        return np.stack(cols, axis=1)

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
