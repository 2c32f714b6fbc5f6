"""The identity of a compared rule set (:class:`RuleSetInfo`) and its JSON form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pixirt.rules import RuleSet


# ====================================================================== result
@dataclass(frozen=True, slots=True)
class RuleSetInfo:
    """Identity of a compared rule set.

    Attributes
    ----------
    id, hash, algorithm, source
        As on :class:`~pixirt.rules.RuleSet`.
    content
        :meth:`RuleSet.to_dict() <pixirt.rules.RuleSet.to_dict>` (to describe the changes).
    """

    id: str
    hash: str
    algorithm: str
    source: str
    content: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, rules: RuleSet) -> RuleSetInfo:
        """The identity of ``rules``."""
        return cls(rules.id, rules.hash, rules.algorithm, rules.source, rules.to_dict())


# ====================================================================== (de)serialisation
def _info_dict(info: RuleSetInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "hash": info.hash,
        "algorithm": info.algorithm,
        "source": info.source,
        "content": info.content,
    }
