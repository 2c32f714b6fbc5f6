"""The next challenge to serve, as the engine chooses it (:mod:`pixirt.cat._state`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class ChallengeChoice:
    """The next challenge to serve.

    Attributes
    ----------
    challenge_id
        The challenge.
    competence, tube, skill
        Where it sits in the framework.
    step
        0-based position of the challenge in the test.
    capacity, error_rate
        v3: the estimate the choice was made at (None in v2).
    ranked
        v3: the top challenges by information, best first (the pick is among them).
    rank
        v3: the rank picked by Pix's ``binaryTreeRandom``.
    """

    challenge_id: str
    competence: str
    tube: str | None
    skill: str | None
    step: int
    capacity: float | None = None
    error_rate: float | None = None
    ranked: tuple[str, ...] = ()
    rank: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return {
            "challenge_id": self.challenge_id,
            "competence": self.competence,
            "tube": self.tube,
            "skill": self.skill,
            "step": self.step,
            "capacity": self.capacity,
            "error_rate": self.error_rate,
            "ranked": list(self.ranked),
            "rank": self.rank,
        }
