"""The v3 capacity estimator (pix-rules.md §3.2): golden cases G7, G8, the quirk, properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixirt import rules
from pixirt.cat import CapacityModel
from pixirt.cat._capacity import (
    answer_log_likelihood,
    capacity_grid,
    class_interval_correction,
    limit_variation,
    posterior,
    probability,
    reward,
)

TOL = 1e-9


# --------------------------------------------------------------------------- an independent oracle
def pix_reference(
    a, b, ok, *, initial, variation_percent=None, grid=None, double_until=0, until=None
):
    """A literal, loop-by-loop transcription of Pix's flash.js in linear space (the test oracle).

    It multiplies probabilities as Pix does (no logs), normalises the prior and the
    posterior separately, and caps with the same branch structure.
    """
    samples = list(capacity_grid()) if grid is None else list(grid)
    likelihood = [1.0] * len(samples)
    latest = initial
    out = []
    i = 0
    while i < len(a):
        v = variation_percent if (until is None or until >= i) else None
        prior = [
            math.exp((s - latest) ** 2 / (-2 * 1.5)) / (math.sqrt(1.5) * math.sqrt(2 * math.pi))
            for s in samples
        ]
        total = sum(prior)
        prior = [p / total for p in prior]
        if double_until > i and i + 1 < len(a):
            idx = [i, i + 1]
        else:
            idx = [i]
        new_likelihood = []
        for k, s in enumerate(samples):
            ps = []
            for j in idx:
                p = 1 / (1 + math.exp(a[j] * (b[j] - s)))
                ps.append(p if ok[j] else 1 - p)
            new_likelihood.append(likelihood[k] * sum(ps) / len(ps))
        likelihood = new_likelihood
        post = [likelihood[k] * prior[k] for k in range(len(samples))]
        total = sum(post)
        post = [p / total for p in post]
        raw = sum(s * p for s, p in zip(samples, post, strict=True))
        if v:
            gap = v if -v < latest < v else abs(latest * v)
            new = min(raw, latest + gap) if raw > latest else max(raw, latest - gap)
        else:
            new = raw
        err = math.sqrt(
            sum(p * (s - new) ** 2 for s, p in zip(samples, post, strict=True)) - (9 / 80) ** 2 / 12
        )
        latest = new
        i += len(idx)
        out.append((new, err, raw))
    return out


# --------------------------------------------------------------------------- grid
def test_quirk_grid_has_81_points_ending_just_below_9():
    g = capacity_grid()
    assert len(g) == 81
    assert g[0] == -9.0
    assert 9.0 - 1e-12 < g[-1] < 9.0
    assert np.allclose(np.diff(g), 0.225)


def test_exact_grid_ends_at_9_and_differs_from_quirk_by_rounding_only():
    exact = capacity_grid(quirk=False)
    assert len(exact) == 81 and exact[-1] == 9.0 and exact[40] == 0.0
    assert not np.array_equal(exact, capacity_grid())
    assert np.max(np.abs(exact - capacity_grid())) < 1e-13


def test_pix_v3_uses_the_quirk_grid_and_2023_the_exact_one():
    assert CapacityModel.from_rules(rules.load("pix-v3")).grid[-1] < 9.0
    assert CapacityModel.from_rules(rules.load("pix-v3-2023")).grid[-1] == 9.0


def test_class_interval_correction_is_pix_constant():
    assert class_interval_correction() == pytest.approx((9 / 80) ** 2 / 12, rel=1e-15)


# --------------------------------------------------------------------------- golden cases
def test_g7_single_answer_from_minus_3_with_cap():
    model = CapacityModel(variation_percent=0.5)
    h = model.history([1.0], [0.0], [True], initial=-3.0)
    assert h.capacity[0] == pytest.approx(-1.7850067679509052, abs=TOL)
    assert h.error_rate[0] == pytest.approx(1.1217971992259812, abs=TOL)
    assert not h.capped[0]  # gap 1.5 allows up to -1.5: not reached


def test_g7_single_answer_from_0_without_cap():
    h = CapacityModel().history([1.0], [0.0], [True], initial=0.0)
    assert h.capacity[0] == pytest.approx(0.578288, abs=1e-6)
    assert h.error_rate[0] == pytest.approx(1.079133, abs=1e-6)


def test_g8_variation_cap_sequence():
    model = CapacityModel.from_rules(rules.load("pix-v3"))
    h = model.history([1.5, 1.5, 1.5], [-1.0, 0.0, 1.0], [True, True, False])
    assert model.default_capacity == -3.0
    np.testing.assert_allclose(
        h.capacity,
        [-1.5530468363313632, -0.7765234181656816, -0.3882617090828408],
        rtol=0,
        atol=TOL,
    )
    np.testing.assert_allclose(
        h.error_rate, [0.983403276215209, 1.185362687996417, 0.9142743531635011], rtol=0, atol=TOL
    )
    np.testing.assert_allclose(h.raw_capacity, [-1.553047, 0.053964, 0.131475], atol=1e-6)
    # step 2 is capped at θ_prev + |θ_prev · 0.5|
    assert h.capacity[1] == pytest.approx(h.capacity[0] + abs(h.capacity[0] * 0.5), abs=1e-15)
    assert h.capped.tolist() == [False, True, True]


def test_g8_without_cap_from_0():
    h = CapacityModel().history([1.5, 1.5, 1.5], [-1.0, 0.0, 1.0], [True, True, False], initial=0.0)
    np.testing.assert_allclose(
        h.capacity, [0.4098739805261552, 1.1068058050099403, 0.8701362134682414], rtol=0, atol=TOL
    )
    assert not h.capped.any()


def test_quirk_counterexample_of_the_spec_capped_capacity_is_not_monotone():
    """Documented Pix quirk (pix-rules.md, last section): a right answer lowers the capped capacity.

    The cap's allowed step jumps from v to |θ_prev·v| when |θ_prev| crosses v, so turning
    the second answer from ko into ok *lowers* the final capacity. Pix behaves this way;
    this test pins the behaviour so that a "fix" cannot slip in unnoticed.
    """
    a = [1.6, 1.26, 0.84, 1.77, 1.72, 1.83, 1.02]
    b = [2.87, 5.24, 6.06, -2.3, -0.48, 7.51, 6.36]
    model = CapacityModel.from_rules(rules.load("pix-v3"))
    wrong = model.history(a, b, [True, False, False, True, False, True, True])
    right = model.history(a, b, [True, True, False, True, False, True, True])
    assert wrong.capacity[-1] == pytest.approx(1.4642, abs=1e-4)
    assert right.capacity[-1] == pytest.approx(1.4062, abs=1e-4)
    assert right.capacity[-1] < wrong.capacity[-1]
    # without the cap the same flip raises the estimate
    free = CapacityModel()
    assert (
        free.history(a, b, [True, True, False, True, False, True, True]).capacity[-1]
        > free.history(a, b, [True, False, False, True, False, True, True]).capacity[-1]
    )


# --------------------------------------------------------------------------- agreement with the oracle
answers = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(0.3, 3.0), min_size=n, max_size=n),
        st.lists(st.floats(-6.0, 8.0), min_size=n, max_size=n),
        st.lists(st.booleans(), min_size=n, max_size=n),
    )
)


@settings(max_examples=60, deadline=None)
@given(
    answers,
    st.floats(-4.0, 4.0),
    st.sampled_from([None, 0.5, 0.3]),
    st.sampled_from([0, 2, 5]),
    st.sampled_from([None, 0, 3]),
)
def test_history_matches_a_literal_transcription_of_pix(ans, initial, v, double_until, until):
    a, b, ok = ans
    model = CapacityModel(
        variation_percent=v or 0.0,
        double_measures_until=double_until,
        variation_percent_until=until,
    )
    h = model.history(a, b, ok, initial=initial)
    expected = pix_reference(
        a, b, ok, initial=initial, variation_percent=v, double_until=double_until, until=until
    )
    measured = np.flatnonzero(h.measured)
    assert len(measured) == len(expected)
    np.testing.assert_allclose(h.capacity[measured], [e[0] for e in expected], rtol=0, atol=1e-10)
    np.testing.assert_allclose(h.error_rate[measured], [e[1] for e in expected], rtol=0, atol=1e-10)
    np.testing.assert_allclose(
        h.raw_capacity[measured], [e[2] for e in expected], rtol=0, atol=1e-10
    )


def test_double_measures_pair_answers_and_never_the_last():
    model = CapacityModel(double_measures_until=4)
    a, b, ok = (
        [1.0, 1.2, 0.8, 1.5, 1.1],
        [0.0, 1.0, -1.0, 0.5, 2.0],
        [True, False, True, True, False],
    )
    h = model.history(a, b, ok, initial=-3.0)
    # pairs (0, 1) and (2, 3) are measured after their second answer; answer 4 alone
    assert h.measured.tolist() == [False, True, False, True, True]
    assert h.capacity[0] == -3.0 and h.error_rate[0] == 5.0  # nothing measured yet
    assert h.capacity[2] == h.capacity[1]
    # an odd last answer of a pair range is measured alone
    h3 = model.history(a[:3], b[:3], ok[:3], initial=-3.0)
    assert h3.measured.tolist() == [False, True, True]


def test_double_measure_likelihood_is_the_mean_of_the_two_probabilities():
    grid = capacity_grid()
    ll = answer_log_likelihood(
        grid, np.array([[1.0, 2.0]]), np.array([[0.0, 1.0]]), np.array([[True, False]])
    )
    p1 = probability(grid, 1.0, 0.0)
    p2 = 1 - probability(grid, 2.0, 1.0)
    np.testing.assert_allclose(np.exp(ll[0]), (p1 + p2) / 2, rtol=1e-12)


def test_variation_percent_until_caps_only_the_first_answers():
    a, b, ok = [1.5] * 4, [-1.0, 0.0, 1.0, 2.0], [True, True, True, True]
    capped_all = CapacityModel(variation_percent=0.5).history(a, b, ok)
    capped_first = CapacityModel(variation_percent=0.5, variation_percent_until=0).history(a, b, ok)
    assert capped_first.capacity[0] == capped_all.capacity[0]
    assert not capped_first.capped[1:].any()
    assert capped_all.capped[1:].any()


# --------------------------------------------------------------------------- properties
@settings(max_examples=80, deadline=None)
@given(answers, st.floats(-4.0, 4.0), st.data())
def test_uncapped_eap_never_decreases_when_a_wrong_answer_becomes_right(ans, initial, data):
    a, b, ok = ans
    wrong = [i for i, x in enumerate(ok) if not x]
    if not wrong:
        return
    i = data.draw(st.sampled_from(wrong))
    flipped = list(ok)
    flipped[i] = True
    model = CapacityModel()
    before = model.history(a, b, ok, initial=initial).capacity[-1]
    after = model.history(a, b, flipped, initial=initial).capacity[-1]
    assert after >= before - 1e-12


@settings(max_examples=40, deadline=None)
@given(answers, st.floats(-3.0, 3.0))
def test_batch_history_equals_candidate_by_candidate(ans, initial):
    a, b, ok = (np.asarray(x) for x in ans)
    model = CapacityModel(variation_percent=0.5, double_measures_until=2)
    ok2 = ~ok
    batch = model.history(
        np.stack([a, a]), np.stack([b, b]), np.stack([ok, ok2]), initial=[initial, -initial]
    )
    one = model.history(a, b, ok, initial=initial)
    two = model.history(a, b, ok2, initial=-initial)
    np.testing.assert_array_equal(batch.capacity[0], one.capacity)
    np.testing.assert_array_equal(batch.capacity[1], two.capacity)
    np.testing.assert_array_equal(batch.error_rate[1], two.error_rate)


def test_update_steps_many_candidates_and_respects_the_active_mask():
    model = CapacityModel.from_rules(rules.load("pix-v3"))
    state = model.initial_state(4)
    assert state.capacity.tolist() == [-3.0] * 4 and state.error_rate.tolist() == [5.0] * 4
    a, b = np.full(4, 1.5), np.array([-1.0, -1.0, 0.0, 0.0])
    ok = np.array([True, False, True, False])
    active = np.array([True, True, True, False])
    new = model.update(state, a, b, ok, active=active)
    assert new.capacity[3] == -3.0 and new.n_answers.tolist() == [1, 1, 1, 0]
    for k in range(3):
        single = model.history([1.5], [b[k]], [ok[k]])
        assert new.capacity[k] == single.capacity[0]
    assert state.n_answers.tolist() == [0, 0, 0, 0]  # states are immutable values


def test_no_answer_keeps_the_initial_capacity_and_default_error():
    model = CapacityModel.from_rules(rules.load("pix-v3"))
    h = model.history([], [], [])
    assert h.final_capacity == -3.0
    assert math.isnan(h.final_error_rate)
    assert model.initial_state().error_rate[0] == 5.0


def test_long_tests_do_not_underflow():
    rng = np.random.default_rng(3)
    n = 400
    a = rng.uniform(2.0, 3.0, n)
    b = rng.uniform(-8.0, 8.0, n)
    ok = rng.random(n) < 0.5
    h = CapacityModel(variation_percent=0.5).history(a, b, ok)
    assert np.all(np.isfinite(h.capacity)) and np.all(np.isfinite(h.error_rate))


# --------------------------------------------------------------------------- kernels
def test_limit_variation_branches():
    assert limit_variation(-3.0, -1.0, 0.5) == pytest.approx(-1.5)  # |θ·v| = 1.5
    assert limit_variation(-3.0, -3.5, 0.5) == pytest.approx(-3.5)  # within the gap
    assert limit_variation(0.2, 1.0, 0.5) == pytest.approx(0.7)  # small θ: gap = v
    assert limit_variation(0.2, -1.0, 0.5) == pytest.approx(-0.3)
    assert limit_variation(0.2, -1.0, 0.0) == pytest.approx(-1.0)  # v = 0: no cap
    # the gap switches at |θ| = v (not strictly inside): |0.5·0.5| = 0.25
    assert limit_variation(0.5, 2.0, 0.5) == pytest.approx(0.75)


def test_probability_and_reward_use_pix_formulas():
    assert probability(0.0, 1.0, 0.0) == 0.5
    assert probability(1.0, 2.0, 0.0) == pytest.approx(1 / (1 + math.exp(2.0 * (0.0 - 1.0))))
    p = 1 / (1 + math.exp(1.3 * (0.4 - -0.2)))
    assert reward(-0.2, 1.3, 0.4) == pytest.approx(p * (1 - p) * 1.3**2, rel=1e-15)


def test_posterior_rows_are_normalised():
    grid = capacity_grid()
    post = posterior(np.zeros((2, grid.size)), np.array([-3.0, 1.0]), grid, 1.5)
    np.testing.assert_allclose(post.sum(axis=1), 1.0)
    # flat likelihood: the prior mean, up to the truncation of the normal at the grid's ends
    np.testing.assert_allclose(post @ grid, [-3.0, 1.0], atol=1e-5)
