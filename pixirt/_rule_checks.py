"""Consistency and soundness checks of a rule set (:mod:`pixirt.rules`)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pixirt._rule_models import (
    CompetenceInterval,
    IncidentPolicy,
    SelectionRules,
    V2Scoring,
    V3Scoring,
)

if TYPE_CHECKING:
    from pixirt._ruleset import RuleSet


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
