"""v3 selection rules used by the score degradation (pix-rules.md §3.3), and G12."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixirt import ItemBank, rules
from pixirt.cat import BankStructure, SelectionState, candidate_pool, pick_rank, rank_by_information
from pixirt.cat._capacity import reward
from pixirt.cat._selection import pick_probabilities
from pixirt.exceptions import DataError

SEL = rules.load("pix-v3").selection


def small_bank() -> ItemBank:
    """Three competences, two tubes each, two skills per tube, one challenge per skill."""
    rows = []
    k = 0
    for comp in ("1.1", "1.2", "2.1"):
        for t in (1, 2):
            tube = f"@{comp.replace('.', '_')}t{t}"
            for level in (2, 4):
                k += 1
                rows.append(
                    {
                        "item_id": f"ch{k:02d}",
                        "a": 1.0 + 0.1 * k,
                        "b": -2.0 + 0.35 * k,
                        "competence": comp,
                        "tube": tube,
                        "skill": f"{tube}{level}",
                        "accessible": k % 2 == 0,
                    }
                )
    return ItemBank.from_frame(pd.DataFrame(rows))


@pytest.fixture(scope="module")
def structure() -> BankStructure:
    return BankStructure.from_bank(small_bank())


def answered(structure, ids, *, warm_up=0, recent=2, excluded=None):
    state = SelectionState.start(structure, 1, recent=recent, excluded=excluded)
    for cid in ids:
        pos = structure.positions([cid])
        state = state.record(
            item=pos,
            competence=structure.competence[pos],
            tube=structure.tube[pos],
            skill=structure.skill[pos],
            warm_up_length=warm_up,
        )
    return state


def ids_of(structure, mask_row):
    return [str(i) for i in structure.item_ids[np.flatnonzero(mask_row)]]


def rules_with(**changes):
    return SEL.model_copy(update=changes)


# --------------------------------------------------------------------------- G12
def test_g12_pick_probabilities():
    np.testing.assert_allclose(
        pick_probabilities(51, 5), [0.51, 0.2499, 0.122451, 0.060001, 0.057648], atol=1e-6
    )
    assert pick_probabilities(51, 5).sum() == pytest.approx(1.0)
    assert pick_probabilities(100, 5).tolist() == [1.0, 0.0, 0.0, 0.0, 0.0]
    assert pick_probabilities(51, 1).tolist() == [1.0]


def test_pick_rank_follows_binary_tree_random():
    u = np.array(
        [[0.50, 0.9, 0.9, 0.9], [0.60, 0.30, 0.9, 0.9], [0.9, 0.9, 0.9, 0.9], [0.9, 0.9, 0.9, 0.9]]
    )
    assert pick_rank(u, 51, [5, 5, 5, 2]).tolist() == [0, 1, 4, 1]
    assert pick_rank(np.full((3, 4), 0.999), 100, [5, 3, 1]).tolist() == [0, 0, 0]
    rng = np.random.default_rng(0)
    draws = pick_rank(rng.random((200_000, 4)), 51, np.full(200_000, 5))
    np.testing.assert_allclose(
        np.bincount(draws, minlength=5) / 200_000, pick_probabilities(51, 5), atol=0.004
    )


# --------------------------------------------------------------------------- pool rules
def test_structure_codes_the_bank(structure):
    assert structure.n_items == 12
    assert structure.competences == ("1.1", "1.2", "2.1")
    assert len(structure.tubes) == 6 and len(structure.skills) == 12
    assert structure.positions(["ch03", "nope"]).tolist() == [2, -1]


def test_bank_without_tube_is_a_data_error():
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": ["x"], "a": [1.0], "b": [0.0], "competence": ["1.1"]})
    )
    with pytest.raises(DataError, match="tube"):
        BankStructure.from_bank(bank)


def test_one_question_per_tube_and_passage_by_all_competences(structure):
    state = answered(structure, ["ch01"])  # 1.1, tube t1
    pool = candidate_pool(structure, state, SEL)[0]
    # passage by all competences restarts from all challenges: only 1.2 and 2.1 remain
    assert ids_of(structure, pool) == [f"ch{k:02d}" for k in range(5, 13)]
    # without it, one question per tube removes tube t1 of 1.1 only
    no_passage = rules_with(passage_by_all_competences=False, challenges_between_same_competence=0)
    assert ids_of(structure, candidate_pool(structure, state, no_passage)[0]) == [
        f"ch{k:02d}" for k in range(3, 13)
    ]


def test_passage_by_all_competences_falls_back_when_every_competence_is_seen(structure):
    state = answered(structure, ["ch01", "ch05", "ch09"])
    pool = candidate_pool(structure, state, rules_with(challenges_between_same_competence=0))[0]
    # all three competences answered: the tube rule's output is kept
    assert ids_of(structure, pool) == ["ch03", "ch04", "ch07", "ch08", "ch11", "ch12"]


def test_passage_restarts_from_all_challenges_not_from_the_tube_rule(structure):
    """Pix's caveat: the competence rule ignores the tube rule's output."""
    state = answered(structure, ["ch01", "ch05"])  # tubes 1.1/t1 and 1.2/t1 answered
    state = SelectionState(
        excluded=state.excluded,
        answered_tubes=state.answered_tubes
        | (np.arange(len(structure.tubes)) == structure.tube[8])[None, :],
        answered_skills=state.answered_skills,
        seen_competences=state.seen_competences,
        recent_competences=state.recent_competences,
        n_answers=state.n_answers,
    )  # pretend tube 2.1/t1 was answered too, without its competence being seen
    pool = candidate_pool(structure, state, rules_with(challenges_between_same_competence=0))[0]
    assert ids_of(structure, pool) == ["ch09", "ch10", "ch11", "ch12"]  # 2.1/t1 is back


def test_challenges_between_same_competence(structure):
    state = answered(structure, ["ch01", "ch05", "ch09"])
    no_passage = rules_with(passage_by_all_competences=False, challenges_between_same_competence=2)
    # last two answers are in 1.2 and 2.1: only 1.1 is proposed
    assert ids_of(structure, candidate_pool(structure, state, no_passage)[0]) == ["ch03", "ch04"]
    one = rules_with(passage_by_all_competences=False, challenges_between_same_competence=1)
    assert ids_of(structure, candidate_pool(structure, state, one)[0]) == [
        "ch03",
        "ch04",
        "ch07",
        "ch08",
    ]


def test_challenges_between_same_competence_gives_way_when_nothing_is_left(structure):
    state = answered(structure, ["ch01", "ch03"], excluded=np.arange(12) >= 4)
    pool = candidate_pool(
        structure, state, rules_with(passage_by_all_competences=False, one_question_per_tube=False)
    )[0]
    assert ids_of(structure, pool) == ["ch02", "ch04"]


def test_non_answered_skills_when_tubes_are_not_limited(structure):
    state = answered(structure, ["ch01"])
    skills_rule = rules_with(
        one_question_per_tube=False,
        passage_by_all_competences=False,
        challenges_between_same_competence=0,
    )
    assert ids_of(structure, candidate_pool(structure, state, skills_rule)[0]) == [
        f"ch{k:02d}" for k in range(2, 13)
    ]
    bank = ItemBank.from_frame(small_bank().to_frame().drop(columns=["skill"]))
    with pytest.raises(DataError, match="skill"):
        candidate_pool(
            BankStructure.from_bank(bank), answered(BankStructure.from_bank(bank), []), skills_rule
        )


def test_forced_competences_and_warm_up(structure):
    forced = rules_with(
        forced_competences=("2.1",),
        passage_by_all_competences=False,
        challenges_between_same_competence=0,
    )
    assert ids_of(structure, candidate_pool(structure, answered(structure, ["ch01"]), forced)[0]) == [
        "ch09", "ch10", "ch11", "ch12"
    ]  # fmt: skip
    # once 2.1 is answered the rule lets everything through
    after = answered(structure, ["ch01", "ch09"])
    assert "ch05" in ids_of(structure, candidate_pool(structure, after, forced)[0])
    # during the warm-up the competence rules are inactive and ignore warm-up answers
    warm = rules_with(warm_up_length=2, challenges_between_same_competence=0)
    state = answered(structure, ["ch01"], warm_up=2)
    assert "ch03" in ids_of(structure, candidate_pool(structure, state, warm)[0])
    state = answered(structure, ["ch01", "ch05"], warm_up=2)
    assert state.seen_competences.sum() == 0
    # after the warm-up the passage rule applies with no competence seen: it restarts from
    # every challenge not answered, even those of answered tubes (Pix's caveat)
    pool = ids_of(structure, candidate_pool(structure, state, warm)[0])
    assert pool == [f"ch{k:02d}" for k in range(1, 13) if k not in (1, 5)]


def test_exclusions_and_vectorised_rows(structure):
    base = SelectionState.start(
        structure, 2, recent=2, excluded=np.array([[True] * 6 + [False] * 6, [False] * 12])
    )
    state = base.record(
        item=np.array([8, 0]),
        competence=structure.competence[[8, 0]],
        tube=structure.tube[[8, 0]],
        skill=structure.skill[[8, 0]],
    )
    pool = candidate_pool(structure, state, SEL)
    assert ids_of(structure, pool[0]) == ["ch07", "ch08"]  # 1.2 only: 1.1 excluded, 2.1 answered
    alone = candidate_pool(structure, answered(structure, ["ch01"]), SEL)[0]
    assert ids_of(structure, pool[1]) == ids_of(structure, alone)


# --------------------------------------------------------------------------- ranking
def test_rank_by_information_descending_with_ties_in_bank_order(structure):
    pool = np.ones((1, 12), dtype=bool)
    pool[0, 3] = False
    ranked = rank_by_information(np.array([0.0]), structure, pool, top_n=5)[0]
    info = reward(0.0, structure.a, structure.b)
    info[3] = -np.inf
    assert ranked.tolist() == np.argsort(-info, kind="stable")[:5].tolist()
    tied = BankStructure.from_bank(
        ItemBank.from_frame(
            pd.DataFrame(
                {
                    "item_id": ["z", "y", "x"],
                    "a": 1.0,
                    "b": [0.5, 0.0, 0.5],
                    "competence": "1.1",
                    "tube": ["t1", "t2", "t3"],
                }
            )
        )
    )
    assert rank_by_information(np.array([0.0]), tied, np.ones((1, 3), bool), top_n=3)[
        0
    ].tolist() == [1, 0, 2]


def test_rank_pads_with_minus_one_and_ranks_each_candidate_at_its_capacity(structure):
    pool = np.zeros((2, 12), dtype=bool)
    pool[:, :2] = True
    ranked = rank_by_information(np.array([-3.0, 3.0]), structure, pool, top_n=5)
    assert ranked[:, 2:].tolist() == [[-1, -1, -1]] * 2
    assert sorted(ranked[0, :2].tolist()) == [0, 1]


def test_minimum_success_rate_puts_easy_enough_challenges_first(structure):
    pool = np.ones((1, 12), dtype=bool)
    best = rank_by_information(np.array([0.0]), structure, pool, top_n=12)[0]
    easy = rank_by_information(
        np.array([0.0]), structure, pool, top_n=12, minimum_success_rate=0.8
    )[0]
    p = 1 / (1 + np.exp(structure.a * (structure.b - 0.0)))
    meets = p >= 0.8
    assert meets.any() and not meets.all()
    assert set(easy[: meets.sum()].tolist()) == set(np.flatnonzero(meets).tolist())
    assert easy.tolist() != best.tolist()


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_ranking_equals_a_full_stable_sort_with_ties_and_small_pools(data):
    n_items = data.draw(st.integers(1, 25))
    a = data.draw(st.lists(st.sampled_from([0.5, 1.0, 1.5]), min_size=n_items, max_size=n_items))
    b = data.draw(st.lists(st.sampled_from([-1.0, 0.0, 1.0]), min_size=n_items, max_size=n_items))
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{k}" for k in range(n_items)],
                "a": a,
                "b": b,
                "competence": "1.1",
                "tube": "t",
            }
        )
    )
    structure = BankStructure.from_bank(bank)
    n = data.draw(st.integers(1, 4))
    pool = np.array(
        data.draw(st.lists(st.booleans(), min_size=n * n_items, max_size=n * n_items))
    ).reshape(n, n_items)
    theta = np.array(data.draw(st.lists(st.sampled_from([-1.0, 0.0, 0.5]), min_size=n, max_size=n)))
    top_n = data.draw(st.integers(1, 7))
    got = rank_by_information(theta, structure, pool, top_n=top_n)
    for r in range(n):
        info = np.where(pool[r], reward(theta[r], structure.a, structure.b), -np.inf)
        order = [int(i) for i in np.argsort(-info, kind="stable") if pool[r, i]][:top_n]
        assert got[r].tolist() == order + [-1] * (top_n - len(order))
