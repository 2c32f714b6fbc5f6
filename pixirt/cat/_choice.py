"""The next challenge to serve, as the engine chooses it (:mod:`pixirt.cat._state`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pixirt._json import from_dict, to_dict


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
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChallengeChoice:
        """Inverse of :meth:`to_dict`."""
        return from_dict(cls, data)
