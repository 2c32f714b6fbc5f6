"""The engine's batch of one: the shortlist ranking equals the general path, bit for bit.

A v3 session is a :class:`~pixirt.cat._batch.SessionBatch` of one. Its general path
(``engine.rebuild(state, fast=False)``) ranks with ``candidate_pool`` and
``rank_by_information`` only; whole sessions run in lockstep on both paths under many
rule variants, answers, live alerts and resumptions; ``update_single`` (the batch's
in-place capacity step on one row) equals ``CapacityModel.update``.
"""

from __future__ import annotations

import json
import struct

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixirt import ItemBank, SessionError, rules
from pixirt.cat import Candidate, CapacityModel, CapacityState, CatState
from pixirt.cat import _engine as engine
from pixirt.cat._capacity import answer_log_likelihood
from pixirt.rules import RuleSet
from pixirt.simulation import pix_like_bank

V3 = rules.load("pix-v3")
V3_2023 = rules.load("pix-v3-2023")
STATUSES = ("ok", "ko", "aband", "timedout")


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    return pix_like_bank(seed=0)


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


def same_array(x: np.ndarray, y: np.ndarray) -> bool:
    """Equal shapes, dtypes and bytes (signed zeros and NaN payloads included)."""
    return x.shape == y.shape and x.dtype == y.dtype and x.tobytes() == y.tobytes()


def variant(base: RuleSet, *, selection=None, capacity=None, test_length=None) -> RuleSet:
    data = base.to_dict()
    data["id"] = f"{base.id}-variant"
    if selection:
        data["selection"] = {**data["selection"], **selection}
    if capacity:
        data["capacity"] = {**data["capacity"], **capacity}
    if test_length:
        data["selection"]["test_length"] = test_length
    return RuleSet.from_dict(data, strict=False)  # tests shorter than the minimum answers too


def general(state: CatState) -> CatState:
    """The same session on the general path."""
    return engine.rebuild(state, fast=False)


def assert_same_work(fast: CatState, slow: CatState) -> None:
    wf, ws = fast.work, slow.work
    assert wf is not None and ws is not None
    assert not ws.batch.fast  # the general path (the fast one where its rules allow)
    for name in ("capacity", "error_rate", "raw_capacity", "log_likelihood", "n_answers"):
        assert same_array(getattr(wf.cap, name), getattr(ws.cap, name)), name
    for name in (
        "excluded",
        "answered_tubes",
        "answered_skills",
        "seen_competences",
        "recent_competences",
        "n_answers",
    ):
        assert same_array(getattr(wf.batch.sel, name), getattr(ws.batch.sel, name)), name


def lockstep(fast: CatState, actions, bank: ItemBank, *, resume_every: int = 0):
    """Run one session on both paths; return the two final states and the choices."""
    slow = general(fast)
    choices = []
    for k, action in enumerate(actions):
        try:
            cf = engine.next_challenge(fast)
        except SessionError as exc:
            with pytest.raises(SessionError) as info:
                engine.next_challenge(slow)
            assert str(info.value) == str(exc)
            break
        cs = engine.next_challenge(slow)
        assert (cf is None) == (cs is None)
        if cf is None:
            break
        assert cf.to_dict() == cs.to_dict()
        assert bits(cf.capacity) == bits(cs.capacity)
        assert bits(cf.error_rate) == bits(cs.error_rate)
        choices.append(cf)
        if action == "alert":
            fast = engine.flag_live_alert(fast, cf.challenge_id)
            slow = engine.flag_live_alert(slow, cs.challenge_id)
        else:
            fast = engine.record(fast, cf.challenge_id, action)
            slow = engine.record(slow, cs.challenge_id, action)
        assert_same_work(fast, slow)
        if resume_every and k % resume_every == 0:
            data = json.loads(json.dumps(fast.to_dict()))
            fast = CatState.from_dict(data, bank=bank, rules=fast.runtime.rules)
            slow = general(CatState.from_dict(data, bank=bank, rules=fast.runtime.rules))
            assert_same_work(fast, slow)
    return fast, slow, choices


# ------------------------------------------------------------------ the pieces
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    a=st.lists(st.floats(0.2, 4.0), min_size=1, max_size=12),
    b_shift=st.floats(-3, 3),
    pattern=st.lists(st.booleans(), min_size=12, max_size=12),
    variation=st.sampled_from([0.0, 0.5]),
    until=st.sampled_from([None, 0, 3]),
    start=st.floats(-4, 4),
)
def test_update_single_equals_update(a, b_shift, pattern, variation, until, start):
    model = CapacityModel(variation_percent=variation, variation_percent_until=until)
    a_ = np.asarray(a)
    b_ = np.linspace(-2, 2, len(a)) + b_shift
    table = model.log_likelihood_table(a_, b_)
    fast = slow = model.initial_state(1, np.array([start]))
    for i in range(len(a)):
        ok = pattern[i]
        want_factor = answer_log_likelihood(model.grid, a_[[i]], b_[[i]], np.array([ok]))[0]
        assert same_array(table[int(ok), i], want_factor)
        fast = model.update_single(fast, table[int(ok), i])
        slow = model.update(slow, a_[[i]], b_[[i]], np.array([ok]))
        for name in CapacityState.__slots__:
            assert same_array(getattr(fast, name), getattr(slow, name)), name


def test_the_fast_path_serves_pix_rule_sets_and_not_historical_ones(bank):
    assert engine.start(bank, V3, seed=0).work.batch.fast
    assert engine.start(bank, V3_2023, seed=0).work.batch.fast
    forced = variant(V3, selection={"forced_competences": ["1.1"]})
    assert not engine.start(bank, forced, seed=0).work.batch.fast
    warm = variant(V3, selection={"warm_up_length": 2})
    assert not engine.start(bank, warm, seed=0).work.batch.fast


# ------------------------------------------------------------------ whole sessions
def test_full_session_identical_on_both_paths(bank):
    state = engine.start(bank, V3, candidate=Candidate("c", 7), seed=11)
    actions = [STATUSES[(k * 7) % 4] for k in range(40)]
    fast, slow, choices = lockstep(state, actions, bank)
    assert len(choices) == 32 and fast == slow
    assert engine.result(fast).to_dict() == engine.result(slow).to_dict()


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    seed=st.integers(0, 2**63 - 1),
    index=st.integers(0, 10_000),
    accessibility=st.booleans(),
    actions=st.lists(st.sampled_from([*STATUSES, "alert"]), min_size=1, max_size=34),
    one_per_tube=st.booleans(),
    passage=st.booleans(),
    between=st.integers(0, 3),
    warm_up=st.sampled_from([0, 0, 2, 5]),
    variation=st.sampled_from([(0.5, "all"), (0.0, "all"), (0.5, 4)]),
    test_length=st.sampled_from([12, 20, 32]),
    resume_every=st.sampled_from([0, 0, 5]),
)
def test_random_sessions_identical_on_both_paths(
    bank,
    seed,
    index,
    accessibility,
    actions,
    one_per_tube,
    passage,
    between,
    warm_up,
    variation,
    test_length,
    resume_every,
):
    rule_set = variant(
        V3,
        selection={
            "one_question_per_tube": one_per_tube,
            "passage_by_all_competences": passage,
            "challenges_between_same_competence": between,
            "warm_up_length": warm_up,
        },
        capacity={"variation_percent": variation[0], "variation_percent_until": variation[1]},
        test_length=test_length,
    )
    state = engine.start(
        bank, rule_set, candidate=Candidate("c", index, accessibility=accessibility), seed=seed
    )
    fast, slow, _ = lockstep(state, actions, bank, resume_every=resume_every)
    assert fast == slow


def crafted_bank() -> ItemBank:
    """Two competences, few tubes: the rules run out of challenges within a few steps."""
    rows = []
    for k in range(8):
        comp = "1.1" if k < 5 else "1.2"
        rows.append(
            {
                "item_id": f"x{k}",
                "a": 1.0 + 0.25 * (k % 3),
                "b": [-1.0, 0.0, 0.0, 1.0][k % 4],
                "competence": comp,
                "tube": f"@{comp}t{k // 2}",
                "skill": f"@{comp}t{k // 2}{k % 2}",
                "accessible": k % 3 != 0,
            }
        )
    return ItemBank.from_frame(pd.DataFrame(rows))


@pytest.mark.parametrize("one_per_tube", [True, False])
@pytest.mark.parametrize("between", [0, 1, 2])
@pytest.mark.parametrize("passage", [True, False])
def test_small_bank_runs_out_identically(one_per_tube, between, passage):
    small = crafted_bank()
    rule_set = variant(
        V3,
        selection={
            "one_question_per_tube": one_per_tube,
            "passage_by_all_competences": passage,
            "challenges_between_same_competence": between,
        },
        test_length=10,
    )
    for seed in range(4):
        state = engine.start(small, rule_set, seed=seed)
        actions = ["alert" if (seed + k) % 5 == 0 else STATUSES[k % 4] for k in range(12)]
        fast, slow, choices = lockstep(state, actions, small)
        assert fast == slow
        assert choices  # the first step always has challenges


def test_abort_neutralize_keep_the_fast_state(bank):
    state = engine.start(bank, V3, seed=3)
    for _ in range(6):
        ch = engine.next_challenge(state)
        state = engine.record(state, ch.challenge_id, "ok")
    neutral = engine.neutralize(state, state.asked[2])
    assert neutral.work.batch is state.work.batch
    assert engine.next_challenge(neutral) == engine.next_challenge(state)
    aborted = engine.abort(state, "candidate")
    assert aborted.work.batch is state.work.batch
    assert engine.next_challenge(aborted) is None


def test_old_states_are_not_changed_by_later_steps(bank):
    """A step works on a copy of the batch, never in place: a state can branch."""
    state = engine.start(bank, V3, seed=9)
    for _ in range(4):
        state = engine.record(state, engine.next_challenge(state).challenge_id, "ko")
    batch = state.work.batch
    before = {
        "excluded": batch.sel.excluded.copy(),
        "avail_comp": batch.counts.avail_comp.copy(),
        "log_likelihood": batch.cap.log_likelihood.copy(),
        "asked": batch.asked.copy(),
    }
    served = engine.next_challenge(state)
    one = engine.record(state, served.challenge_id, "ok")
    two = engine.record(state, served.challenge_id, "ko")
    engine.next_challenge(one)
    engine.flag_live_alert(state, served.challenge_id)
    now = {
        "excluded": batch.sel.excluded,
        "avail_comp": batch.counts.avail_comp,
        "log_likelihood": batch.cap.log_likelihood,
        "asked": batch.asked,
    }
    for k, value in before.items():
        assert same_array(now[k], value), k
    assert engine.next_challenge(state) == served
    assert one.asked == two.asked and one.statuses != two.statuses
