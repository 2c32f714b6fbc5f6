"""The classic (v2) certification over arrays of candidates: planning and scoring.

This module holds the v2 rules once (``pix-rules.md`` §2.1 and §2.3), written over
arrays so that a chunk of a million candidates and a single session run the same code:
the engine (:func:`pixirt.cat.engine.start`) plans a session as a batch of one, and
:func:`pixirt.cat.scoring.score` scores one as a batch of one (then puts the rules that
fired into words); the simulator calls the same functions on its chunks.

**Planning** (:func:`plan`). For each certifiable competence of a profile (level ≥
``minimum_competence_level``; a profile needs ``minimum_certifiable_competences`` of
them), in code order: the validated skills are grouped by level and walked from the
highest level down; each skill gets one challenge, drawn uniformly among its challenges
not answered in positioning (all of its challenges if none is left; a skill without
challenge is skipped); within a level, the challenges of a tube not yet in the
competence's result come before those of a tube already there, each part in the
profile's skill order; the walk stops once ``challenges_per_competence`` challenges are
collected and the first ones are kept. The uniform draw of a skill is
``streams.uniform(seed, "v2.pick", candidate index, skill code)``. The tube rule only
reorders a level, so the plan is the first ``challenges_per_competence`` skills of each
competence sorted by (level descending, tube already there, profile order): no walk is
needed and only the kept skills draw.

**Scoring** (:func:`score_batch`). Counts of the tested competences' challenges, the
reproducibility rate (JavaScript's ``Math.round``), the trust check, the level table
with its three rate bands, downgrades and the blocking at ``max_reachable_level``, the
outcome precedence, and every refusal of Pix's scoring — an inconsistent profile, an
unanswered challenge, a tested competence without challenge, a combination missing
from the table, and the sanity contract (a score of 0 with a rate above the minimum) —
as an ``error`` outcome with its reason instead of an exception.
"""

from __future__ import annotations

from pixirt.cat._v2_batch_scoring import V2Scores, finalize, score_batch
from pixirt.cat._v2_batch_scoring import _table as _table
from pixirt.cat._v2_batch_scoring import js_round as js_round
from pixirt.cat._v2_plan import V2Plan, plan
from pixirt.cat._v2_tables import (
    ACTIONS,
    OUTCOMES,
    V2Profiles,
    V2Tables,
    blocked,
    tested_competences,
)
from pixirt.cat._v2_tables import COMMENTS as COMMENTS
from pixirt.cat._v2_tables import BoolArray as BoolArray
from pixirt.cat._v2_tables import ChallengeIds as ChallengeIds
from pixirt.cat._v2_tables import IntArray as IntArray

__all__ = [
    "ACTIONS",
    "OUTCOMES",
    "V2Plan",
    "V2Profiles",
    "V2Scores",
    "V2Tables",
    "blocked",
    "finalize",
    "plan",
    "score_batch",
    "tested_competences",
]
