"""The Pix certification engine as a pure, resumable step function (v2 and v3).

::

    state = start(bank, rules, profile=..., candidate=Candidate("c1", index=7), seed=42)
    while (choice := next_challenge(state)) is not None:
        state = record(state, choice.challenge_id, status)   # "ok", "ko", "aband", ...
    outcome = result(state)                                   # a CertificationResult

Every function returns a new state and leaves its argument unchanged; a state
serializes to JSON (:meth:`~pixirt.cat.CatState.to_dict`) and resumes exactly
(:meth:`~pixirt.cat.CatState.from_dict`). Every random draw is a pure function of
``(seed, candidate.index, step)`` (:mod:`pixirt._streams`), so the HTTP service, a
resumed session and the vectorized simulator draw the same numbers.

**v2** (``pix-rules.md`` §2.1). At :func:`start` the whole test is planned: for each
certifiable competence of the profile (level ≥ 1; at least 5 of them), in code order,
the validated skills are grouped by level and walked from the highest level down; for
each skill one challenge is drawn uniformly among its challenges not answered in
positioning (all of them if none is left; a skill without challenge is skipped);
within a level, challenges of a tube not yet in the competence's result come before
those of a tube already there; the walk stops once 3 challenges are collected and the
first 3 are kept (fewer when the content lacks them). Challenges are served in plan
order. The uniform draw of a skill is keyed by the skill's code in the bank.

**v3** (§3.3). Before each challenge: the capacity from all answers so far (Pix's
EAP, :mod:`pixirt.cat._capacity`); the pool — not answered, no validated live alert on
the challenge or its skill, accessible when the candidate needs it — filtered by the
rule chain in the spec's order (:func:`pixirt.cat.candidate_pool`); the
ranking by information at the capacity, ties in bank order, top 5; the pick by
``binaryTreeRandom`` with probability 51 %; the test stops after ``test_length``
answers. A challenge withdrawn after a validated live alert (:func:`flag_live_alert`)
is replaced and its skill excluded.

**One engine.** A v3 session is a batch of one of :class:`~pixirt.cat._batch.SessionBatch`
— the very code the simulator steps for thousands of candidates at once (pool rules,
ranking with its proven-exact shortlists, pick, EAP update, scoring) — and a v2 session
is planned and scored by the v2 rules over arrays (:mod:`pixirt.cat._v2_tables`) on a
batch of one. Nothing here restates
a rule: this module keeps a session's record (:class:`~pixirt.cat.CatState`) and
checks the calls against it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from pixirt._item_bank import ItemBank
from pixirt.cat import _v2_batch_scoring, _v2_plan
from pixirt.cat._batch import certification_of
from pixirt.cat._certification import ABORT_REASONS, ANSWER_STATUSES, Certification
from pixirt.cat._incidents import IssueReport, unknown_to
from pixirt.cat._profile import Profile
from pixirt.cat._rebuild import Work
from pixirt.cat._rebuild import position as _position
from pixirt.cat._rebuild import step as _step
from pixirt.cat._result import CertificationResult
from pixirt.cat._runtime import Runtime, build_runtime
from pixirt.cat._score_entry import score
from pixirt.cat._selection import BankStructure
from pixirt.cat._state import Candidate, CatState, ChallengeChoice, rebuild
from pixirt.cat._state import attached_runtime as _runtime
from pixirt.cat._v2_tables import V2Profiles
from pixirt.exceptions import DataError, SessionError
from pixirt.rules import RuleSet

__all__ = [
    "Runtime",
    "Work",
    "abort",
    "build_runtime",
    "certification",
    "deneutralize",
    "flag_live_alert",
    "neutralize",
    "next_challenge",
    "rebuild",
    "record",
    "report_issue",
    "result",
    "start",
]

_PICK_STRIDE = 64  # counters per step for the v3 pick: step * 64 + j
_MASK = 2**64 - 1
_TWO53 = 1.0 / 9007199254740992.0


IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# ================================================================== start
def start(
    bank: ItemBank,
    rules: RuleSet,
    *,
    profile: Profile | Mapping[str, Any] | None = None,
    candidate: Candidate | None = None,
    seed: int | None = None,
) -> CatState:
    """Start a certification session.

    Parameters
    ----------
    bank
        The challenges (v2: with ``competence``, ``tube``, ``skill``, ``level``; v3:
        calibrated, with ``competence`` and ``tube``, optionally ``skill``, ``accessible``).
    rules
        The rule set (:func:`pixirt.rules.load`); its algorithm chooses v2 or v3.
    profile
        v2: the positioning profile (:class:`~pixirt.cat.Profile` or its dict).
    candidate
        Who takes the test (id, index keying the draws, accessibility, locale).
    seed
        Non-negative seed; None draws one from the system's entropy (recorded in the state).

    Returns
    -------
    CatState
        The state before the first challenge.

    Raises
    ------
    DataError
        Missing profile in v2, fewer than 5 certifiable competences, a bank without the
        columns the rules need.
    """
    runtime = build_runtime(bank, rules)
    candidate = candidate or Candidate()
    if seed is None:
        seed = secrets.randbits(63)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise DataError(f"seed must be a non-negative int, got {seed!r}", field="seed")
    if isinstance(profile, Mapping):
        profile = Profile.from_dict(profile)
    plan: tuple[str, ...] = ()
    if rules.algorithm == "v2":
        if profile is None:
            raise DataError(
                "a v2 certification needs the candidate's positioning profile", field="profile"
            )
        plan = _plan_v2(runtime, profile, candidate, seed)
    state = CatState(
        algorithm=rules.algorithm,
        rules_id=rules.id,
        rules_hash=rules.hash,
        bank_hash=bank.hash,
        seed=int(seed),
        candidate=candidate,
        profile=profile,
        plan=plan,
        runtime=runtime,
    )
    return rebuild(state)


def _plan_v2(
    runtime: Runtime, profile: Profile, candidate: Candidate, seed: int
) -> tuple[str, ...]:
    """The whole v2 test, 3 challenges per certifiable competence (§2.1): a batch of one."""
    v2 = runtime.rules.v2
    profiles = V2Profiles.from_profiles([profile], runtime.structure, index=[candidate.index])
    if not profiles.certifiable(v2)[0]:
        n_ok = len(profile.certifiable_competences(v2.minimum_competence_level))
        raise DataError(
            f"the profile has {n_ok} certifiable competence(s) (level ≥ {v2.minimum_competence_level}); "
            f"a v2 certification needs at least {v2.minimum_certifiable_competences}",
            field="profile",
        )
    assert runtime.v2_tables is not None
    planned = _v2_plan.plan(profiles, runtime.structure, runtime.v2_tables, v2, seed=seed)
    items = planned.items[0, : planned.length[0]]
    return tuple(str(runtime.structure.item_ids[i]) for i in items.tolist())


# ================================================================== stepping
def next_challenge(state: CatState) -> ChallengeChoice | None:
    """The challenge to serve next, or None when the test is over (finished or aborted).

    Raises
    ------
    SessionError
        When the rules leave no challenge although the test is not over (Pix's
        ``AssessmentLackOfChallengesError``).
    """
    work = state.work
    if work is None:
        state = rebuild(state)
        work = state.work
        assert work is not None
    if not work.computed:
        work.choice = _choose(state, work)
        work.computed = True
    return work.choice


def _choose(state: CatState, work: Work) -> ChallengeChoice | None:
    runtime = _runtime(state)
    st = runtime.structure
    if state.abort_reason is not None:
        return None
    step = len(state.asked)
    if state.algorithm == "v2":
        if step >= len(state.plan):
            return None
        return _choice(st, _position(runtime, state.plan[step]), step)
    sel_rules = runtime.rules.selection
    batch = work.batch
    assert sel_rules is not None and batch is not None
    if state.n_answers >= sel_rules.test_length:
        return None
    choice = batch.choose([0])
    if choice.chosen[0] < 0:
        raise SessionError(
            f"no challenge left for step {step + 1}: the selection rules exclude every challenge "
            "of the bank (Pix's AssessmentLackOfChallengesError)"
        )
    ranked = [int(i) for i in choice.ranked[0] if i >= 0]
    return _choice(
        st,
        int(choice.chosen[0]),
        step,
        capacity=float(batch.cap.capacity[0]),
        error_rate=float(batch.cap.error_rate[0]),
        ranked=tuple(str(st.item_ids[i]) for i in ranked),
        rank=int(choice.rank[0]),
    )


def _choice(st: BankStructure, pos: int, step: int, **v3: Any) -> ChallengeChoice:
    return ChallengeChoice(
        challenge_id=str(st.item_ids[pos]),
        competence=st.competences[int(st.competence[pos])],
        tube=st.tubes[int(st.tube[pos])],
        skill=None if st.skill is None else st.skills[int(st.skill[pos])],
        step=step,
        **v3,
    )


def _served(state: CatState, challenge_id: str) -> ChallengeChoice:
    choice = next_challenge(state)
    if choice is None:
        why = f"aborted ({state.abort_reason})" if state.abort_reason else "finished"
        raise SessionError(f"the test is {why}: no answer can be recorded")
    if str(challenge_id) != choice.challenge_id:
        raise SessionError(
            f"challenge {challenge_id!r} is not the one served ({choice.challenge_id!r})"
        )
    return choice


def record(state: CatState, challenge_id: str, status: str) -> CatState:
    """Record the answer to the challenge served; returns the new state.

    Parameters
    ----------
    state
        The current state.
    challenge_id
        Must be the challenge :func:`next_challenge` serves.
    status
        Pix answer status: ``ok``, ``ko``, ``aband``, ``timedout``, ``focusedOut``,
        ``partially`` or ``unimplemented`` (only ``ok`` is correct).

    Raises
    ------
    SessionError
        The test is over, or ``challenge_id`` is not the challenge served.
    DataError
        Unknown status.
    """
    if status not in ANSWER_STATUSES:
        raise DataError(
            f"expected one of {'/'.join(ANSWER_STATUSES)}, got {status!r}", field="status"
        )
    _served(state, challenge_id)
    return _append(state, str(challenge_id), status)


def flag_live_alert(state: CatState, challenge_id: str) -> CatState:
    """A validated live alert on the challenge served (v3): it is withdrawn and replaced.

    The challenge and every challenge of its skill leave the pool; the next challenge
    is chosen again (with the draws of the next step).
    """
    if state.algorithm != "v3":
        raise SessionError("live alerts replace challenges in v3 only; in v2 the jury neutralizes")
    _served(state, challenge_id)
    return _append(state, str(challenge_id), None)


def _append(state: CatState, cid: str, status: str | None) -> CatState:
    runtime = _runtime(state)
    work = state.work
    assert work is not None
    batch = None
    if state.algorithm == "v3":
        assert work.batch is not None
        batch = work.batch.copy()
        _step(batch, _position(runtime, cid), status)
    return replace(
        state, asked=(*state.asked, cid), statuses=(*state.statuses, status), work=Work(batch)
    )


def abort(state: CatState, reason: str) -> CatState:
    """End the session early: ``reason`` is ``candidate`` or ``technical``."""
    if reason not in ABORT_REASONS:
        raise DataError(
            f"expected one of {'/'.join(ABORT_REASONS)}, got {reason!r}", field="reason"
        )
    if state.abort_reason is not None:
        raise SessionError(f"the session is already aborted ({state.abort_reason})")
    if next_challenge(state) is None:
        raise SessionError("the test is finished: it cannot be aborted")
    return replace(
        state,
        abort_reason=reason,
        work=Work(None) if state.algorithm == "v2" else _copy(state),
    )


def _copy(state: CatState) -> Work:
    """A new working state on the same batch (the batch is never modified in place)."""
    work = state.work
    assert work is not None
    return Work(work.batch)


def neutralize(state: CatState, challenge_id: str) -> CatState:
    """Jury action: neutralize an asked challenge (the result is rescored)."""
    if challenge_id not in state.asked:
        raise SessionError(f"challenge {challenge_id!r} was not asked in this session")
    if challenge_id in state.neutralized:
        raise SessionError(f"challenge {challenge_id!r} is already neutralized")
    return replace(state, neutralized=(*state.neutralized, str(challenge_id)), work=_copy(state))


def deneutralize(state: CatState, challenge_id: str) -> CatState:
    """Jury action: cancel the neutralization of a challenge."""
    if challenge_id not in state.neutralized:
        raise SessionError(f"challenge {challenge_id!r} is not neutralized")
    return replace(
        state,
        neutralized=tuple(c for c in state.neutralized if c != challenge_id),
        work=_copy(state),
    )


def report_issue(
    state: CatState,
    category: str,
    subcategory: str | None = None,
    challenge_id: str | None = None,
) -> CatState:
    """Record an issue report of the session's invigilator (resolved when scoring, docs/rules.md).

    Raises
    ------
    DataError
        A category or subcategory the rule set's ``[incidents.categories]`` does not know.
    SessionError
        A challenge that was not asked in this session.
    """
    report = IssueReport(category, subcategory, challenge_id)
    unknown = unknown_to(_runtime(state).rules, report)
    if unknown is not None:
        raise DataError(unknown[1], field=unknown[0])
    if challenge_id is not None and challenge_id not in state.asked:
        raise SessionError(f"challenge {challenge_id!r} was not asked in this session")
    return replace(state, issue_reports=(*state.issue_reports, report), work=_copy(state))


# ================================================================== scoring
def certification(state: CatState) -> Certification:
    """The session as a :class:`~pixirt.cat.Certification` (what the scorer reads).

    v2: every planned challenge is listed; those not answered when the session ended
    are *skipped automatically* (Pix's finalization), counted as wrong.
    """
    runtime = _runtime(state)
    v2 = state.algorithm == "v2"
    ids = list(state.plan) if v2 else list(state.asked)
    answered = dict(zip(state.asked, state.statuses, strict=True))
    profile: dict[str, Any] = {}
    if state.profile is not None:
        profile = {code: c for code, c in state.profile.competences.items()}
    neutralized = np.array([cid in state.neutralized for cid in ids], dtype=bool)
    skipped = np.zeros(len(ids), dtype=bool)
    if v2:  # the finalization of an unfinished test (pix-rules.md, auto-jury)
        skipped, left = _v2_batch_scoring.finalize(
            [[True] * len(ids)],
            [[cid in answered for cid in ids]],
            [state.abort_reason == "technical"],
        )
        skipped, neutralized = skipped[0], neutralized | left[0]
    cert = certification_of(
        runtime,
        runtime.structure.positions(ids),
        [answered.get(cid) for cid in ids],
        neutralized=neutralized,
        abort_reason=state.abort_reason,
        skipped=skipped,
        accessibility=state.candidate.accessibility,
        profile=profile,
        id=state.candidate.id,
    )
    return replace(cert, issue_reports=state.issue_reports) if state.issue_reports else cert


def result(state: CatState) -> CertificationResult:
    """Score the session with its rule set (v3 degradation uses the session's bank).

    Raises
    ------
    SessionError
        If the test is neither finished nor aborted.
    """
    if next_challenge(state) is not None:
        raise SessionError(
            f"the test is not over ({state.n_answers} answers): finish or abort it before scoring"
        )
    runtime = _runtime(state)
    return score(certification(state), runtime.rules, bank=runtime.bank)
