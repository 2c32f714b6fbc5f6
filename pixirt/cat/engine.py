"""The Pix certification engine as a pure, resumable step function (v2 and v3).

::

    state = start(bank, rules, profile=..., candidate=Candidate("c1", index=7), seed=42)
    while (choice := next_challenge(state)) is not None:
        state = record(state, choice.challenge_id, status)   # "ok", "ko", "aband", ...
    outcome = result(state)                                   # a CertificationResult

Every function returns a new state and leaves its argument unchanged; a state
serializes to JSON (:meth:`~pixirt.cat.state.CatState.to_dict`) and resumes exactly
(:meth:`~pixirt.cat.state.CatState.from_dict`). Every random draw is a pure function of
``(seed, candidate.index, step)`` (:mod:`pixirt.streams`), so the HTTP service, a
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
EAP, :mod:`pixirt.cat.capacity`); the pool — not answered, no validated live alert on
the challenge or its skill, accessible when the candidate needs it — filtered by the
rule chain in the spec's order (:func:`pixirt.cat.selection.candidate_pool`); the
ranking by information at the capacity, ties in bank order, top 5; the pick by
``binaryTreeRandom`` with probability 51 %; the test stops after ``test_length``
answers. A challenge withdrawn after a validated live alert (:func:`flag_live_alert`)
is replaced and its skill excluded.

**Speed.** One session is one row of the vectorised selection and capacity functions,
which the simulator steps for thousands of candidates at once. For a single session
the engine keeps a fast path with the same results, bit for bit (tested against the
general path): tables built once per (bank, rule set) (:class:`FastTables`: the items
of each tube, competence and skill; every challenge's log-likelihood factor on the
grid), a pool kept incrementally (:class:`PoolState`: an answer clears its tube's and
competence's challenges instead of recomputing masks), the information computed on the
pool only with ties resolved by first ``argmax``, the capacity updated by
:meth:`~pixirt.cat.capacity.CapacityModel.update_single`, and only the draws the pick
needs. Rule sets with the historical forced competences or minimum success rate use the
general pool and ranking; those with double measures, the general capacity history.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NoReturn

import numpy as np
import numpy.typing as npt

from pixirt import streams
from pixirt.cat import v2 as v2_rules
from pixirt.cat.capacity import CapacityModel, CapacityState
from pixirt.cat.profile import Profile
from pixirt.cat.scoring import (
    ABORT_REASONS,
    ANSWER_STATUSES,
    Certification,
    CertificationChallenge,
    CertificationResult,
    score,
)
from pixirt.cat.selection import (
    BankStructure,
    SelectionState,
    candidate_pool,
    rank_by_information,
)
from pixirt.cat.state import Candidate, CatState, ChallengeChoice
from pixirt.cat.v2 import V2Profiles, V2Tables
from pixirt.exceptions import DataError, SessionError
from pixirt.item_bank import ItemBank
from pixirt.rules import RuleSet, SelectionRules

__all__ = [
    "Runtime",
    "Work",
    "abort",
    "certification",
    "deneutralize",
    "flag_live_alert",
    "neutralize",
    "next_challenge",
    "record",
    "result",
    "start",
]

_PICK_STRIDE = 64  # counters per step for the v3 pick: step * 64 + j
_MASK = 2**64 - 1
_TWO53 = 1.0 / 9007199254740992.0


IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True, eq=False)
class FastTables:
    """Lookup tables of the single-session fast path (built once per bank and rule set).

    Attributes
    ----------
    ids
        Challenge ids in bank order, as Python strings.
    position
        Challenge id → bank position.
    tube_items, competence_items, skill_items
        Bank positions of each tube's, competence's and skill's challenges (by code;
        ``skill_items`` is empty when the bank has no skill).
    a, b, a2
        Discriminants, difficulties and squared discriminants (float64).
    pool
        Whether the incremental pool applies to the rules: no historical forced
        competences or minimum success rate, a skill column when the skills rule is
        used, finite parameters; otherwise :func:`~pixirt.cat.selection.candidate_pool`
        and :func:`~pixirt.cat.selection.rank_by_information` are used.
    log_factor
        ``(2, n_items, n_grid)`` answer log-likelihood factors
        (:meth:`~pixirt.cat.capacity.CapacityModel.log_likelihood_table`); None with the
        historical double measures (the capacity is then recomputed from the history).
    """

    ids: tuple[str, ...]
    position: dict[str, int]
    tube_items: tuple[IntArray, ...]
    competence_items: tuple[IntArray, ...]
    skill_items: tuple[IntArray, ...]
    a: npt.NDArray[np.float64]
    b: npt.NDArray[np.float64]
    a2: npt.NDArray[np.float64]
    pool: bool
    log_factor: npt.NDArray[np.float64] | None


@dataclass(frozen=True, slots=True, eq=False)
class Runtime:
    """What the engine derives once from a bank and a rule set (not serialized)."""

    bank: ItemBank
    rules: RuleSet
    structure: BankStructure
    model: CapacityModel | None
    item_type: tuple[str | None, ...]
    v2_tables: V2Tables | None
    fast: FastTables | None = None


@dataclass(frozen=True, slots=True, eq=False)
class PoolState:
    """One session's v3 pool, kept incrementally (the fast path of the pool rules).

    Each mask is what :func:`~pixirt.cat.selection.candidate_pool` derives from the
    :class:`~pixirt.cat.selection.SelectionState` of the same answers, for one candidate:

    Attributes
    ----------
    by_rule
        Challenges not excluded (answered, withdrawn with their skill, inaccessible)
        minus the answered tubes (or skills, with ``one_question_per_tube = false``).
    fresh
        Challenges not excluded minus the competences answered after the warm-up.
    recent
        Competence codes of the last N answers, oldest first, −1 for none.
    n_answers
        Answers so far.
    events
        ``(position, answered)`` of every challenge recorded (answered False: withdrawn
        after a live alert), to rebuild the general state on demand.
    allowed
        The challenges allowed before any answer (accessibility).

    The arrays are never modified once the state is built: an answer copies them.
    """

    by_rule: BoolArray
    fresh: BoolArray
    recent: tuple[int, ...]
    n_answers: int
    events: tuple[tuple[int, bool], ...]
    allowed: BoolArray

    @classmethod
    def start(cls, allowed: BoolArray, recent: int) -> PoolState:
        """Nothing answered; ``allowed`` is the accessibility mask."""
        return cls(allowed.copy(), allowed.copy(), (-1,) * recent, 0, (), allowed.copy())

    def answer(
        self, tables: FastTables, pos: int, rules: SelectionRules, st: BankStructure
    ) -> PoolState:
        """The pool after answering the challenge at ``pos``."""
        by_rule = self.by_rule.copy()
        if rules.one_question_per_tube:
            by_rule[tables.tube_items[st.tube[pos]]] = False
        else:
            assert st.skill is not None  # the fast path needs skills for this rule
            by_rule[tables.skill_items[st.skill[pos]]] = False
        by_rule[pos] = False
        comp = int(st.competence[pos])
        fresh = self.fresh.copy()
        if self.n_answers >= rules.warm_up_length:
            fresh[tables.competence_items[comp]] = False
        fresh[pos] = False
        recent = (*self.recent[1:], comp) if self.recent else ()
        return PoolState(
            by_rule,
            fresh,
            recent,
            self.n_answers + 1,
            (*self.events, (pos, True)),
            self.allowed,
        )

    def withdraw(self, tables: FastTables, pos: int, st: BankStructure) -> PoolState:
        """The pool after a validated live alert on ``pos``: it and its skill leave."""
        out = []
        for mask in (self.by_rule, self.fresh):
            m = mask.copy()
            m[pos] = False
            if st.skill is not None:
                m[tables.skill_items[st.skill[pos]]] = False
            out.append(m)
        return PoolState(
            out[0],
            out[1],
            self.recent,
            self.n_answers,
            (*self.events, (pos, False)),
            self.allowed,
        )

    def pool(self, tables: FastTables, rules: SelectionRules) -> BoolArray:
        """The challenges the rules allow next (equal to ``candidate_pool(...)[0]``)."""
        pool = self.by_rule
        if (
            rules.passage_by_all_competences
            and self.n_answers >= rules.warm_up_length
            and self.fresh.any()
        ):
            pool = self.fresh
        n_recent = rules.challenges_between_same_competence
        if n_recent > 0 and self.recent:
            blocked = {c for c in self.recent[-n_recent:] if c >= 0}
            if blocked:
                kept = pool.copy()
                for c in blocked:
                    kept[tables.competence_items[c]] = False
                if kept.any():
                    pool = kept
        return pool


class Work:
    """The estimator's and the rules' working state for one session (rebuilt by replay).

    ``choice`` memoizes :func:`next_challenge` (a pure function of the state), so that
    :func:`record` does not compute the served challenge twice. On the fast path the
    pool is kept in ``pool`` (:class:`PoolState`) and ``sel`` is rebuilt from it only
    when read.
    """

    __slots__ = ("_runtime", "_sel", "cap", "choice", "computed", "pool")

    def __init__(
        self,
        cap: CapacityState | None,
        sel: SelectionState | None,
        pool: PoolState | None = None,
        runtime: Runtime | None = None,
    ) -> None:
        self.cap = cap
        self._sel = sel
        self.pool = pool
        self._runtime = runtime
        self.choice: ChallengeChoice | None = None
        self.computed = False

    @property
    def sel(self) -> SelectionState | None:
        """The rules' state as :class:`~pixirt.cat.selection.SelectionState` (general path)."""
        if self._sel is None and self.pool is not None and self._runtime is not None:
            self._sel = _selection_state(self._runtime, self.pool)
        return self._sel


def build_runtime(bank: ItemBank, rules: RuleSet) -> Runtime:
    """Derive the engine's per-(bank, rules) structures (built once per bank object)."""
    if not isinstance(bank, ItemBank):
        raise DataError(f"expected an ItemBank, got {type(bank).__name__}", field="bank")
    if not isinstance(rules, RuleSet):
        raise DataError(f"expected a RuleSet, got {type(rules).__name__}", field="rules")
    runtime: Runtime = bank.derived(
        f"cat.runtime/{rules.hash}", lambda: _build_runtime(bank, rules)
    )
    return runtime


def _build_runtime(bank: ItemBank, rules: RuleSet) -> Runtime:
    structure = BankStructure.of(bank)
    meta = bank.metadata
    item_type = (
        tuple(None if v is None or v != v else str(v) for v in meta["type"].tolist())
        if "type" in meta.columns
        else (None,) * bank.n_items
    )
    v2_tables = None
    if rules.algorithm == "v2":
        v2_tables = V2Tables.of(bank, structure)
        model = None
    else:
        model = CapacityModel.from_rules(rules)
    return Runtime(
        bank, rules, structure, model, item_type, v2_tables, _fast_tables(structure, rules, model)
    )


def _fast_tables(
    structure: BankStructure, rules: RuleSet, model: CapacityModel | None
) -> FastTables | None:
    """The fast path's tables for a v3 rule set (None in v2)."""
    sel = rules.selection
    if rules.algorithm != "v3" or sel is None or model is None:
        return None

    def groups(codes: IntArray | None, n: int) -> tuple[IntArray, ...]:
        if codes is None:
            return ()
        order = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[order], np.arange(n + 1))
        return tuple(np.asarray(order[bounds[k] : bounds[k + 1]], dtype=np.int64) for k in range(n))

    st = structure
    ids = tuple(str(i) for i in st.item_ids.tolist())
    pool = (
        not sel.forced_competences
        and not sel.minimum_success_rate
        and (sel.one_question_per_tube or st.skill is not None)
        and bool(np.isfinite(st.a).all() and np.isfinite(st.b).all())
    )
    return FastTables(
        ids=ids,
        position={cid: k for k, cid in enumerate(ids)},
        tube_items=groups(st.tube, len(st.tubes)),
        competence_items=groups(st.competence, len(st.competences)),
        skill_items=groups(st.skill, len(st.skills)),
        a=st.a,
        b=st.b,
        a2=np.square(st.a),
        pool=pool,
        log_factor=None if model.double_measures_until else model.log_likelihood_table(st.a, st.b),
    )


def _selection_state(runtime: Runtime, pool: PoolState) -> SelectionState:
    """The general :class:`SelectionState` of the answers a :class:`PoolState` records."""
    st = runtime.structure
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    sel = SelectionState.start(
        st,
        1,
        recent=sel_rules.challenges_between_same_competence,
        excluded=~pool.allowed,
    )
    for pos, answered in pool.events:
        sel = _record_general(runtime, sel, pos, answered)
    return sel


def _runtime(state: CatState) -> Runtime:
    if state.runtime is None:
        raise SessionError(
            "this state has no engine attached: rebuild it with CatState.from_dict(..., bank=, rules=)"
        )
    return state.runtime


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
        v2: the positioning profile (:class:`~pixirt.cat.profile.Profile` or its dict).
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
    return replay(state)


def _allowed(runtime: Runtime, candidate: Candidate) -> npt.NDArray[np.bool_]:
    allowed = np.ones(runtime.structure.n_items, dtype=bool)
    if candidate.accessibility:
        if runtime.structure.accessible is None:
            raise DataError(
                "the candidate needs accessible challenges but the bank has no 'accessible' column",
                field="accessible",
            )
        allowed &= runtime.structure.accessible
    return allowed


def _plan_v2(
    runtime: Runtime, profile: Profile, candidate: Candidate, seed: int
) -> tuple[str, ...]:
    """The whole v2 test, 3 challenges per certifiable competence (§2.1): a batch of one."""
    v2 = runtime.rules.v2
    profiles = V2Profiles.from_profiles(
        [profile],
        runtime.structure,
        index=[candidate.index],
        accessibility=[candidate.accessibility],
    )
    if not profiles.certifiable(v2)[0]:
        n_ok = len(profile.certifiable_competences(v2.minimum_competence_level))
        raise DataError(
            f"the profile has {n_ok} certifiable competence(s) (level ≥ {v2.minimum_competence_level}); "
            f"a v2 certification needs at least {v2.minimum_certifiable_competences}",
            field="profile",
        )
    if candidate.accessibility:
        _allowed(runtime, candidate)  # names the missing column
    assert runtime.v2_tables is not None
    planned = v2_rules.plan(profiles, runtime.structure, runtime.v2_tables, v2, seed=seed)
    items = planned.items[0, : planned.length[0]]
    return tuple(str(runtime.structure.item_ids[i]) for i in items.tolist())


# ================================================================== replay
def replay(state: CatState) -> CatState:
    """Rebuild the working state of ``state`` from its answers (after loading it from JSON)."""
    runtime = _runtime(state)
    if state.algorithm == "v2":
        return replace(state, work=Work(None, None))
    sel_rules = runtime.rules.selection
    assert sel_rules is not None and runtime.model is not None
    st = runtime.structure
    allowed = _allowed(runtime, state.candidate)
    cap = runtime.model.initial_state(1)
    if runtime.fast is not None and runtime.fast.pool:
        work = Work(
            cap,
            None,
            PoolState.start(allowed, sel_rules.challenges_between_same_competence),
            runtime,
        )
    else:
        sel = SelectionState.start(
            st, 1, recent=sel_rules.challenges_between_same_competence, excluded=~allowed
        )
        work = Work(cap, sel)
    for k, (cid, status) in enumerate(zip(state.asked, state.statuses, strict=True)):
        work = _advance(runtime, state.asked[:k], state.statuses[:k], work, cid, status)
    return replace(state, work=work)


def _position(runtime: Runtime, cid: str) -> int:
    if runtime.fast is not None:
        return runtime.fast.position.get(str(cid), -1)
    return int(runtime.structure.positions([cid])[0])


def _record_general(
    runtime: Runtime, sel: SelectionState, pos: int, answered: bool
) -> SelectionState:
    """:class:`SelectionState` after an answer (or a withdrawal) at ``pos``."""
    st = runtime.structure
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    if not answered:  # validated live alert: the challenge and its skill leave the pool
        excluded = sel.excluded.copy()
        excluded[0, pos] = True
        if st.skill is not None:
            excluded[0] |= st.skill == st.skill[pos]
        return replace(sel, excluded=excluded)
    return sel.record(
        item=np.array([pos]),
        competence=st.competence[[pos]],
        tube=st.tube[[pos]],
        skill=None if st.skill is None else st.skill[[pos]],
        warm_up_length=sel_rules.warm_up_length,
    )


def _advance(
    runtime: Runtime,
    asked: tuple[str, ...],
    statuses: tuple[str | None, ...],
    work: Work,
    cid: str,
    status: str | None,
) -> Work:
    """The working state after one more answer (``status`` None: a withdrawn challenge).

    ``asked`` and ``statuses`` are the session's challenges before this one.
    """
    st = runtime.structure
    fast = runtime.fast
    assert work.cap is not None and runtime.model is not None
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    pos = _position(runtime, cid)
    if work.pool is not None:
        assert fast is not None
        if status is None:
            return Work(work.cap, None, work.pool.withdraw(fast, pos, st), runtime)
        pool: PoolState | None = work.pool.answer(fast, pos, sel_rules, st)
        sel = None
    else:
        assert work.sel is not None
        sel = _record_general(runtime, work.sel, pos, status is not None)
        if status is None:
            return Work(work.cap, sel)
        pool = None
    model = runtime.model
    if fast is not None and fast.log_factor is not None:
        cap = model.update_single(work.cap, fast.log_factor[int(status == "ok"), pos])
    elif model.double_measures_until:
        # historical pairs: recompute from all answers (only the 2023-era rule sets)
        a, b, ok = _answers(runtime, (*asked, cid), (*statuses, status))
        hist = model.history(a, b, ok)
        cap = model.initial_state(1, np.array([float(hist.final_capacity)]))
        cap = CapacityState(
            capacity=cap.capacity,
            error_rate=np.array([float(hist.final_error_rate)]) if len(a) else cap.error_rate,
            raw_capacity=cap.raw_capacity,
            log_likelihood=cap.log_likelihood,
            n_answers=np.array([len(a)]),
        )
    else:
        cap = model.update(work.cap, st.a[[pos]], st.b[[pos]], np.array([status == "ok"]))
    return Work(cap, sel, pool, runtime if pool is not None else None)


def _answers(
    runtime: Runtime, asked: tuple[str, ...], statuses: tuple[str | None, ...]
) -> tuple[list[float], list[float], list[bool]]:
    st = runtime.structure
    a: list[float] = []
    b: list[float] = []
    ok: list[bool] = []
    for cid, s in zip(asked, statuses, strict=True):
        if s is None:
            continue
        pos = _position(runtime, cid)
        a.append(float(st.a[pos]))
        b.append(float(st.b[pos]))
        ok.append(s == "ok")
    return a, b, ok


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
        state = replay(state)
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
    assert sel_rules is not None and work.cap is not None
    n_answers = state.n_answers
    if n_answers >= sel_rules.test_length:
        return None
    capacity = float(work.cap.capacity[0])
    top_n = sel_rules.top_n
    if work.pool is not None:
        assert runtime.fast is not None
        ranked_list = _rank_fast(
            runtime.fast, work.pool.pool(runtime.fast, sel_rules), capacity, top_n, step
        )
    else:
        assert work.sel is not None
        pool = candidate_pool(st, work.sel, sel_rules)
        if not pool[0].any():
            _lack(step)
        rate = (
            sel_rules.minimum_success_rate_at(n_answers) if sel_rules.minimum_success_rate else None
        )
        ranked = rank_by_information(
            np.array([capacity]), st, pool, top_n=top_n, minimum_success_rate=rate
        )[0]
        ranked_list = [int(i) for i in ranked if i >= 0]
    rank = _pick(
        state.seed, state.candidate.index, step, len(ranked_list), sel_rules.pick_probability
    )
    ids = runtime.fast.ids if runtime.fast is not None else None
    return _choice(
        st,
        ranked_list[rank],
        step,
        capacity=capacity,
        error_rate=float(work.cap.error_rate[0]),
        ranked=tuple(ids[i] if ids is not None else str(st.item_ids[i]) for i in ranked_list),
        rank=rank,
    )


def _lack(step: int) -> NoReturn:
    raise SessionError(
        f"no challenge left for step {step + 1}: the selection rules exclude every challenge "
        "of the bank (Pix's AssessmentLackOfChallengesError)"
    )


def _rank_fast(
    tables: FastTables, pool: BoolArray, capacity: float, top_n: int, step: int
) -> list[int]:
    """The top challenges of the pool by information, best first, ties in bank order.

    Equal to :func:`~pixirt.cat.selection.rank_by_information` (without the historical
    minimum success rate) restricted to its non-negative entries: the information is the
    same :func:`~pixirt.cat.capacity.reward`, element by element, computed on the pool
    only; ``argmax`` returns the first of equal values, so repeated picks give the
    stable order.
    """
    idx = pool.nonzero()[0]
    if not len(idx):
        _lack(step)
    a = tables.a.take(idx)
    # reward(capacity, a, b): the same operations, in place, with a² gathered
    info = tables.b.take(idx)
    info -= capacity
    info *= a
    with np.errstate(over="ignore"):
        np.exp(info, out=info)
    info += 1.0
    np.reciprocal(info, out=info)
    p = info
    info = 1.0 - p
    info *= p
    info *= tables.a2.take(idx)
    out: list[int] = []
    for _ in range(min(top_n, len(idx))):
        j = int(info.argmax())
        out.append(int(idx[j]))
        info[j] = -np.inf
    return out


@lru_cache(maxsize=64)
def _stream_key(seed: int, stream: str) -> int:
    """The per-(seed, stream) key of :mod:`pixirt.streams` (first round of the hash)."""
    return streams._mix_int(
        streams._mix_int((int(seed) + 0x9E3779B97F4A7C15) & _MASK) ^ streams.stream_id(stream)
    )


def _pick(seed: int, candidate: int, step: int, n_available: int, probability: float) -> int:
    """The rank ``binaryTreeRandom`` picks among ``n_available``: :func:`~pixirt.cat.selection.pick_rank`.

    The draws are ``streams.uniform(seed, "v3.pick", candidate, step * 64 + j)``; only
    those that can change the outcome are computed (up to the first hit, never beyond
    rank ``n_available − 1``).
    """
    key = _stream_key(seed, "v3.pick")
    mix = streams._mix_int
    base = candidate * 0xD1B54A32D192ED03 + step * _PICK_STRIDE
    for j in range(n_available - 1):
        u = float(mix(key ^ mix((base + j) & _MASK)) >> 11) * _TWO53
        if 100.0 * u < probability:
            return j
    return max(n_available - 1, 0)


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
    new_work = (
        _advance(runtime, state.asked, state.statuses, work, cid, status)
        if state.algorithm == "v3"
        else Work(None, None)
    )
    return replace(
        state, asked=(*state.asked, cid), statuses=(*state.statuses, status), work=new_work
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
        work=Work(None, None) if state.algorithm == "v2" else _copy(state),
    )


def _copy(state: CatState) -> Work:
    work = state.work
    assert work is not None
    if work.pool is not None:
        return Work(work.cap, None, work.pool, work._runtime)
    return Work(work.cap, work.sel)


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


# ================================================================== scoring
def certification(state: CatState) -> Certification:
    """The session as a :class:`~pixirt.cat.scoring.Certification` (what the scorer reads).

    v2: every planned challenge is listed; those not answered when the session ended
    are *skipped automatically* (Pix's finalization), counted as wrong.
    """
    runtime = _runtime(state)
    st = runtime.structure
    ids = list(state.plan) if state.algorithm == "v2" else list(state.asked)
    answered = dict(zip(state.asked, state.statuses, strict=True))
    challenges = []
    for cid in ids:
        pos = _position(runtime, cid)
        status = answered.get(cid)
        challenges.append(
            CertificationChallenge(
                challenge_id=cid,
                competence=st.competences[int(st.competence[pos])],
                tube=st.tubes[int(st.tube[pos])],
                type=runtime.item_type[pos],
                discriminant=float(st.a[pos]),
                difficulty=float(st.b[pos]),
                neutralized=cid in state.neutralized,
                skipped_automatically=state.algorithm == "v2" and cid not in answered,
                live_alert=cid in answered and status is None,
                status=status,  # type: ignore[arg-type]
            )
        )
    profile: dict[str, Any] = {}
    if state.profile is not None:
        profile = {code: c for code, c in state.profile.competences.items()}
    return Certification(
        challenges=challenges,
        profile=profile,
        abort_reason=state.abort_reason,  # type: ignore[arg-type]
        accessibility_adjustment=state.candidate.accessibility,
        id=state.candidate.id,
    )


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
