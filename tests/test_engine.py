"""The Pix certification engine: v2 planning, v3 selection, resumability, jury actions."""

import json

import numpy as np
import pandas as pd
import pytest

from pixirt import DataError, ItemBank, SessionError, rules
from pixirt import _streams as streams
from pixirt.cat import (
    Candidate,
    CatState,
    CompetenceProfile,
    Profile,
    abort,
    certification,
    deneutralize,
    flag_live_alert,
    neutralize,
    next_challenge,
    record,
    result,
    start,
)
from pixirt.cat._selection import pick_probabilities
from pixirt.simulation import Population, pix_like_bank


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def v3():
    return rules.load("pix-v3")


@pytest.fixture(scope="module")
def v2():
    return rules.load("pix-v2")


def answer(theta, choice, bank, seed, index):
    pos = bank.index_of([choice.challenge_id])[0]
    p = 1 / (1 + np.exp(-bank.a[pos] * (theta - bank.b[pos])))
    return "ok" if streams.uniform(seed, "test.answer", index, choice.step) < p else "ko"


def run(state, bank, theta=0.5, resume=False, rules_=None):
    choices = []
    while (ch := next_challenge(state)) is not None:
        choices.append(ch)
        state = record(
            state, ch.challenge_id, answer(theta, ch, bank, state.seed, state.candidate.index)
        )
        if resume:
            state = CatState.from_dict(
                json.loads(json.dumps(state.to_dict())), bank=bank, rules=rules_
            )
    return state, choices


# ------------------------------------------------------------------ v3
def test_full_v3_session_follows_the_rules(bank, v3):
    state, choices = run(start(bank, v3, candidate=Candidate("c1", 7), seed=11), bank)
    assert len(choices) == 32 and state.n_answers == 32
    assert next_challenge(state) is None
    tubes = [c.tube for c in choices]
    assert len(set(tubes)) == 32, "one question per tube"
    comps = [c.competence for c in choices]
    assert len(set(comps[:16])) == 16, "all 16 competences before any repeat"
    for i in range(2, 32):
        # never the competence of the two previous answers (the bank always has another here)
        assert comps[i] not in comps[i - 2 : i]
    # each choice is among the top 5 by information at its capacity, with the rank recorded
    for c in choices:
        assert c.ranked[c.rank] == c.challenge_id and len(c.ranked) == 5
        pos = bank.index_of(list(c.ranked))
        info = (
            bank.a[pos] ** 2
            * (p := 1 / (1 + np.exp(-bank.a[pos] * (c.capacity - bank.b[pos]))))
            * (1 - p)
        )
        assert np.all(np.diff(info) <= 1e-15)
    res = result(state)
    assert res.status == "validated" and res.n_answers == 32
    assert res.capacity == pytest.approx(
        choices[-1].capacity, abs=3
    )  # same scale, last estimate close


def test_v3_resumed_from_json_at_every_step_is_identical(bank, v3):
    fresh, choices = run(start(bank, v3, candidate=Candidate("c2", 3), seed=5), bank, theta=-0.4)
    resumed, choices2 = run(
        start(bank, v3, candidate=Candidate("c2", 3), seed=5),
        bank,
        theta=-0.4,
        resume=True,
        rules_=v3,
    )
    assert [c.challenge_id for c in choices] == [c.challenge_id for c in choices2]
    assert resumed == fresh
    assert result(resumed).to_dict() == result(fresh).to_dict()


def test_draws_depend_on_seed_and_candidate_index_only(bank, v3):
    a = run(start(bank, v3, candidate=Candidate("x", 9), seed=5), bank)[1]
    b = run(start(bank, v3, candidate=Candidate("another id", 9), seed=5), bank)[1]
    c = run(start(bank, v3, candidate=Candidate("x", 10), seed=5), bank)[1]
    assert [x.challenge_id for x in a] == [x.challenge_id for x in b]
    assert [x.challenge_id for x in a] != [x.challenge_id for x in c]


def test_pick_probabilities_match_binary_tree_random(bank, v3):
    # the first pick of many candidates: rank frequencies vs 0.51, 0.2499, 0.1225, 0.0600, 0.0576
    n = 4000
    ranks = np.array(
        [
            next_challenge(start(bank, v3, candidate=Candidate("c", i), seed=1)).rank
            for i in range(n)
        ]
    )
    freq = np.bincount(ranks, minlength=5) / n
    expected = pick_probabilities(51, 5)
    # binomial 4-SD bands
    assert np.all(np.abs(freq - expected) <= 4 * np.sqrt(expected * (1 - expected) / n))


def test_top5_ordering_at_the_default_capacity(bank, v3):
    ch = next_challenge(start(bank, v3, seed=0))
    assert ch.capacity == -3.0
    info = bank.information(-3.0)
    best = [bank.item_ids[i] for i in np.argsort(-info, kind="stable")[:5]]
    assert list(ch.ranked) == best  # nothing answered yet: the pool is the whole bank


def test_record_refuses_the_wrong_challenge_and_bad_status(bank, v3):
    state = start(bank, v3, seed=3)
    served = next_challenge(state).challenge_id
    other = next(c for c in bank.item_ids if c != served)
    with pytest.raises(SessionError, match="not the one served"):
        record(state, other, "ok")
    with pytest.raises(DataError, match="expected one of"):
        record(state, served, "maybe")
    # the state is unchanged by failed calls
    assert next_challenge(state).challenge_id == served


def test_live_alert_replaces_the_challenge_and_excludes_its_skill(bank, v3):
    state = start(bank, v3, seed=4)
    first = next_challenge(state)
    state = flag_live_alert(state, first.challenge_id)
    assert state.live_alerts == (first.challenge_id,) and state.n_answers == 0
    state, choices = run(state, bank)
    assert len(choices) == 32
    assert all(c.skill != first.skill for c in choices)
    cert = certification(state)
    assert cert.challenges[0].live_alert and cert.challenges[0].status is None
    assert result(state).n_answers == 32


def test_accessibility_only_accessible_challenges(bank, v3):
    _, choices = run(start(bank, v3, candidate=Candidate("a", 1, accessibility=True), seed=2), bank)
    access = bank.metadata["accessible"]
    assert all(access.loc[c.challenge_id] for c in choices)


def test_abort_and_outcomes(bank, v3):
    state = start(bank, v3, seed=6)
    for _ in range(10):
        ch = next_challenge(state)
        state = record(state, ch.challenge_id, "ok")
    with pytest.raises(SessionError, match="not over"):
        result(state)
    aborted = abort(state, "technical")
    assert next_challenge(aborted) is None
    assert result(aborted).status == "cancelled"  # fewer than 20 answers, technical
    with pytest.raises(SessionError, match="already aborted"):
        abort(aborted, "candidate")
    with pytest.raises(SessionError, match="aborted"):
        record(aborted, ch.challenge_id, "ok")


def test_neutralize_and_deneutralize(bank, v3):
    state, choices = run(start(bank, v3, seed=8), bank, theta=1.0)
    before = result(state)
    neutral = neutralize(state, choices[5].challenge_id)
    assert certification(neutral).challenges[5].neutralized
    assert deneutralize(neutral, choices[5].challenge_id) == state
    assert result(deneutralize(neutral, choices[5].challenge_id)).to_dict() == before.to_dict()
    with pytest.raises(SessionError, match="not asked"):
        neutralize(state, "nope")


def test_state_from_dict_checks_bank_and_rules(bank, v3):
    state = start(bank, v3, seed=1)
    data = state.to_dict()
    other_bank = pix_like_bank(seed=1)
    with pytest.raises(DataError, match="started with bank") as info:
        CatState.from_dict(data, bank=other_bank, rules=v3)
    assert info.value.field == "bank_hash"
    with pytest.raises(DataError, match="started with rule set"):
        CatState.from_dict(data, bank=bank, rules=rules.load("pix-v3-2023"))
    with pytest.raises(DataError, match="unknown field"):
        CatState.from_dict({**data, "extra": 1}, bank=bank, rules=v3)


def test_seed_none_is_recorded(bank, v3):
    state = start(bank, v3)
    assert isinstance(state.seed, int) and state.seed >= 0


# ------------------------------------------------------------------ v2
def crafted_bank():
    rows = []

    def add(cid, comp, tube, level, ctype="QCU"):
        rows.append(
            {
                "item_id": cid,
                "a": 1.0,
                "b": float(level),
                "competence": comp,
                "tube": tube,
                "skill": f"{tube}{level}",
                "level": level,
                "type": ctype,
                "accessible": True,
            }
        )

    # competence 1.1: tube @a levels 5,4; tube @b levels 5,3; tube @c level 4
    add("a5-1", "1.1", "@a", 5)
    add("a5-2", "1.1", "@a", 5)
    add("a4-1", "1.1", "@a", 4)
    add("b5-1", "1.1", "@b", 5)
    add("b3-1", "1.1", "@b", 3)
    add("c4-1", "1.1", "@c", 4)
    # competence 1.2: only two skills with challenges, one without any
    add("d2-1", "1.2", "@d", 2)
    add("e1-1", "1.2", "@e", 1, "QROCM-dep")
    # competences 1.3, 2.1, 2.2: one tube, three levels
    for comp, t in (("1.3", "@f"), ("2.1", "@g"), ("2.2", "@h")):
        for lv in (1, 2, 3):
            add(f"{t[1]}{lv}-1", comp, t, lv)
    return ItemBank.from_frame(pd.DataFrame(rows))


def crafted_profile(answered=()):
    return Profile(
        competences={
            "1.1": CompetenceProfile(5, 44, ("@a5", "@a4", "@b5", "@b3", "@c4")),
            "1.2": CompetenceProfile(2, 16, ("@d2", "@e1", "@z9")),
            "1.3": CompetenceProfile(3, 24, ("@f1", "@f2", "@f3")),
            "2.1": CompetenceProfile(3, 24, ("@g1", "@g2", "@g3")),
            "2.2": CompetenceProfile(3, 24, ("@h1", "@h2", "@h3")),
            "2.3": CompetenceProfile(0, 4, ()),
        },
        answered_challenges=answered,
    )


def test_v2_plan_follows_section_2_1(v2):
    bank = crafted_bank()
    state = start(bank, v2, profile=crafted_profile(), seed=0)
    plan = state.plan
    by_comp = {}
    for cid in plan:
        comp = bank.metadata.loc[cid, "competence"]
        by_comp.setdefault(comp, []).append(cid)
    # 1.1: level 5 first (@a5 and @b5: two new tubes), then level 4: @c4 (new tube) before @a4 (tube @a already in)
    first_two = by_comp["1.1"][:2]
    assert {c[:2] for c in first_two} == {"a5", "b5"}
    assert by_comp["1.1"][2] == "c4-1"
    # 1.2: only two skills have challenges (the third skill is not in the content): fewer than 3
    assert by_comp["1.2"] == ["d2-1", "e1-1"]
    # one tube, highest level first
    assert by_comp["1.3"] == ["f3-1", "f2-1", "f1-1"]
    assert "2.3" not in by_comp  # level 0: not certifiable
    assert len(plan) == 3 + 2 + 3 + 3 + 3


def test_v2_prefers_challenges_not_answered_in_positioning(v2):
    bank = crafted_bank()
    for seed in range(20):
        plan = start(bank, v2, profile=crafted_profile(answered=("a5-1",)), seed=seed).plan
        assert "a5-1" not in plan and "a5-2" in plan
    # when every challenge of a skill was answered, fall back to all of them
    plan = start(bank, v2, profile=crafted_profile(answered=("f3-1",)), seed=0).plan
    assert "f3-1" in plan


def test_v2_uniform_pick_among_a_skills_challenges(v2):
    bank = crafted_bank()
    picks = [
        start(bank, v2, profile=crafted_profile(), candidate=Candidate("c", i), seed=3).plan
        for i in range(400)
    ]
    share = np.mean(["a5-1" in p for p in picks])
    assert share == pytest.approx(0.5, abs=4 * np.sqrt(0.25 / 400))


def test_v2_needs_five_certifiable_competences(v2):
    bank = crafted_bank()
    prof = crafted_profile()
    comps = dict(prof.competences)
    comps["2.2"] = CompetenceProfile(0, 2, ())
    with pytest.raises(DataError, match="4 certifiable competence") as info:
        start(bank, v2, profile=Profile(comps), seed=0)
    assert info.value.field == "profile"
    with pytest.raises(DataError, match="positioning profile"):
        start(bank, v2, seed=0)


def test_v2_session_scores_as_pix(v2):
    bank = crafted_bank()
    state = start(bank, v2, profile=crafted_profile(), seed=0)
    while (ch := next_challenge(state)) is not None:
        state = record(state, ch.challenge_id, "ok")
    res = result(state)
    assert res.status == "validated"
    assert res.reproducibility_rate == 100
    assert res.competences["1.1"].level == 5 and res.pix_score == 40 + 16 + 24 + 24 + 24
    with pytest.raises(SessionError, match="v3 only"):
        flag_live_alert(start(bank, v2, profile=crafted_profile(), seed=0), "a5-1")


def test_v2_abort_skips_the_rest_automatically(v2):
    bank = crafted_bank()
    state = start(bank, v2, profile=crafted_profile(), seed=0)
    for _ in range(3):
        ch = next_challenge(state)
        state = record(state, ch.challenge_id, "ok")
    state = abort(state, "candidate")
    cert = certification(state)
    assert sum(c.skipped_automatically for c in cert.challenges) == len(state.plan) - 3
    res = result(state)
    assert res.reproducibility_rate == round(100 * 3 / len(state.plan))
    assert res.status == "rejected"


def test_v2_with_a_simulated_population(bank, v2):
    cands = Population().sample(200, seed=4, bank=bank)
    done = 0
    for row in range(200):
        profile = cands.profile(row)
        if not profile.is_certifiable():
            continue
        state = start(
            bank, v2, profile=profile, candidate=Candidate(f"c{row}", int(cands.index[row])), seed=1
        )
        n_comp = len(profile.certifiable_competences())
        assert len(state.plan) <= 3 * n_comp
        done += 1
    assert done > 150


def test_v3_start_refuses_a_bank_with_a_negative_slope(bank, v3):
    """Issue 18: an ItemBank holds negative slopes (for scoring); the v3 engine does not."""
    a = bank.a.copy()
    a[7] = -0.11
    bad = bank.with_parameters(a=a)
    with pytest.raises(DataError, match=r"non-positive discrimination") as info:
        start(bad, v3, seed=1)
    assert info.value.field == "a" and info.value.row == 8


def test_state_does_not_import_the_engine():
    # issue #20: no engine <-> state circle, not even a function-level import
    import ast
    from pathlib import Path

    import pixirt.cat._rebuild
    import pixirt.cat._runtime
    import pixirt.cat._state

    for module in (pixirt.cat._state, pixirt.cat._rebuild, pixirt.cat._runtime):
        tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
        imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert "pixirt.cat._engine" not in imported, module.__name__
