"""Pix rule sets as versioned data.

Every rule the jury decides (the v2 level table, the reproducibility thresholds, the v3
capacity estimator, the selection options, the score intervals, the outcome rules) lives
in a TOML file read with :mod:`tomllib` into a frozen, typed :class:`RuleSet` (pydantic,
``extra="forbid"``). Three rule sets ship with pixirt (:func:`available`):

- ``pix-v2``: the classic profile-based certification (``pix-rules.md`` §2);
- ``pix-v3``: the adaptive "flash" certification with the seed configuration (§3, §4);
- ``pix-v3-2023``: the historical 2023 v3 scoring (per-competence intervals, 2023 global
  boundaries and the selection options of that time).

Load one by name or path with :func:`load`, compare two with :func:`diff`. Every rule
set carries a content hash (SHA-256 of the canonical JSON of its validated content) that
every scoring result records. A malformed file raises :class:`~pixirt.exceptions.RuleError`
naming the file and the field path, e.g.
``my-rules.toml [scoring.v2.table][4].rr_below_70: expected one of validate/downgrade/invalidate, got 'keep'``.

The format, field by field, is documented in ``docs/rules.md``.

Examples
--------
>>> from pixirt import rules
>>> "pix-v2" in rules.available()
True
>>> v2 = rules.load("pix-v2")
>>> v2.algorithm, v2.scoring.v2.trust_ratio
('v2', 0.66)
>>> len(v2.hash)
64
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    PrivateAttr,
    Strict,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
)

from pixirt.exceptions import RuleError

__all__ = [
    "Action",
    "CapacityRules",
    "CleaRules",
    "CompetenceInterval",
    "Complementary",
    "FieldChange",
    "IncidentPolicy",
    "IncidentResolution",
    "JuryRules",
    "LevelRule",
    "Mesh",
    "PixPlusRules",
    "ReproducibilityThresholds",
    "RuleSet",
    "RuleSetDiff",
    "Scoring",
    "ScoringInterval",
    "SelectionRules",
    "SuccessRateFixed",
    "SuccessRateLinear",
    "V2Scoring",
    "V3Scoring",
    "available",
    "diff",
    "load",
]

#: What the v2 level table does to the positioned level: keep it, lower it by one, or
#: invalidate the competence (level −1).
Action = Literal["validate", "downgrade", "invalidate"]

#: Challenge features an incident resolution can check (bank columns of the same names).
Feature = Literal["image", "embed", "attachment", "timed", "focus"]
FEATURES: tuple[str, ...] = ("image", "embed", "attachment", "timed", "focus")
#: What an automatic resolution does to the reported challenge's answer.
ResolutionAction = Literal["neutralize", "validate_focused_out"]
#: Answer statuses (``pix-rules.md`` §2.1).
StatusName = Literal["ok", "ko", "aband", "timedout", "focusedOut", "partially", "unimplemented"]

_RULESET_PACKAGE = "pixirt"
_RULESET_DIR = "rulesets"


# --------------------------------------------------------------------------- field types
def _parse_bound(value: Any) -> Any:
    """Accept ``"inf"``/``"-inf"`` strings for interval bounds (the JSON form of ±∞)."""
    if isinstance(value, str) and value.strip().lower() in {
        "inf",
        "+inf",
        "-inf",
        "infinity",
        "-infinity",
    }:
        return float(value)
    return value


def _reject_nan(value: float) -> float:
    if math.isnan(value):
        raise ValueError("expected a number or ±inf, got nan")
    return value


def _bound_to_json(value: float) -> float | str:
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return value


def _parse_until(value: Any) -> int | str:
    if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return cast(int | str, value)
    raise ValueError(f'expected a non-negative answer index or "all", got {value!r}')


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date like 2024-11-01, got {value!r}") from None
    return value


#: A finite number (TOML integer or float).
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]
#: An interval bound: a number, ``inf`` or ``-inf`` (written ``"inf"`` in JSON).
Bound = Annotated[
    float,
    BeforeValidator(_parse_bound),
    Strict(),
    AfterValidator(_reject_nan),
    PlainSerializer(_bound_to_json, when_used="json"),
]
Day = Annotated[date, BeforeValidator(_parse_date), Strict()]
Count = Annotated[StrictInt, Field(ge=0)]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --------------------------------------------------------------------------- v2
class LevelRule(_Model):
    """One row of the v2 level table (``pix-rules.md`` §2.3, ``CertifiedLevel``).

    The row applies to a competence whose counts are exactly ``(challenges, correct,
    neutralized)``; the action depends on the reproducibility rate band. The column names
    carry Pix's historical thresholds; the boundaries actually used are those of
    ``[scoring.v2.reproducibility]``.
    """

    challenges: Annotated[StrictInt, Field(ge=1)]
    correct: Count
    neutralized: Count
    rr_80_and_above: Action
    rr_70_to_80: Action
    rr_below_70: Action

    @property
    def key(self) -> tuple[int, int, int]:
        """``(challenges, correct, neutralized)``."""
        return (self.challenges, self.correct, self.neutralized)


class ReproducibilityThresholds(_Model):
    """Reproducibility-rate thresholds of v2, in percent.

    Below ``minimum_to_be_certified`` (50) every competence is invalidated; the level
    table has three bands: ``≥ minimum_to_be_trusted`` (80), ``≥ middle_band_minimum``
    (70) and below.
    """

    minimum_to_be_certified: Percent
    middle_band_minimum: Percent
    minimum_to_be_trusted: Percent


class V2Scoring(_Model):
    """Scoring rules of the classic certification (``[scoring.v2]``)."""

    challenges_per_competence: Annotated[StrictInt, Field(ge=1)]
    max_reachable_level: Annotated[StrictInt, Field(ge=0, le=8)]
    pix_per_level: Annotated[StrictInt, Field(ge=1)]
    minimum_competence_level: Annotated[StrictInt, Field(ge=0, le=8)]
    minimum_certifiable_competences: Annotated[StrictInt, Field(ge=1, le=16)]
    trust_ratio: Annotated[Number, Field(gt=0, le=1)]
    reproducibility: ReproducibilityThresholds
    table: tuple[LevelRule, ...]

    def row_index(self, challenges: int, correct: int, neutralized: int) -> int | None:
        """0-based index of the table row for these counts, or None (Pix's missing rule).

        Parameters
        ----------
        challenges, correct, neutralized
            The competence's counts (after QROCM-dep doubling and the cap on correct).

        Returns
        -------
        int or None
            The row's index in ``[scoring.v2.table]`` (rows are unique).
        """
        for i, row in enumerate(self.table):
            if row.key == (challenges, correct, neutralized):
                return i
        return None


# --------------------------------------------------------------------------- v3
class Mesh(_Model):
    """A mesh of the v3 score scale (``CORE_MESH_CONFIGURATION``): its weight and coefficient."""

    name: StrictStr
    weight: Annotated[StrictInt, Field(ge=1)]
    coefficient: Count


class ScoringInterval(_Model):
    """A global capacity interval ``[min, max)`` mapped to mesh ``mesh_level``."""

    mesh_level: Count
    min: Bound
    max: Bound


class CompetenceInterval(_Model):
    """A capacity interval ``[min, max)`` giving a competence level."""

    level: Annotated[StrictInt, Field(ge=0, le=8)]
    min: Bound
    max: Bound


class V3Scoring(_Model):
    """Scoring rules of the adaptive certification (``[scoring.v3]``)."""

    formula: Literal["mesh", "linear_2023"]
    max_reachable_level: Annotated[StrictInt, Field(ge=1, le=8)]
    score_cap: Annotated[StrictInt, Field(ge=1)]
    interval_height: Annotated[Number, Field(gt=0)] | None = None
    minimum_answers: Count
    reject_when: Literal["zero_score", "below_minimum_mesh"]
    degrade_abandoned: StrictBool
    meshes: tuple[Mesh, ...]
    intervals: tuple[ScoringInterval, ...]
    allow_inverted_intervals: StrictBool
    competence_intervals: dict[StrictStr, tuple[CompetenceInterval, ...]]


class SuccessRateFixed(_Model):
    """Historical minimum-success-rate range with a fixed value (questions ``start..end``)."""

    type: Literal["fixed"]
    start: Count
    end: Count
    value: Annotated[Number, Field(ge=0, le=1)]

    def rate(self, question_index: int) -> float:
        """Minimum success rate at a 0-based question index inside the range."""
        return self.value


class SuccessRateLinear(_Model):
    """Historical minimum-success-rate range varying linearly from ``start_value`` to ``end_value``."""

    type: Literal["linear"]
    start: Count
    end: Count
    start_value: Annotated[Number, Field(ge=0, le=1)]
    end_value: Annotated[Number, Field(ge=0, le=1)]

    def rate(self, question_index: int) -> float:
        """Minimum success rate at a 0-based question index inside the range."""
        if self.end == self.start:
            return self.start_value
        slope = (self.end_value - self.start_value) / (self.end - self.start)
        return self.start_value + slope * (question_index - self.start)


SuccessRateRange = Annotated[SuccessRateFixed | SuccessRateLinear, Field(discriminator="type")]


class SelectionRules(_Model):
    """Challenge selection of v3 (``[selection]``, ``pix-rules.md`` §3.3)."""

    test_length: Annotated[StrictInt, Field(ge=1)]
    pick_probability: Annotated[Number, Field(gt=0, le=100)]
    top_n: Annotated[StrictInt, Field(ge=1)]
    one_question_per_tube: StrictBool
    passage_by_all_competences: StrictBool
    challenges_between_same_competence: Count
    warm_up_length: Count
    forced_competences: tuple[StrictStr, ...]
    minimum_success_rate: tuple[SuccessRateRange, ...]

    def minimum_success_rate_at(self, question_index: int) -> float:
        """Historical minimum success rate for a 0-based question index (0 when no range applies)."""
        for rng in self.minimum_success_rate:
            if rng.start <= question_index <= rng.end:
                return rng.rate(question_index)
        return 0.0


class CapacityRules(_Model):
    """The v3 capacity estimator (``[capacity]``, ``pix-rules.md`` §3.2)."""

    default_capacity: Number
    prior_variance: Annotated[Number, Field(gt=0)]
    grid_min: Number
    grid_max: Number
    grid_steps: Annotated[StrictInt, Field(ge=1, le=100_000)]
    grid_quirk: StrictBool
    variation_percent: Annotated[Number, Field(ge=0)]
    variation_percent_until: Annotated[int | str, BeforeValidator(_parse_until)]
    double_measures_until: Count
    error_rate_without_answers: Annotated[Number, Field(ge=0)]


# --------------------------------------------------------------------------- incidents
class IncidentResolution(_Model):
    """How the automatic jury resolves one subcategory of issue report (``[[incidents.resolution]]``).

    ``neutralize``: the reported challenge is neutralized when its answer status is one
    of ``neutralizable_statuses`` (never a correct answer). ``validate_focused_out``: a
    ``focusedOut`` answer becomes ``ok``, an abandoned (``aband``) one is neutralized.
    With ``if_challenge_has``, the action applies only to a challenge having at least one
    of those features; otherwise the report is resolved without effect. A subcategory
    with no row is left unresolved for a human jury.
    """

    subcategory: StrictStr
    action: ResolutionAction
    if_challenge_has: tuple[Feature, ...] = ()


class IncidentPolicy(_Model):
    """Issue reports and their automatic resolution (``[incidents]``, docs/rules.md).

    Attributes
    ----------
    automatic_resolution
        Whether the session's finalization resolves reports automatically (Pix: v2 only).
    neutralizable_statuses
        Answer statuses an automatic neutralization applies to (Pix: ``ko``, ``aband``).
    categories
        Category → its subcategories (a category with none is reported alone).
    impactful_categories, impactful_subcategories
        Reports of these block the session's automatic publication while unresolved.
    resolution
        One row per automatically resolved subcategory.
    """

    automatic_resolution: StrictBool
    neutralizable_statuses: tuple[StatusName, ...]
    categories: dict[StrictStr, tuple[StrictStr, ...]]
    impactful_categories: tuple[StrictStr, ...] = ()
    impactful_subcategories: tuple[StrictStr, ...] = ()
    resolution: tuple[IncidentResolution, ...] = ()

    @property
    def subcategories(self) -> tuple[str, ...]:
        """Every known subcategory, in file order."""
        return tuple(s for subs in self.categories.values() for s in subs)

    def category_of(self, subcategory: str) -> str | None:
        """The category holding ``subcategory`` (None if unknown)."""
        return next((c for c, subs in self.categories.items() if subcategory in subs), None)


class JuryRules(_Model):
    """Decisions of the jury applied to every candidate alike (``[jury]``).

    ``fraud_ban_months``: a certification rejected for fraud bars the candidate from the
    certification for this many months (the public description: "l'impossibilité de
    passer la certification Pix pendant une durée déterminée"); 0 for no ban.
    """

    fraud_ban_months: Count = 0


class CleaRules(_Model):
    """CléA numérique, delivered with the core certification (``[complementary.clea]``).

    Acquired by a candidate holding the CléA badge when the core certification is
    validated, not rejected for fraud, with a score of at least ``minimum_earned_pix``
    (Pix's ``ComplementaryCertificationScoringWithoutComplementaryReferential``).
    """

    minimum_earned_pix: Count


class PixPlusRules(_Model):
    """Pix+ certifications taken with the core one (``[complementary.pix_plus]``).

    ``challenges_per_area``: challenges picked per area of the badge's referential
    (Pix's ``MAX_CHALLENGES_PER_AREA_FOR_CERTIFICATION_PLUS``; :mod:`pixirt.cat.pix_plus`).
    """

    challenges_per_area: Annotated[StrictInt, Field(ge=1)]


class Complementary(_Model):
    """Complementary certifications scored with the core one (``[complementary]``)."""

    clea: CleaRules | None = None
    pix_plus: PixPlusRules | None = None


# --------------------------------------------------------------------------- the rule set
class Scoring(_Model):
    """The ``[scoring]`` table: ``v2`` or ``v3`` according to the rule set's algorithm."""

    v2: V2Scoring | None = None
    v3: V3Scoring | None = None


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


# --------------------------------------------------------------------------- loading
def available() -> tuple[str, ...]:
    """Names of the rule sets shipped with pixirt.

    Returns
    -------
    tuple of str
        Sorted names, each accepted by :func:`load`.

    Examples
    --------
    >>> available()
    ('pix-v2', 'pix-v3', 'pix-v3-2023')
    """
    folder = resources.files(_RULESET_PACKAGE).joinpath(_RULESET_DIR)
    names = [p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml")]
    return tuple(sorted(names))


def load(name_or_path: str | os.PathLike[str]) -> RuleSet:
    """Load and validate a rule set.

    Parameters
    ----------
    name_or_path
        A shipped name (see :func:`available`) or the path of a TOML file.

    Returns
    -------
    RuleSet
        The validated, frozen rule set.

    Raises
    ------
    RuleError
        If the name is unknown, the file cannot be read or parsed, or its content is
        invalid; the message names the file and the field path.

    Examples
    --------
    >>> load("pix-v3").capacity.grid_quirk
    True
    """
    if isinstance(name_or_path, str) and name_or_path in available():
        label = f"{name_or_path}.toml"
        resource = resources.files(_RULESET_PACKAGE).joinpath(_RULESET_DIR, label)
        text = resource.read_text(encoding="utf-8")
        return _from_toml(text, label, source=f"pixirt:{label}")
    path = Path(name_or_path)
    label = os.fspath(name_or_path)
    if not path.is_file():
        raise RuleError(
            f"{label}: no such rule set file, and not a shipped rule set name "
            f"(shipped: {', '.join(available())})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{label}: cannot read the file: {exc}") from None
    return _from_toml(text, label, source=label)


def _from_toml(text: str, label: str, *, source: str) -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{label}: invalid TOML: {exc}") from None
    rs = RuleSet.from_dict(data, source=label)
    rs._source = source
    return rs


# --------------------------------------------------------------------------- errors
def _format_path(loc: Sequence[str | int]) -> str:
    """Render a field location the way a TOML reader looks for it.

    ``("scoring", "v2", "table", 4, "rr_below_70")`` → ``[scoring.v2.table][4].rr_below_70``;
    ``("capacity", "grid_steps")`` → ``[capacity].grid_steps``; ``("id",)`` → ``id``.
    """

    def key(k: str) -> str:
        bare = k.replace("_", "").replace("-", "").isalnum() and k.isascii()
        return k if bare else json.dumps(k)

    parts = list(loc)
    if not parts:
        return "(top level)"
    first_int = next((i for i, p in enumerate(parts) if isinstance(p, int)), None)
    if first_int is None:
        if len(parts) == 1:
            return key(str(parts[0]))
        return "[" + ".".join(key(str(p)) for p in parts[:-1]) + "]." + key(str(parts[-1]))
    out = "[" + ".".join(key(str(p)) for p in parts[:first_int]) + "]"
    for p in parts[first_int:]:
        out += f"[{p}]" if isinstance(p, int) else "." + key(str(p))
    return out


def _expected_choices(ctx: Mapping[str, Any] | None) -> str:
    raw = str((ctx or {}).get("expected", ""))
    items = [s.strip().strip("'\"") for s in raw.replace(" or ", ", ").split(",")]
    return "/".join(i for i in items if i)


def _error_message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    got = err.get("input")
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field (not part of the rule-set format; see docs/rules.md)"
    if kind == "literal_error":
        return f"expected one of {_expected_choices(err.get('ctx'))}, got {got!r}"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        tags = _expected_choices({"expected": ctx.get("expected_tags", "")})
        return f"expected type one of {tags}, got {ctx.get('tag')!r}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"expected an integer, got {got!r}"
    if kind in {"float_type", "float_parsing"}:
        return f"expected a number, got {got!r}"
    if kind == "finite_number":
        return f"expected a finite number, got {got!r}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"expected true or false, got {got!r}"
    if kind == "string_type":
        return f"expected a string, got {got!r}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a table, got {got!r}"
    if kind in {"tuple_type", "list_type"}:
        return f"expected an array, got {got!r}"
    msg = str(err.get("msg", "invalid value"))
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return f"{msg[:1].lower()}{msg[1:]}, got {got!r}"


def _format_validation_error(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p in {"fixed", "linear"})]
        lines.append(f"{source} {_format_path(loc)}: {_error_message(err)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- consistency
Loc = tuple[str | int, ...]


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


def _incident_problems(pol: IncidentPolicy) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    known = pol.subcategories
    seen: dict[str, int] = {}
    for cat, subs in pol.categories.items():
        for j, sub in enumerate(subs):
            if sub in seen:
                problems.append(
                    (("incidents", "categories", cat, j), f"{sub!r} is already in another category")
                )
            seen[sub] = 1
    for i, name in enumerate(pol.impactful_categories):
        if name not in pol.categories:
            problems.append(
                (("incidents", "impactful_categories", i), f"unknown category {name!r}")
            )
    for i, name in enumerate(pol.impactful_subcategories):
        if name not in known:
            problems.append(
                (("incidents", "impactful_subcategories", i), f"unknown subcategory {name!r}")
            )
    done: set[str] = set()
    for i, row in enumerate(pol.resolution):
        if row.subcategory not in known:
            problems.append(
                (
                    ("incidents", "resolution", i, "subcategory"),
                    f"unknown subcategory {row.subcategory!r} (add it to [incidents.categories])",
                )
            )
        if row.subcategory in done:
            problems.append(
                (
                    ("incidents", "resolution", i, "subcategory"),
                    f"{row.subcategory!r} has two rows: keep one",
                )
            )
        done.add(row.subcategory)
    if "ok" in pol.neutralizable_statuses:
        problems.append(
            (
                ("incidents", "neutralizable_statuses"),
                "a correct answer ('ok') is never neutralized automatically",
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


def _v2_problems(v2: V2Scoring) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    base: Loc = ("scoring", "v2")
    r = v2.reproducibility
    if not r.minimum_to_be_certified <= r.middle_band_minimum <= r.minimum_to_be_trusted:
        problems.append(
            (
                (*base, "reproducibility", "middle_band_minimum"),
                "thresholds must satisfy minimum_to_be_certified ≤ middle_band_minimum ≤ minimum_to_be_trusted",
            )
        )
    if not v2.table:
        problems.append(((*base, "table"), "the level table needs at least one row"))
    seen: dict[tuple[int, int, int], int] = {}
    for i, row in enumerate(v2.table):
        if row.key in seen:
            problems.append(
                (
                    (*base, "table", i),
                    f"duplicate row for {row.key} (first at [scoring.v2.table][{seen[row.key]}])",
                )
            )
        seen.setdefault(row.key, i)
        if row.correct + row.neutralized > row.challenges:
            problems.append(
                ((*base, "table", i, "correct"), "correct + neutralized cannot exceed challenges")
            )
    return problems


def _is_monotone(rows: Sequence[CompetenceInterval]) -> bool:
    for k, row in enumerate(rows):
        if not row.min < row.max:
            return False
        if k and (row.min != rows[k - 1].max or row.level <= rows[k - 1].level):
            return False
    return True


def _v3_problems(v3: V3Scoring, selection: SelectionRules | None) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    base: Loc = ("scoring", "v3")
    if v3.formula == "linear_2023" and v3.interval_height is None:
        problems.append(((*base, "interval_height"), "required for formula 'linear_2023'"))
    if v3.formula == "mesh" and v3.interval_height is not None:
        problems.append(((*base, "interval_height"), "not used by formula 'mesh': remove it"))
    if not v3.intervals:
        problems.append(((*base, "intervals"), "at least one global interval is needed"))
    for k, iv in enumerate(v3.intervals):
        if iv.mesh_level != k:
            problems.append(
                (
                    (*base, "intervals", k, "mesh_level"),
                    f"expected {k} (intervals are listed in mesh order)",
                )
            )
        if not (math.isfinite(iv.min) and math.isfinite(iv.max)):
            problems.append(((*base, "intervals", k), "global interval bounds must be finite"))
        elif not iv.min < iv.max:
            problems.append(
                ((*base, "intervals", k, "max"), f"must be above min ({iv.min}), got {iv.max}")
            )
        if k and iv.min != v3.intervals[k - 1].max:
            problems.append(
                (
                    (*base, "intervals", k, "min"),
                    f"must equal the previous interval's max ({v3.intervals[k - 1].max})",
                )
            )
    if len(v3.meshes) < len(v3.intervals):
        problems.append(
            ((*base, "meshes"), f"need at least one mesh per global interval ({len(v3.intervals)})")
        )
    if v3.max_reachable_level > len(v3.meshes) - 1:
        problems.append(
            (
                (*base, "max_reachable_level"),
                f"must be at most the last mesh index ({len(v3.meshes) - 1})",
            )
        )
    if not v3.competence_intervals:
        problems.append(((*base, "competence_intervals"), "at least one competence is needed"))
    for code, rows in v3.competence_intervals.items():
        loc: Loc = (*base, "competence_intervals", code)
        if not code.replace(".", "").isdigit() or code.count(".") != 1:
            problems.append((loc, f"competence codes look like '1.1', got {code!r}"))
        if not rows:
            problems.append((loc, "at least one interval is needed"))
            continue
        levels = [r.level for r in rows]
        if len(set(levels)) != len(levels):
            problems.append((loc, "each level may appear only once"))
        if not v3.allow_inverted_intervals and not _is_monotone(rows):
            bad = next(
                (
                    k
                    for k, r in enumerate(rows)
                    if not r.min < r.max or (k and r.min != rows[k - 1].max)
                ),
                0,
            )
            problems.append(
                (
                    (*loc, bad),
                    "intervals are inverted or non-monotone (min > max, gaps, overlaps or levels out of order); "
                    "set allow_inverted_intervals = true in [scoring.v3] to keep them as data "
                    "(the lookup is then first match in file order)",
                )
            )
    if selection is not None:
        for i, code in enumerate(selection.forced_competences):
            if code not in v3.competence_intervals:
                problems.append(
                    (("selection", "forced_competences", i), f"unknown competence {code!r}")
                )
    return problems


def _selection_problems(sel: SelectionRules) -> list[tuple[Loc, str]]:
    problems: list[tuple[Loc, str]] = []
    for i, rng in enumerate(sel.minimum_success_rate):
        if rng.end < rng.start:
            problems.append((("selection", "minimum_success_rate", i, "end"), "must be ≥ start"))
    return problems


# --------------------------------------------------------------------------- diff
@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference between two rule sets.

    Attributes
    ----------
    path
        Field path, e.g. ``[scoring.v2.table](3, 1, 1).rr_below_70``.
    kind
        ``changed``, ``added`` (only in the second) or ``removed`` (only in the first).
    before, after
        The JSON values (None when absent).
    """

    path: str
    kind: Literal["changed", "added", "removed"]
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.path}: added {_show(self.after)}"
        if self.kind == "removed":
            return f"{self.path}: removed (was {_show(self.before)})"
        return f"{self.path}: {_show(self.before)} → {_show(self.after)}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, slots=True)
class RuleSetDiff:
    """What differs between two rule sets, field by field (see :func:`diff`).

    Attributes
    ----------
    a_id, b_id, a_hash, b_hash
        The two rule sets compared.
    changes
        The differences, in file order.
    """

    a_id: str
    b_id: str
    a_hash: str
    b_hash: str
    changes: tuple[FieldChange, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[FieldChange]:
        return iter(self.changes)

    def __str__(self) -> str:
        head = f"{self.a_id} ({self.a_hash[:12]}) → {self.b_id} ({self.b_hash[:12]})"
        if not self.changes:
            return head + ": identical content"
        n = len(self.changes)
        return "\n".join(
            [f"{head}: {n} difference{'s' if n > 1 else ''}", *(f"  {c}" for c in self.changes)]
        )

    def to_frame(self) -> pd.DataFrame:
        """The changes as a table (``path``, ``kind``, ``before``, ``after``)."""
        return pd.DataFrame(
            [(c.path, c.kind, _show(c.before), _show(c.after)) for c in self.changes],
            columns=["path", "kind", "before", "after"],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form."""
        return {
            "a": {"id": self.a_id, "hash": self.a_hash},
            "b": {"id": self.b_id, "hash": self.b_hash},
            "changes": [
                {"path": c.path, "kind": c.kind, "before": c.before, "after": c.after}
                for c in self.changes
            ],
        }


#: Lists whose rows are matched by a key rather than by position (the jury reads
#: "row (3, 1, 1)", not "row 4").
_KEYED_LISTS: dict[Loc, tuple[str, ...]] = {
    ("incidents", "resolution"): ("subcategory",),
    ("scoring", "v2", "table"): ("challenges", "correct", "neutralized"),
}


def diff(a: RuleSet, b: RuleSet) -> RuleSetDiff:
    """Compare two rule sets field by field.

    Parameters
    ----------
    a, b
        The rule sets (``a`` is "before").

    Returns
    -------
    RuleSetDiff
        Every changed, added or removed field with its path; rows of the v2 level table
        are matched by ``(challenges, correct, neutralized)``, other arrays by position.
        Empty (falsy) when the contents are identical.

    Examples
    --------
    >>> d = diff(load("pix-v3"), load("pix-v3-2023"))
    >>> any(c.path == "[scoring.v3].formula" for c in d)
    True
    """
    changes: list[FieldChange] = []
    _diff_values(a.to_dict(), b.to_dict(), (), changes)
    return RuleSetDiff(a_id=a.id, b_id=b.id, a_hash=a.hash, b_hash=b.hash, changes=tuple(changes))


def _diff_values(x: Any, y: Any, loc: Loc, out: list[FieldChange]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in list(x) + [k for k in y if k not in x]:
            sub = (*loc, k)
            if k not in y:
                out.append(FieldChange(_format_path(sub), "removed", x[k], None))
            elif k not in x:
                out.append(FieldChange(_format_path(sub), "added", None, y[k]))
            else:
                _diff_values(x[k], y[k], sub, out)
        return
    if isinstance(x, list) and isinstance(y, list):
        keys = _KEYED_LISTS.get(loc)
        if keys is not None and all(isinstance(r, dict) for r in x + y):
            xs = {tuple(r.get(k) for k in keys): r for r in x}
            ys = {tuple(r.get(k) for k in keys): r for r in y}
            for key in list(xs) + [k for k in ys if k not in xs]:
                label = (
                    "["
                    + ".".join(str(p) for p in loc)
                    + "]("
                    + ", ".join(str(v) for v in key)
                    + ")"
                )
                if key not in ys:
                    out.append(FieldChange(label, "removed", xs[key], None))
                elif key not in xs:
                    out.append(FieldChange(label, "added", None, ys[key]))
                else:
                    for f in xs[key]:
                        if xs[key][f] != ys[key].get(f):
                            out.append(
                                FieldChange(f"{label}.{f}", "changed", xs[key][f], ys[key].get(f))
                            )
            return
        for i in range(max(len(x), len(y))):
            sub = (*loc, i)
            if i >= len(y):
                out.append(FieldChange(_format_path(sub), "removed", x[i], None))
            elif i >= len(x):
                out.append(FieldChange(_format_path(sub), "added", None, y[i]))
            else:
                _diff_values(x[i], y[i], sub, out)
        return
    if x != y:
        out.append(FieldChange(_format_path(loc), "changed", x, y))
