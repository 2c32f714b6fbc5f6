"""The names a rule comparison uses.

Outcome statuses, metrics, the rule fields that change which challenges are asked, array
and callback types.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
import numpy.typing as npt

from pixirt.rules import FieldChange, RuleSetDiff

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]
Lang = Literal["fr", "en"]
Source = Literal["simulation", "replay", "counterfactual"]
#: ``progress(stage, done, total)``: called as the work advances (a :class:`pixirt._progress.Reporter`).
StageTick = Callable[[str, int, int], None]

#: Outcome categories, in display order.
STATUSES: tuple[str, ...] = (
    "validated",
    "rejected",
    "cancelled",
    "cancelled_by_jury",
    "not_certifiable",
    "error",
)
#: The label of "no level on the certificate" in the level tables.
NO_LEVEL = "none"
#: Metrics of the ``differences`` table (baseline value, proposed value, difference).
DIFFERENCE_METRICS: tuple[str, ...] = ("pass_rate", "mean_score", "mean_level", "jury_review")
#: Metrics of the ``changes`` table (share of candidates).
CHANGE_METRICS: tuple[str, ...] = (
    "changed",
    "worse_off",
    "better_off",
    "mixed",
    "lost_certification",
    "gained_certification",
    "score_down",
    "score_up",
    "level_down",
    "level_up",
)
#: Metrics whose group gaps are examined for fairness, and the direction that hurts.
GAP_METRICS: dict[str, int] = {"pass_rate": -1, "mean_score": -1, "worse_off": 1}
#: Fewer candidates (or sessions) than this: no interval is given, and no gap flagged.
MIN_SAMPLE = 30
#: Metrics of the ``quality`` table.
QUALITY_METRICS: tuple[str, ...] = (
    "score_bias",
    "score_rmse",
    "score_correlation",
    "capacity_bias",
    "capacity_rmse",
    "level_accuracy",
    "level_accuracy_within_one",
    "global_level_accuracy",
    "level_consistency",
    "score_test_retest",
)
#: Rule fields that change which challenges are asked (prefixes of :func:`pixirt.rules.diff` paths).
SELECTION_FIELDS: tuple[str, ...] = (
    "algorithm",
    "[selection]",
    "[selection.",
    "[capacity]",
    "[scoring.v2].challenges_per_competence",
    "[scoring.v2].minimum_competence_level",
    "[scoring.v2].minimum_certifiable_competences",
)
_ABILITY_BINS = 10
_BLOCK = 10_000


def selection_changes(diff: RuleSetDiff) -> list[FieldChange]:
    """The changes of ``diff`` that alter which challenges are asked (:data:`SELECTION_FIELDS`)."""
    return [c for c in diff if c.path.startswith(SELECTION_FIELDS)]
