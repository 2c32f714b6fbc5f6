"""Pix+ challenge selection: up to a few challenges per area of the badge's referential.

A Pix+ certification (Droit, Édu, Pro Santé, ...) is taken with the core one. Pix's
``pickCertificationChallengesForPixPlus`` (``certification-challenges-service.js``)
takes the candidate's certifiable skills of the badge's target profile, ordered by
decreasing difficulty and grouped by area; in each area it walks them in that order and
picks one challenge per skill until ``challenges_per_area`` challenges (Pix's
``MAX_CHALLENGES_PER_AREA_FOR_CERTIFICATION_PLUS``, 4). A skill's challenge is drawn
among those the candidate did not answer during positioning (all of them when every one
was answered). Pix passes over a skill without an operative challenge; here the bank is
the list of operative challenges, so a skill it does not hold is refused (more likely a
misspelt name than a skill to skip).

The number per area is data (``[complementary.pix_plus]``); the draws are counter-based
(:mod:`pixirt._streams`), keyed by the candidate's index and the skill.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

import numpy as np

from pixirt import _streams as streams
from pixirt.exceptions import DataError, RuleError

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
    from pixirt.rules import RuleSet

__all__ = ["plan_pix_plus"]


def plan_pix_plus(
    bank: ItemBank,
    skills: Sequence[str],
    rules: RuleSet,
    *,
    seed: int,
    index: int = 0,
    answered: Collection[str] = (),
) -> tuple[str, ...]:
    """The Pix+ challenges of one candidate (see the module doc).

    Parameters
    ----------
    bank
        The badge's challenges, with metadata columns ``area``, ``skill`` and ``level``
        (the difficulty of the skill).
    skills
        The candidate's certifiable skills of the badge (skill names of the bank).
    rules
        Its ``[complementary.pix_plus]`` gives the challenges per area.
    seed, index
        The draws' seed and the candidate's index.
    answered
        Challenges the candidate answered during positioning (avoided when possible).

    Returns
    -------
    tuple of str
        Challenge ids, area by area (areas in code order), each area's skills by
        decreasing difficulty (ties by skill name).

    Raises
    ------
    RuleError
        The rule set has no ``[complementary.pix_plus]``.
    DataError
        A bank without ``area``, ``skill`` or ``level``, or a skill it does not hold.
    """
    plus = None if rules.complementary is None else rules.complementary.pix_plus
    if plus is None:
        raise RuleError(f"rule set {rules.id} has no [complementary.pix_plus]")
    meta = bank.metadata
    for col in ("area", "skill", "level"):
        if col not in meta.columns:
            raise DataError(
                f"a Pix+ selection needs the bank's {col} column; columns are {list(meta.columns)}",
                field=col,
            )
    ids = np.asarray(bank.item_ids, dtype=object).astype(str)
    skill_col = meta["skill"].astype(str).to_numpy()
    known = set(skill_col.tolist())
    wanted = list(dict.fromkeys(str(s) for s in skills))
    missing = [s for s in wanted if s not in known]
    if missing:
        raise DataError(f"skill {missing[0]!r} is not in the bank", field="skills")
    first = {s: int(np.flatnonzero(skill_col == s)[0]) for s in wanted}
    area = {s: str(meta["area"].iloc[first[s]]) for s in wanted}
    level = {s: int(meta["level"].iloc[first[s]]) for s in wanted}
    done = {str(x) for x in answered}
    out: list[str] = []
    for a in sorted(set(area.values()), key=_area_key):
        in_area = sorted((s for s in wanted if area[s] == a), key=lambda s: (-level[s], s))
        picked = 0
        for s in in_area:
            if picked >= plus.challenges_per_area:
                break
            pool = ids[skill_col == s]
            fresh = pool[~np.isin(pool, list(done))] if done else pool
            choose_from = fresh if len(fresh) else pool
            u = float(streams.uniform(seed, "pix-plus.pick", index, _skill_key(s)))
            out.append(str(choose_from[min(int(u * len(choose_from)), len(choose_from) - 1)]))
            picked += 1
    return tuple(out)


def _area_key(code: str) -> tuple[int, str]:
    return (int(code), code) if code.isdigit() else (1 << 30, code)


def _skill_key(name: str) -> int:
    """A stable integer per skill name (the draw's counter)."""
    h = 1469598103934665603
    for byte in name.encode("utf-8"):
        h = ((h ^ byte) * 1099511628211) & ((1 << 63) - 1)
    return h
