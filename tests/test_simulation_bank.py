"""The Pix-like bank generator and simulated answer logs."""

import numpy as np
import pandas as pd
import pytest

from pixirt import DataError, ItemBank, models
from pixirt.simulation import framework, pix_like_bank, simulate_answers


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    return pix_like_bank(seed=0)


def test_structure_follows_the_framework(bank):
    meta = bank.metadata
    assert 2500 <= bank.n_items <= 3500  # "around 3,000" with the defaults
    assert sorted(meta["competence"].unique()) == sorted(framework()["competence"])
    assert len(meta["competence"].unique()) == 16 and meta["area"].nunique() == 5
    tubes = meta.groupby("competence")["tube"].nunique()
    assert tubes.between(6, 12).all()
    assert meta["level"].between(1, 8).all()
    # not every level is present in every tube
    levels_per_tube = meta.groupby("tube")["level"].nunique()
    assert (levels_per_tube < 8).any()
    per_skill = meta.groupby("skill").size()
    assert per_skill.between(1, 4).all()
    # Pix's naming: the tube is the skill name minus its level digit
    assert (meta["skill"].str[:-1] == meta["tube"]).all()
    assert (meta["skill"].str[-1].astype(int) == meta["level"]).all()
    np.testing.assert_array_equal(bank.c, 0.0)


def test_parameters_follow_the_documented_laws(bank):
    level = bank.metadata["level"].to_numpy()
    slope, intercept = np.polyfit(level, bank.b, 1)
    # b = -4 + 1.1 level + N(0, 0.5): with ~3,000 items the fitted line is within a few SEs
    assert slope == pytest.approx(1.1, abs=0.03)
    assert intercept == pytest.approx(-4.0, abs=0.15)
    resid = bank.b - (intercept + slope * level)
    assert resid.std() == pytest.approx(0.5, abs=0.03)
    assert np.exp(np.median(np.log(bank.a))) == pytest.approx(1.2, rel=0.03)
    assert np.log(bank.a).std() == pytest.approx(0.3, abs=0.02)


def test_pix_values_share_eight_pix_per_level(bank):
    meta = bank.metadata.drop_duplicates("skill")
    for (_, _), group in meta.groupby(["competence", "level"]):
        n = len(group)
        assert np.allclose(group["pix_value"], min(4.0, 8.0 / n))


def test_deterministic_for_a_seed():
    assert pix_like_bank(seed=11).hash == pix_like_bank(seed=11).hash
    assert pix_like_bank(seed=11).hash != pix_like_bank(seed=12).hash


def test_bad_parameters():
    with pytest.raises(DataError, match="challenges_per_skill"):
        pix_like_bank(challenges_per_skill=(0.5, 0.4))
    with pytest.raises(DataError, match="level_presence"):
        pix_like_bank(level_presence=0.0)


def test_simulated_answers_sparse_and_reproducible(bank):
    sim = simulate_answers(bank, 3000, answers_per_person=30, seed=4)
    log = sim.log
    assert log.n_answers == 90_000
    assert (np.diff(log.indptr) == 30).all()
    # distinct items per person
    per = log.indices.reshape(3000, 30)
    assert (np.diff(np.sort(per, axis=1), axis=1) > 0).all()
    again = simulate_answers(bank, 3000, answers_per_person=30, seed=4)
    np.testing.assert_array_equal(again.log.answers, log.answers)
    np.testing.assert_array_equal(again.theta, sim.theta)


def test_simulated_answers_follow_the_model(bank):
    sim = simulate_answers(bank, 20_000, answers_per_person=30, seed=1)
    log = sim.log
    p = models.probability(sim.theta[log.person_index], bank.a[log.indices], bank.b[log.indices])
    # observed correct count vs its expectation: within 4 binomial SDs
    assert abs(log.answers.sum() - p.sum()) < 4 * np.sqrt((p * (1 - p)).sum())
    assert sim.theta.mean() == pytest.approx(0.0, abs=0.03)
    assert sim.theta.std() == pytest.approx(1.0, abs=0.03)


def test_simulated_answers_are_block_stable(bank):
    # a full block of persons depends only on (seed, block), not on the total size
    block = 65_536
    small = simulate_answers(bank, block + 5, seed=9)
    big = simulate_answers(bank, block + 3000, seed=9)
    np.testing.assert_array_equal(small.theta[:block], big.theta[:block])
    np.testing.assert_array_equal(small.log.indices[: 30 * block], big.log.indices[: 30 * block])
    np.testing.assert_array_equal(small.log.answers[: 30 * block], big.log.answers[: 30 * block])


def test_dense_simulation_when_k_exceeds_bank():
    tiny = ItemBank.from_frame(
        pd.DataFrame({"item_id": ["a", "b"], "a": [1.0, 1.0], "b": [0.0, 1.0]})
    )
    sim = simulate_answers(tiny, 10, answers_per_person=5, seed=0)
    assert sim.log.n_answers == 20
