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

from pixirt._rule_checks import Loc as Loc
from pixirt._rule_diff import FieldChange, RuleSetDiff, diff
from pixirt._rule_fields import FEATURES as FEATURES
from pixirt._rule_fields import Action
from pixirt._rule_fields import Bound as Bound
from pixirt._rule_fields import Count as Count
from pixirt._rule_fields import Day as Day
from pixirt._rule_fields import Feature as Feature
from pixirt._rule_fields import Number as Number
from pixirt._rule_fields import Percent as Percent
from pixirt._rule_fields import ResolutionAction as ResolutionAction
from pixirt._rule_fields import StatusName as StatusName
from pixirt._rule_loading import available, load
from pixirt._rule_models import (
    CapacityRules,
    CleaRules,
    CompetenceInterval,
    Complementary,
    IncidentPolicy,
    IncidentResolution,
    JuryRules,
    LevelRule,
    Mesh,
    PixPlusRules,
    ReproducibilityThresholds,
    Scoring,
    ScoringInterval,
    SelectionRules,
    SuccessRateFixed,
    SuccessRateLinear,
    V2Scoring,
    V3Scoring,
)
from pixirt._rule_models import SuccessRateRange as SuccessRateRange
from pixirt._ruleset import RuleSet
from pixirt.exceptions import RuleError as RuleError

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
