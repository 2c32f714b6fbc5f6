"""Parameter recovery on simulated sparse logs, fixed-item calibration and invariants.

RMSE bounds come from the expected information. With θ known, item j answered by n_j
persons drawn from N(0, 1) has the 2PL information
``n_j E_θ[P(1 − P) (∂z)(∂z)ᵀ]`` in ``(a, b)`` with ``z = a(θ − b)``; its inverse gives
the smallest achievable SEs. MML does not know θ (each person gives 30 answers), which
inflates the SEs by about 15% here; the RMSE over 300 items has a sampling error of
about 4% (√(1/(2·300))). So we require ``0.85 ≤ RMSE / rms(SE_θ known) ≤ 1.35``, and the
estimates divided by their own reported SEs must have ``mean(z²)`` within [0.75, 1.3]
(expected 1; its sampling SD over 300 items is about 0.08).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

from pixirt import ItemBank, models
from pixirt._answers import SimulatedAnswers
from pixirt.calibration import CalibrationResult, calibrate
from pixirt.simulation import simulate_answers

N_PERSONS, N_ITEMS, PER_PERSON = 30_000, 300, 30


def _bank(
    n_items: int, seed: int, *, c: npt.NDArray[np.float64] | None = None, prefix: str = "i"
) -> ItemBank:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "item_id": [f"{prefix}{j:04d}" for j in range(n_items)],
            "a": np.exp(rng.normal(0.0, 0.3, n_items)),
            "b": rng.normal(0.0, 1.0, n_items),
        }
    )
    if c is not None:
        frame["c"] = c
    return ItemBank.from_frame(frame)


def _known_theta_se(
    bank: ItemBank, n: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """SEs of (a, b) if every θ were known, from the expected 2PL information over N(0, 1)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(61)
    weights = weights / weights.sum()
    a, b = bank.a, bank.b
    p = models.probability(nodes[:, None], a, b)
    pq = p * (1 - p)
    dt = nodes[:, None] - b
    i_aa = n * (weights @ (pq * dt**2))
    i_bb = n * a**2 * (weights @ pq)
    i_ab = -n * a * (weights @ (pq * dt))
    det = i_aa * i_bb - i_ab**2
    return np.sqrt(i_bb / det), np.sqrt(i_aa / det)


def _rmse(x: Any, y: Any) -> float:
    return float(np.sqrt(np.mean((np.asarray(x, dtype=float) - np.asarray(y, dtype=float)) ** 2)))


@pytest.fixture(scope="module")
def sim() -> SimulatedAnswers:
    return simulate_answers(_bank(N_ITEMS, 11), N_PERSONS, answers_per_person=PER_PERSON, seed=12)


@pytest.fixture(scope="module")
def fit(sim: SimulatedAnswers) -> CalibrationResult:
    return calibrate(sim.log, "2PL", tol=1e-6, progress=False)


def test_2pl_recovery_within_information_bounds(
    sim: SimulatedAnswers, fit: CalibrationResult
) -> None:
    assert fit.converged
    est = fit.to_frame().loc[sim.bank.item_ids]
    n = sim.log.item_stats()["n_answers"].to_numpy()
    se_a, se_b = _known_theta_se(sim.bank, n)
    ratio_a = _rmse(est["a"], sim.bank.a) / float(np.sqrt(np.mean(se_a**2)))
    ratio_b = _rmse(est["b"], sim.bank.b) / float(np.sqrt(np.mean(se_b**2)))
    assert 0.85 <= ratio_a <= 1.35, ratio_a
    assert 0.85 <= ratio_b <= 1.35, ratio_b
    z2_a = float(np.mean(((est["a"] - sim.bank.a) / est["se_a"]) ** 2))
    z2_b = float(np.mean(((est["b"] - sim.bank.b) / est["se_b"]) ** 2))
    assert 0.75 <= z2_a <= 1.3, z2_a
    assert 0.75 <= z2_b <= 1.3, z2_b
    # the results come back on the N(0, 1) scale: no rescaling needed
    assert (
        abs(float(np.mean(est["b"] - sim.bank.b)))
        < 4 * float(np.sqrt(np.mean(se_b**2)) / np.sqrt(N_ITEMS)) + 0.02
    )
    assert fit.bank.latent_mean == 0.0 and fit.bank.latent_variance == 1.0


def test_plain_em_history_never_decreases_and_reaches_the_same_fixed_point(
    sim: SimulatedAnswers, fit: CalibrationResult
) -> None:
    plain = calibrate(sim.log, "2PL", tol=1e-6, progress=False, accelerate="none", se="none")
    assert plain.converged
    steps = np.diff(plain.history)
    assert steps.min() >= -1e-10 * abs(plain.history[-1])
    assert len(plain.history) == plain.n_iter
    # SQUAREM's safeguard keeps the accepted path monotone too
    assert np.diff(fit.history).min() >= -1e-10 * abs(fit.history[-1])
    # same fixed point: plain EM stops within step·λ/(1 − λ) of it
    np.testing.assert_allclose(plain.bank.a, fit.bank.a, atol=2e-4)
    np.testing.assert_allclose(plain.bank.b, fit.bank.b, atol=2e-4)
    assert plain.loglik == pytest.approx(fit.loglik, abs=1e-3)
    assert fit.n_iter < plain.n_iter


def test_item_block_standard_errors_are_close_to_full_on_sparse_data(
    fit: CalibrationResult, sim: SimulatedAnswers
) -> None:
    """On a sparse log the cross-item terms are small: item blocks lose under 3% (and are never larger)."""
    blocks = calibrate(sim.log, "2PL", tol=1e-6, progress=False, se="items")
    assert blocks.se_method == "Louis, item blocks"
    full = fit.to_frame()
    approx = blocks.to_frame()
    for col in ("se_a", "se_b"):
        rel = approx[col] / full[col] - 1
        assert float(rel.abs().max()) < 0.03
        assert float(rel.max()) < 1e-3


def test_fixed_items_reproduce_the_joint_estimates(
    sim: SimulatedAnswers, fit: CalibrationResult
) -> None:
    """Fixing 250 items at the joint MLE, the MLE of the other 50 given them is the joint MLE."""
    anchors = fit.bank.subset(fit.bank.item_ids[:250])
    again = calibrate(sim.log, "2PL", tol=1e-7, progress=False, fixed=anchors, fixed_scale="hold")
    assert again.n_fixed == 250 and again.n_parameters == 100
    frame = again.to_frame()
    new = ~frame["fixed"].to_numpy(dtype=bool)
    assert new.sum() == 50
    full = fit.to_frame().loc[frame.index]
    np.testing.assert_allclose(frame.loc[new, "a"], full.loc[new, "a"], atol=2e-4)
    np.testing.assert_allclose(frame.loc[new, "b"], full.loc[new, "b"], atol=2e-4)
    np.testing.assert_array_equal(frame.loc[~new, "a"], full.loc[~new, "a"])
    np.testing.assert_array_equal(frame.loc[~new, "se_b"], full.loc[~new, "se_b"])
    assert again.fixed_hash == anchors.hash


def test_new_items_are_calibrated_on_the_old_bank_scale() -> None:
    """An old bank on a shifted scale (θ ~ N(0.5, 1.2²) in its units) anchors new items there."""
    old_true = _bank(120, 21, prefix="old")
    new_true = _bank(40, 22, prefix="new")
    both = ItemBank.from_frame(
        pd.concat([old_true.to_frame(), new_true.to_frame()], ignore_index=True), model="2PL"
    )
    sim = simulate_answers(
        both, 20_000, answers_per_person=25, theta_mean=0.5, theta_sd=1.2, seed=23
    )
    anchors = ItemBank.from_frame(
        old_true.to_frame(), model="2PL", latent_mean=0.5, latent_variance=1.44
    )
    extra = ItemBank.from_frame(
        pd.DataFrame({"item_id": ["retired"], "a": [1.0], "b": [0.0], "skill": ["@x1"]}),
        model="2PL",
    )
    anchors = ItemBank.from_frame(
        pd.concat([anchors.to_frame().assign(skill="@s"), extra.to_frame()], ignore_index=True),
        model="2PL",
        latent_mean=0.5,
        latent_variance=1.44,
    )
    result = calibrate(sim.log, "2PL", progress=False, fixed=anchors)
    bank = result.bank
    assert bank.latent_mean == 0.5 and bank.latent_variance == 1.44
    assert bank.n_items == 161 and "retired" in set(bank.item_ids)
    frame = result.to_frame()
    assert frame.loc["retired", "skill"] == "@x1" and frame.loc["old0000", "skill"] == "@s"
    assert frame.loc["old0003", "a"] == old_true.a[3]
    est = frame.loc[new_true.item_ids]
    n = est["n_answers"].to_numpy(dtype=np.int64)
    # θ-known SEs on the anchors' scale: person abilities N(0.5, 1.2²)
    se_a, se_b = _known_theta_se_scaled(new_true, n, 0.5, 1.2)
    assert _rmse(est["a"], new_true.a) <= 1.6 * float(np.sqrt(np.mean(se_a**2)))
    assert _rmse(est["b"], new_true.b) <= 1.6 * float(np.sqrt(np.mean(se_b**2)))


def _known_theta_se_scaled(
    bank: ItemBank, n: npt.NDArray[np.int64], mean: float, sd: float
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    nodes, weights = np.polynomial.hermite_e.hermegauss(61)
    weights = weights / weights.sum()
    theta = mean + sd * nodes
    a, b = bank.a, bank.b
    p = models.probability(theta[:, None], a, b)
    pq = p * (1 - p)
    dt = theta[:, None] - b
    i_aa = n * (weights @ (pq * dt**2))
    i_bb = n * a**2 * (weights @ pq)
    i_ab = -n * a * (weights @ (pq * dt))
    det = i_aa * i_bb - i_ab**2
    return np.sqrt(i_bb / det), np.sqrt(i_aa / det)


def test_3pl_with_its_prior_recovers_c_roughly() -> None:
    """c is only informed by low-ability persons: we ask that the estimates beat the best constant.

    True c ~ U(0.1, 0.3) (SD 0.058); with 6,000 answers per item and the Beta(5, 17)
    prior the RMSE of c must be below that SD and c must correlate with the truth.
    """
    rng = np.random.default_rng(31)
    c_true = rng.uniform(0.1, 0.3, 100)
    base = _bank(100, 32, c=c_true)
    bank = base.with_parameters(a=base.a * 1.3)  # steeper items make c identifiable
    sim = simulate_answers(bank, 20_000, answers_per_person=30, seed=33)
    result = calibrate(sim.log, "3PL", progress=False)
    assert result.converged and result.priors.c_beta == (5.0, 17.0)
    est = result.to_frame().loc[bank.item_ids]
    assert _rmse(est["c"], c_true) < float(np.std(c_true))
    assert np.corrcoef(est["c"], c_true)[0, 1] > 0.5
    assert _rmse(est["b"], bank.b) < 0.25
    assert _rmse(est["a"], bank.a) < 0.25
    assert est["se_c"].notna().all() and (est["se_c"] > 0).all()


def test_rasch_recovers_difficulties_and_the_latent_variance() -> None:
    rng = np.random.default_rng(41)
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {"item_id": [f"r{j}" for j in range(80)], "a": 1.0, "b": rng.normal(0, 1, 80)}
        ),
        model="Rasch",
    )
    sim = simulate_answers(bank, 20_000, answers_per_person=20, theta_sd=1.3, seed=42)
    result = calibrate(sim.log, "Rasch", progress=False)
    assert result.latent_variance == pytest.approx(1.69, abs=4 * result.latent_variance_se)
    est = result.to_frame().loc[bank.item_ids]
    z2 = float(np.mean(((est["b"] - bank.b) / est["se_b"]) ** 2))
    assert 0.6 <= z2 <= 1.5, z2
    one = calibrate(sim.log, "1PL", progress=False)
    # 1PL on the N(0, 1) scale: common slope ≈ 1.3, difficulties ≈ b / 1.3
    assert one.bank.a[0] == pytest.approx(1.3, abs=0.05)
    assert one.loglik == pytest.approx(result.loglik, abs=0.05)  # the same model, reparameterized


def test_estimates_do_not_depend_on_person_or_item_order() -> None:
    sim = simulate_answers(_bank(40, 51), 3_000, answers_per_person=15, seed=52)
    log = sim.log
    rng = np.random.default_rng(53)
    persons = log.person_ids[rng.permutation(log.n_persons)]
    items = log.item_ids[rng.permutation(log.n_items)]
    shuffled = log.subset(items=items, persons=persons)
    for model in ("Rasch", "2PL"):
        one = calibrate(log, model, tol=1e-8, progress=False).to_frame()
        two = calibrate(shuffled, model, tol=1e-8, progress=False).to_frame().loc[one.index]
        np.testing.assert_allclose(two["a"], one["a"], atol=1e-6)
        np.testing.assert_allclose(two["b"], one["b"], atol=1e-6)
        np.testing.assert_allclose(two["se_b"], one["se_b"], rtol=1e-5)
