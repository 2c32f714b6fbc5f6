"""Consistency and soundness checks of a rule set's sections (:mod:`pixirt.rules`)."""

from __future__ import annotations

import math
from collections.abc import Sequence

from pixirt._rule_models import (
    CompetenceInterval,
    IncidentPolicy,
    SelectionRules,
    V2Scoring,
    V3Scoring,
)

# --------------------------------------------------------------------------- consistency
Loc = tuple[str | int, ...]


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
