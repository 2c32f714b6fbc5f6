"""v3 degradation of an unfinished test (pix-rules.md §3)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pixirt.cat._capacity import CapacityHistory, CapacityModel
from pixirt.cat._certification import Certification, CertificationChallenge
from pixirt.cat._result import CapacityStep, Degradation
from pixirt.cat._selection import BankStructure, SelectionState, candidate_pool, rank_by_information
from pixirt.exceptions import ScoringError

if TYPE_CHECKING:
    from pixirt.rules import RuleSet, SelectionRules


# =========================================================================== v3
@dataclass(frozen=True, slots=True)
class _Answer:
    challenge_id: str
    a: float
    b: float
    correct: bool


def _degrade(
    cert: Certification,
    rules: RuleSet,
    model: CapacityModel,
    structure: BankStructure,
    answered: Sequence[CertificationChallenge],
    answers: Sequence[_Answer],
    estimate: float,
    n_answers: int,
) -> tuple[Degradation, list[CapacityStep]]:
    """Pix's ``downgradeCapacity``: simulate the missing answers as SKIPPED on the best challenges.

    As in Pix, each step re-runs the EAP over all answers so far (the candidate's, then
    the simulated ones) starting from the *estimated* capacity, ranks the pool at that
    capacity and takes the best challenge (pick probability 100).
    """
    sel = rules.selection
    assert sel is not None
    state = _selection_so_far(cert, sel, structure, answered)

    a = [x.a for x in answers]
    b = [x.b for x in answers]
    ok = [x.correct for x in answers]
    n_missing = sel.test_length - n_answers
    picked: list[str] = []
    steps: list[CapacityStep] = []
    for step in range(n_missing):
        current = model.history(a, b, ok, initial=estimate)
        theta = float(current.final_capacity)
        pool = candidate_pool(structure, state, sel)
        if not pool.any():
            raise ScoringError(
                f"degradation step {step + 1} of {n_missing}: no challenge of the bank is left by the selection "
                "rules (Pix's AssessmentLackOfChallengesError)"
            )
        rate = sel.minimum_success_rate_at(n_answers + step) if sel.minimum_success_rate else None
        ranked = rank_by_information(
            np.array([theta]), structure, pool, top_n=sel.top_n, minimum_success_rate=rate
        )
        best = int(ranked[0, 0])
        cid = str(structure.item_ids[best])
        picked.append(cid)
        a.append(float(structure.a[best]))
        b.append(float(structure.b[best]))
        ok.append(False)
        after: CapacityHistory = model.history(a, b, ok, initial=estimate)
        steps.append(
            CapacityStep(
                cid, False, float(after.capacity[-1]), float(after.error_rate[-1]), simulated=True
            )
        )
        skill_code = structure.skill[[best]] if structure.skill is not None else None
        state = state.record(
            item=np.array([best]),
            competence=structure.competence[[best]],
            tube=structure.tube[[best]],
            skill=skill_code,
            warm_up_length=sel.warm_up_length,
        )
    final = steps[-1].capacity if steps else estimate
    return (
        Degradation(
            n_simulated=n_missing,
            capacity_before=estimate,
            capacity_after=final,
            challenge_ids=tuple(picked),
        ),
        steps,
    )


def _selection_so_far(
    cert: Certification,
    sel: SelectionRules,
    structure: BankStructure,
    answered: Sequence[CertificationChallenge],
) -> SelectionState:
    """The selection state after the candidate's answers (live-alerted challenges and skills excluded)."""
    n_items = structure.n_items
    excluded = np.zeros(n_items, dtype=bool)
    alerts = [c for c in cert.challenges if c.live_alert]
    alert_pos = structure.positions(c.challenge_id for c in alerts)
    excluded[alert_pos[alert_pos >= 0]] = True
    if structure.skill is not None and (alert_pos >= 0).any():
        excluded |= np.isin(structure.skill, structure.skill[alert_pos[alert_pos >= 0]])
    # the pool is every calibrated challenge of the version, whatever the candidate's
    # accessibility needs (Pix's scoring-v3.js: findFlashCompatibleWithoutLocale with
    # useObsoleteChallenges)
    state = SelectionState.start(
        structure, 1, recent=sel.challenges_between_same_competence, excluded=excluded
    )
    for c in answered:
        pos = structure.positions([c.challenge_id])
        tube = (
            structure.tube_codes([c.tube])
            if c.tube is not None
            else (structure.tube[pos] if pos[0] >= 0 else np.array([-1]))
        )
        skill = (
            structure.skill[pos] if structure.skill is not None and pos[0] >= 0 else np.array([-1])
        )
        state = state.record(
            item=pos,
            competence=structure.competence_codes([c.competence]),
            tube=tube,
            skill=skill,
            warm_up_length=sel.warm_up_length,
        )
    return state
