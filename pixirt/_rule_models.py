"""The sections of a rule set: v2, v3, selection, capacity, incidents, jury, complementary (:mod:`pixirt.rules`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StrictBool, StrictInt, StrictStr

from pixirt._rule_fields import (
    Action,
    Bound,
    Count,
    Feature,
    Number,
    Percent,
    ResolutionAction,
    StatusName,
    _Model,
    _parse_until,
)


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
    (Pix's ``MAX_CHALLENGES_PER_AREA_FOR_CERTIFICATION_PLUS``; :mod:`pixirt.cat._pix_plus`).
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
