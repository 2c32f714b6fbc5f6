"""The :class:`RuleSet`: one versioned set of certification rules, and its whole-set checks (:mod:`pixirt.rules`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import Field, PrivateAttr, StrictStr, ValidationError

from pixirt._rule_checks import (
    Loc,
    _incident_problems,
    _selection_problems,
    _v2_problems,
    _v3_problems,
)
from pixirt._rule_fields import Day, _Model
from pixirt._rule_messages import _format_path, _format_validation_error
from pixirt._rule_models import (
    CapacityRules,
    Complementary,
    IncidentPolicy,
    JuryRules,
    Scoring,
    SelectionRules,
    V2Scoring,
    V3Scoring,
)
from pixirt.exceptions import RuleError


class RuleSet(_Model):
    """A versioned, validated Pix rule set.

    Build one with :func:`load` (a shipped name or a TOML path) or :meth:`from_dict`.

    Attributes
    ----------
    id
        Identifier (``pix-v2``); results record it.
    valid_from
        First day the rules apply.
    status
        ``draft``, ``active`` or ``archived``.
    comment
        Free text for the jury: where the values come from, what changed.
    algorithm
        ``v2`` (profile-based) or ``v3`` (adaptive); says which tables are required.
    scoring, selection, capacity
        The rules; ``selection`` and ``capacity`` only for v3.
    incidents
        The issue-report policy (None: no report is resolved automatically and none
        blocks a publication).
    jury
        Jury decisions applied to all (the ban after a fraud).
    complementary
        Complementary certifications (CléA numérique).
    """

    id: Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    valid_from: Day
    status: Literal["draft", "active", "archived"]
    comment: StrictStr
    algorithm: Literal["v2", "v3"]
    scoring: Scoring
    selection: SelectionRules | None = None
    capacity: CapacityRules | None = None
    incidents: IncidentPolicy | None = None
    jury: JuryRules | None = None
    complementary: Complementary | None = None

    _hash: str = PrivateAttr(default="")
    _source: str = PrivateAttr(default="<dict>")

    def model_post_init(self, context: Any, /) -> None:
        """Compute the content hash once the model is validated."""
        self._hash = hashlib.sha256(self.canonical_json().encode("utf-8")).hexdigest()

    def __eq__(self, other: object) -> bool:
        """Equal when the validated contents are (wherever they were read from)."""
        return isinstance(other, RuleSet) and other._hash == self._hash

    def __hash__(self) -> int:
        return hash(self._hash)

    # -- identity -----------------------------------------------------------------------
    @property
    def hash(self) -> str:
        """SHA-256 (hex) of :meth:`canonical_json`: changes whenever any validated value changes."""
        return self._hash

    @property
    def source(self) -> str:
        """Where the rule set was read from (``pixirt:pix-v2.toml``, a path, or ``<dict>``)."""
        return self._source

    def canonical_json(self) -> str:
        """The canonical JSON of the validated content (sorted keys, no spaces; ±inf as strings).

        Returns
        -------
        str
            The text hashed by :attr:`hash`. File comments, formatting, key order and
            ``1`` vs ``1.0`` do not change it.
        """
        return json.dumps(
            self.to_dict(),
            sort_keys=True,
            separators=(",", ":"),
            ensure_ascii=False,
            allow_nan=False,
        )

    def __repr__(self) -> str:
        return (
            f"RuleSet(id={self.id!r}, algorithm={self.algorithm!r}, status={self.status!r}, "
            f"valid_from={self.valid_from.isoformat()}, hash={self._hash[:12]})"
        )

    __str__ = __repr__

    # -- convenient accessors -------------------------------------------------------------
    @property
    def v2(self) -> V2Scoring:
        """The v2 scoring rules.

        Raises
        ------
        RuleError
            If this is not a v2 rule set.
        """
        if self.scoring.v2 is None:
            raise RuleError(
                f"rule set {self.id!r} is a {self.algorithm} rule set: it has no [scoring.v2]"
            )
        return self.scoring.v2

    @property
    def v3(self) -> V3Scoring:
        """The v3 scoring rules.

        Raises
        ------
        RuleError
            If this is not a v3 rule set.
        """
        if self.scoring.v3 is None:
            raise RuleError(
                f"rule set {self.id!r} is a {self.algorithm} rule set: it has no [scoring.v3]"
            )
        return self.scoring.v3

    # -- (de)serialisation ----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe content (dates as ISO strings, infinite bounds as ``"inf"``/``"-inf"``).

        Returns
        -------
        dict
            Accepted back by :meth:`from_dict`, giving an equal rule set with the same hash.
        """
        return self.model_dump(mode="json", exclude_none=True)

    @classmethod
    def from_dict(
        cls, data: Mapping[str, Any], *, source: str = "<dict>", strict: bool = True
    ) -> RuleSet:
        """Validate a rule set given as nested mappings (the parsed TOML or :meth:`to_dict`).

        Parameters
        ----------
        data
            The content.
        source
            Name used in error messages and kept as :attr:`source`.
        strict
            Also refuse rule sets that are well formed but cannot work as a certification:
            a test shorter than its minimum answers (every candidate rejected), a v2 level
            table without a row for a reachable combination of counts (Pix would refuse
            those certifications). ``strict=False`` accepts them, to study what they would
            do; :func:`load` is always strict.

        Returns
        -------
        RuleSet
            The validated rule set.

        Raises
        ------
        RuleError
            Naming ``source`` and the field path of every problem found.
        """
        try:
            rs = cls.model_validate(dict(data))
        except ValidationError as exc:
            raise RuleError(_format_validation_error(exc, source)) from None
        problems = _consistency_problems(rs)
        if strict and not problems:
            problems = _soundness_problems(rs)
        if problems:
            raise RuleError("\n".join(f"{source} {_format_path(p)}: {m}" for p, m in problems))
        rs._source = source
        return rs


def _consistency_problems(rs: RuleSet) -> list[tuple[Loc, str]]:
    """Cross-field rules that types alone cannot express."""
    problems: list[tuple[Loc, str]] = []
    needed: dict[str, tuple[Loc, ...]] = {
        "v2": (("scoring", "v2"),),
        "v3": (("scoring", "v3"), ("selection",), ("capacity",)),
    }
    present = {
        ("scoring", "v2"): rs.scoring.v2 is not None,
        ("scoring", "v3"): rs.scoring.v3 is not None,
        ("selection",): rs.selection is not None,
        ("capacity",): rs.capacity is not None,
    }
    for loc, there in present.items():
        wanted = loc in needed[rs.algorithm]
        if wanted and not there:
            problems.append((loc, f"required for algorithm {rs.algorithm!r}"))
        elif there and not wanted:
            problems.append((loc, f"not used by algorithm {rs.algorithm!r}: remove it"))
    if rs.scoring.v2 is not None:
        problems += _v2_problems(rs.scoring.v2)
    if rs.scoring.v3 is not None:
        problems += _v3_problems(rs.scoring.v3, rs.selection)
    if rs.selection is not None:
        problems += _selection_problems(rs.selection)
    if rs.incidents is not None:
        problems += _incident_problems(rs.incidents)
    if rs.capacity is not None:
        cap = rs.capacity
        if not cap.grid_min < cap.grid_max:
            problems.append(
                (
                    ("capacity", "grid_max"),
                    f"must be above grid_min ({cap.grid_min}), got {cap.grid_max}",
                )
            )
        elif not cap.grid_min <= cap.default_capacity <= cap.grid_max:
            problems.append(
                (
                    ("capacity", "default_capacity"),
                    f"must lie on the grid [{cap.grid_min}, {cap.grid_max}]",
                )
            )
    return problems


def _soundness_problems(rs: RuleSet) -> list[tuple[Loc, str]]:
    """Rule sets well formed but unable to work as a certification (``strict`` validation)."""
    problems: list[tuple[Loc, str]] = []
    if rs.scoring.v3 is not None and rs.selection is not None:
        if rs.selection.test_length < rs.scoring.v3.minimum_answers:
            problems.append(
                (
                    ("selection", "test_length"),
                    f"{rs.selection.test_length} questions is fewer than scoring.v3.minimum_answers "
                    f"({rs.scoring.v3.minimum_answers}): every candidate would be rejected for "
                    "too few answers",
                )
            )
    if rs.scoring.v2 is not None:
        v2 = rs.scoring.v2
        rows = {row.key for row in v2.table}
        per = v2.challenges_per_competence
        missing = [
            (ch, ok, neu)
            for ch in range(1, per + 1)
            for neu in range(ch + 1)
            for ok in range(min(ch - neu, per) + 1)
            if (ch, ok, neu) not in rows
        ]
        if missing:
            shown = ", ".join(f"({c}, {o}, {n})" for c, o, n in missing[:4])
            more = f" and {len(missing) - 4} more" if len(missing) > 4 else ""
            problems.append(
                (
                    ("scoring", "v2", "table"),
                    f"no row for the reachable counts (challenges, correct, neutralized) {shown}{more}: "
                    "Pix would refuse such certifications (MissingCertifiedLevelRuleError)",
                )
            )
    return problems
