"""Issue 18, model comparison and scores: compare_models against mirt's log-likelihoods,
plausible values against their defining property, EAP for sum scores against Rasch
sufficiency (closed form)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import pixirt
from pixirt import ItemBank
from pixirt.calibration import (
    calibrate,
    compare_models,
    plausible_values,
    score_persons,
    sum_score_eap,
)
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize("name", ["lsat7", "sat12"])
def test_compare_models_agrees_with_mirts_anova(name: str) -> None:
    """mirt 1.47's logLik of Rasch and 2PL (summary.csv): LR = 2 Δℓ, df = Δk."""
    log = pixirt.read_responses(DATA / name / f"{name}_long.csv")
    summary = pd.read_csv(DATA / name / "mirt" / "summary.csv").set_index("model")
    rasch = calibrate(log, "Rasch", tol=1e-6, progress=False, se="none")
    twopl = calibrate(log, "2PL", tol=1e-6, progress=False, se="none")
    table = compare_models(twopl, rasch)  # either order
    assert list(table.index) == ["Rasch", "2PL"]
    lr_mirt = 2 * (summary.loc["2PL", "logLik"] - summary.loc["Rasch", "logLik"])
    k = log.n_items
    assert table.loc["2PL", "df"] == 2 * k - (k + 1)
    assert table.loc["2PL", "lr"] == pytest.approx(lr_mirt, abs=2e-3)
    assert table.loc["2PL", "p_value"] == pytest.approx(
        stats.chi2.sf(lr_mirt, 2 * k - (k + 1)), abs=1e-3
    )
    np.testing.assert_allclose(table["aic"], summary.loc[["Rasch", "2PL"], "AIC"], atol=4e-3)
    assert np.isnan(table.loc["Rasch", "lr"])


def test_compare_models_refuses_what_is_not_comparable() -> None:
    log = pixirt.read_responses(DATA / "lsat7" / "lsat7_long.csv")
    twopl = calibrate(log, "2PL", progress=False, se="none")
    with pytest.raises(DataError, match="not nested"):
        compare_models(twopl, twopl)
    frame = log.to_frame()
    other = pixirt.ResponseLog.from_frame(frame[frame["person_id"] != frame["person_id"].iloc[0]])
    with pytest.raises(DataError, match="same log"):
        compare_models(twopl, calibrate(other, "Rasch", progress=False, se="none"))
    with pytest.raises(DataError, match="priors"):
        compare_models(twopl, calibrate(log, "Rasch", priors="default", progress=False))


def test_plausible_values_have_the_population_variance() -> None:
    """EAP scores shrink (var < 1 on 8 items); plausible values do not (var ≈ 1)."""
    rng = np.random.default_rng(3)
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{j}" for j in range(8)],
                "a": np.exp(rng.normal(0, 0.2, 8)),
                "b": rng.normal(0, 1, 8),
            }
        )
    )
    sim = simulate_answers(bank, 4_000, answers_per_person=8, seed=4)
    pv = plausible_values(sim.log, bank, n_draws=5, seed=1)
    eap = score_persons(sim.log, bank, "EAP")
    assert list(pv.columns) == ["person_id", "pv1", "pv2", "pv3", "pv4", "pv5"]
    assert float(eap["theta"].var()) < 0.8
    variances = pv.iloc[:, 1:].var().to_numpy()
    np.testing.assert_allclose(variances, 1.0, atol=0.07)  # sampling SD ≈ 0.03
    # the mean over draws estimates each person's posterior mean (the EAP)
    many = plausible_values(sim.log, bank, n_draws=200, seed=2)
    np.testing.assert_allclose(
        many.iloc[:, 1:].mean(axis=1).to_numpy(), eap["theta"].to_numpy(), atol=0.25
    )
    assert float(np.mean(np.abs(many.iloc[:, 1:].mean(axis=1) - eap["theta"]))) < 0.05
    again = plausible_values(sim.log, bank, n_draws=5, seed=1)
    pd.testing.assert_frame_equal(pv, again)


def test_sum_score_eap_equals_the_pattern_eap_under_rasch() -> None:
    """Rasch: the sum score is sufficient, so every pattern's EAP is its score's EAP."""
    rng = np.random.default_rng(5)
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": [f"i{j}" for j in range(6)], "b": rng.normal(0, 1, 6)}),
        latent_variance=1.3,
    )
    table = sum_score_eap(bank)
    assert list(table.index) == list(range(7))
    assert table["probability"].sum() == pytest.approx(1.0, abs=1e-12)
    sim = simulate_answers(bank, 500, answers_per_person=6, seed=6)
    eap = score_persons(sim.log, bank, "EAP").set_index("person_id")
    totals = sim.log.to_frame().groupby("person_id")["correct"].sum()
    np.testing.assert_allclose(
        eap.loc[totals.index, "theta"].to_numpy(),
        table.loc[totals.to_numpy(), "eap"].to_numpy(),
        atol=1e-9,
    )
    np.testing.assert_allclose(
        eap.loc[totals.index, "se"].to_numpy(),
        table.loc[totals.to_numpy(), "sd"].to_numpy(),
        atol=1e-9,
    )


# --------------------------------------------------------------------------- M2
def test_m2_is_invariant_to_the_parameterization() -> None:
    """Rasch (a = 1, σ² free) and 1PL (common a, N(0, 1)) are one model: one M2."""
    from pixirt.calibration import m2

    log = pixirt.read_responses(DATA / "lsat7" / "lsat7_long.csv")
    rasch = m2(log, calibrate(log, "Rasch", tol=1e-8, progress=False, se="none").bank)
    onepl = m2(log, calibrate(log, "1PL", tol=1e-8, progress=False, se="none").bank)
    assert rasch.loc["stats", "df"] == onepl.loc["stats", "df"] == 15 - 6
    assert rasch.loc["stats", "M2"] == pytest.approx(onepl.loc["stats", "M2"], rel=1e-4)
    twopl = m2(log, calibrate(log, "2PL", tol=1e-8, progress=False, se="none").bank)
    assert twopl.loc["stats", "df"] == 5
    row = twopl.loc["stats"]
    assert row["RMSEA_5"] <= row["RMSEA"] <= row["RMSEA_95"]
    assert 0 < row["CFI"] <= 1 and row["TLI"] < 1 and row["n_dropped"] == 0


def test_m2_follows_its_chi2_under_the_model_and_finds_misfit() -> None:
    from pixirt.calibration import m2

    ratios, misfit = [], []
    for rep in range(5):
        rng = np.random.default_rng(rep)
        bank = ItemBank.from_frame(
            pd.DataFrame(
                {
                    "item_id": [f"i{j}" for j in range(10)],
                    "a": np.exp(rng.normal(0, 0.5, 10)),
                    "b": rng.normal(0, 1, 10),
                }
            )
        )
        sim = simulate_answers(bank, 2_000, answers_per_person=10, seed=50 + rep)
        fit = m2(sim.log, calibrate(sim.log, "2PL", progress=False, se="none").bank)
        ratios.append(fit.loc["stats", "M2"] / fit.loc["stats", "df"])
        misfit.append(
            m2(sim.log, calibrate(sim.log, "Rasch", progress=False, se="none").bank).loc[
                "stats", "p"
            ]
        )
    assert 0.75 < float(np.mean(ratios)) < 1.25  # E[χ²_35 / 35] = 1, SD of the mean ≈ 0.1
    assert max(misfit) < 1e-3  # slopes with SD 0.5 on the log scale: Rasch rejected


def test_m2_needs_complete_persons() -> None:
    from pixirt.calibration import m2

    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": [f"i{j}" for j in range(20)], "b": np.linspace(-1, 1, 20)})
    )
    sim = simulate_answers(bank, 300, answers_per_person=5, seed=1)
    with pytest.raises(DataError, match="answered every item"):
        m2(sim.log, bank)
