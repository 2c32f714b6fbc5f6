"""v3 over arrays: the simulator's batches and the per-candidate engine apply the same rules.

- a rule set whose test is shorter than its minimum answers: every candidate is
  rejected, by the simulator as by the engine (it validated them all before);
- the score scale over arrays == the per-certification functions;
- batch == engine == ``replay_candidate`` for random rule variants (hypothesis): warm-up,
  forced competences, success rates, historical double measures, lengths below the
  minimum answers, incidents.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulation_cases import TWO_GROUPS, incidents_at

from pixirt import rules
from pixirt.cat import _scale as scale
from pixirt.cat._v3_words import (
    competence_level,
    mesh_from_score,
    mesh_index_from_capacity,
    pix_score_from_capacity,
)
from pixirt.simulation import Population, pix_like_bank, replay_candidate, simulate


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def edited(rule_id, edit):
    data = rules.load(rule_id).to_dict()
    data["id"] = f"{rule_id}-edited"
    edit(data)
    return rules.RuleSet.from_dict(data, strict=False)  # short tests, on purpose


def _nan_to_none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x


def assert_row_is_engine(row, state, result):
    assert list(state.asked) == list(row["challenges"])
    assert list(state.statuses) == list(row["statuses"])
    assert result.status == row["status"] and result.comment == _nan_to_none(row["comment"])
    assert (result.pix_score or 0) == row["pix_score"]  # no score: 0 in a row
    assert result.n_answers == row["n_answers"]
    assert result.capacity == row["capacity"] and result.error_rate == row["error_rate"]
    assert (result.mesh_index if result.mesh_index is not None else -1) == row["mesh_index"]
    assert (result.global_level or "") == row["global_level"]
    for code, comp in result.competences.items():
        assert comp.level == _nan_to_none(row[f"cert_level_{code}"])


def test_a_test_shorter_than_the_minimum_answers_rejects_everyone(bank):
    def shorten(data):
        data["selection"]["test_length"] = 15  # minimum_answers stays 20

    short = edited("pix-v3", shorten)
    assert short.selection.test_length < short.v3.minimum_answers
    frame = simulate(Population(), bank, short, 200, seed=2).frame
    assert (frame["status"] == "rejected").all()
    assert (frame["comment"] == "REJECTED_DUE_TO_LACK_OF_ANSWERS").all()
    for i in (0, 77, 199):
        state, result = replay_candidate(Population(), bank, short, i, seed=2)
        assert result.status == "rejected"
        assert_row_is_engine(frame.iloc[i], state, result)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.floats(-12, 12, allow_nan=False), which=st.sampled_from(["pix-v3", "pix-v3-2023"])
)
def test_the_scale_over_arrays_is_the_scale_of_one(capacity, which):
    v3 = rules.load(which).v3
    many = np.array([capacity, -capacity, 0.0, capacity / 3])
    pix = scale.pix_scores(many, v3)
    mesh = scale.mesh_indices(many, v3)
    for k, c in enumerate(many.tolist()):
        assert pix[k] == pix_score_from_capacity(c, v3)
        assert (None if mesh[k] < 0 else mesh[k]) == mesh_index_from_capacity(c, v3)
        assert scale.meshes_from_scores(pix, v3)[k] == mesh_from_score(int(pix[k]), v3)
        for code in list(v3.competence_intervals)[:4]:
            lv = scale.competence_levels(many, v3, code)[k]
            assert (None if lv < 0 else lv) == competence_level(c, v3, code)


# ------------------------------------------------------------------ batch == engine
@st.composite
def v3_variants(draw):
    base = draw(st.sampled_from(["pix-v3", "pix-v3-2023"]))
    length = draw(st.integers(4, 36))
    minimum = draw(st.integers(0, 30))
    per_tube = draw(st.booleans())
    passage = draw(st.booleans())
    between = draw(st.integers(0, 3))
    warm_up = draw(st.sampled_from([0, 0, 2, 5]))
    forced = draw(st.sampled_from([(), (), ("1.1", "3.4"), ("5.2",)]))
    top_n = draw(st.integers(1, 6))
    pick = draw(st.sampled_from([51, 51, 100, 20]))
    rate = draw(st.sampled_from([None, None, 0.8, 0.6]))
    doubles = draw(st.sampled_from([0, 0, 0, 4]))

    def edit(data):
        sel = data["selection"]
        sel.update(
            test_length=length,
            one_question_per_tube=per_tube,
            passage_by_all_competences=passage,
            challenges_between_same_competence=between,
            warm_up_length=warm_up,
            forced_competences=list(forced),
            top_n=top_n,
            pick_probability=pick,
        )
        if rate is not None:
            sel["minimum_success_rate"] = [
                {"type": "fixed", "start": 0, "end": 5, "value": rate},
                {"type": "linear", "start": 6, "end": 12, "start_value": rate, "end_value": 0.5},
            ]
        data["scoring"]["v3"]["minimum_answers"] = minimum
        data["capacity"]["double_measures_until"] = doubles

    return edited(base, edit)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ruleset=v3_variants(),
    seed=st.integers(0, 2**20),
    rates=st.tuples(*(st.sampled_from([0.0, 0.05, 0.2]) for _ in range(5))),
)
def test_batch_equals_engine_and_replay(bank, ruleset, seed, rates):
    responder = incidents_at(rates)
    pop = TWO_GROUPS
    frame = simulate(pop, bank, ruleset, 12, seed=seed, chunk_size=5, responder=responder).frame
    for i in range(12):
        state, result = replay_candidate(pop, bank, ruleset, i, seed=seed, responder=responder)
        assert_row_is_engine(frame.iloc[i], state, result)
