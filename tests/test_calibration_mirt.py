"""Agreement with R's mirt 1.47 (EM, 61 nodes, TOL 1e-6, Oakes SEs) and with girth.

The reference fits live in ``tests/data/<name>/mirt/`` (copied from the shared data
folder with their README and SOURCE notes). Tolerances are those of issue 4: a and b to
0.01, log-likelihood to 0.01, the Rasch latent variance to 0.01, SEs to 5% relative. We
run with tol=1e-6 like mirt, so both programs stop within about 1e-5 of the same MLE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import pixirt
from pixirt import ItemBank
from pixirt.calibration import calibrate
from pixirt.simulation import simulate_answers

DATA = Path(__file__).parent / "data"


def _load(name: str) -> pixirt.ResponseLog:
    return pixirt.read_responses(DATA / name / f"{name}_long.csv")


@pytest.fixture(scope="module", params=["lsat7", "sat12"])
def dataset(request: pytest.FixtureRequest) -> tuple[str, pixirt.ResponseLog]:
    return request.param, _load(request.param)


@pytest.mark.parametrize("model", ["Rasch", "2PL"])
def test_agrees_with_mirt(dataset: tuple[str, pixirt.ResponseLog], model: str) -> None:
    name, log = dataset
    ref = pd.read_csv(DATA / name / "mirt" / f"items_{model}.csv").set_index("item_id")
    summary = pd.read_csv(DATA / name / "mirt" / "summary.csv").set_index("model").loc[model]
    result = calibrate(log, model, tol=1e-6, progress=False)
    assert result.converged
    assert result.se_method == "Louis, full"
    got = result.to_frame().loc[ref.index]
    np.testing.assert_allclose(got["a"], ref["a"], atol=0.01)
    np.testing.assert_allclose(got["b"], ref["b"], atol=0.01)
    assert result.loglik == pytest.approx(summary["logLik"], abs=0.01)
    assert result.aic == pytest.approx(summary["AIC"], abs=0.02)
    assert result.bic == pytest.approx(summary["BIC"], abs=0.02)
    assert result.latent_variance == pytest.approx(summary["latent_var"], abs=0.01)
    np.testing.assert_allclose(got["se_b"], ref["se_b"], rtol=0.05)
    if model == "2PL":
        np.testing.assert_allclose(got["se_a"], ref["se_a"], rtol=0.05)
        assert result.bank.latent_variance == 1.0
    else:
        assert got["se_a"].isna().all() and (got["a"] == 1.0).all()
        assert result.bank.latent_variance == pytest.approx(result.latent_variance)
        assert np.isfinite(result.latent_variance_se) and result.latent_variance_se > 0
    assert result.n_parameters == len(ref) * (2 if model == "2PL" else 1) + (model == "Rasch")


def test_items_are_reported_in_the_log_order_with_counts(
    dataset: tuple[str, pixirt.ResponseLog],
) -> None:
    _, log = dataset
    result = calibrate(log, "2PL", progress=False, se="none")
    frame = result.to_frame()
    assert list(frame.index) == list(log.item_ids)
    stats = log.item_stats()
    np.testing.assert_array_equal(
        frame["n_answers"].to_numpy(dtype=np.int64), stats["n_answers"].to_numpy()
    )
    np.testing.assert_allclose(frame["p_correct"], stats["p_correct"])


# --------------------------------------------------------------------------- girth


@pytest.fixture(scope="module")
def girth() -> object:
    return pytest.importorskip("girth", reason="girth is not installed (pip install pixirt[bench])")


def test_onepl_and_twopl_agree_with_girth_on_lsat7(girth: Any) -> None:
    """girth maximizes the same marginal likelihood on its own 61-node grid: 0.005 is its solver's slack."""
    log = _load("lsat7")
    dense = log.to_dense().T.astype(int)  # girth wants items × persons
    options = {
        "quadrature_bounds": (-6, 6),
        "quadrature_n": 61,
        "use_LUT": False,
        "max_iteration": 500,
    }
    one = girth.onepl_mml(dense, options=options)
    two = girth.twopl_mml(dense, options=options)
    ours_1pl = calibrate(log, "1PL", tol=1e-7, progress=False)
    ours_2pl = calibrate(log, "2PL", tol=1e-7, progress=False)
    assert ours_1pl.bank.a[0] == pytest.approx(float(one["Discrimination"]), abs=0.005)
    np.testing.assert_allclose(ours_1pl.bank.b, one["Difficulty"], atol=0.005)
    np.testing.assert_allclose(ours_2pl.bank.a, two["Discrimination"], atol=0.005)
    np.testing.assert_allclose(ours_2pl.bank.b, two["Difficulty"], atol=0.005)


def test_rasch_agrees_with_girth_conditional_ml(girth: Any) -> None:
    """CML (girth) and MML with a normal latent distribution (ours) estimate the same Rasch difficulties.

    On Rasch data with a normal population both are consistent; their difference is a
    small fraction of the difficulty SE (about 0.06 here), so 0.02 after centring.
    """
    rng = np.random.default_rng(7)
    n_items = 12
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {"item_id": [f"q{j}" for j in range(n_items)], "a": 1.0, "b": rng.normal(0, 1, n_items)}
        ),
        model="Rasch",
    )
    sim = simulate_answers(bank, 2_000, answers_per_person=n_items, theta_sd=1.2, seed=8)
    cml = girth.rasch_conditional(sim.log.to_dense().T.astype(int))
    ours = calibrate(sim.log, "Rasch", tol=1e-7, progress=False)
    centred_cml = cml["Difficulty"] - np.mean(cml["Difficulty"])
    centred_ours = ours.bank.b - ours.bank.b.mean()
    assert np.max(ours.to_frame()["se_b"]) < 0.08
    np.testing.assert_allclose(centred_ours, centred_cml, atol=0.02)
    assert ours.latent_variance == pytest.approx(1.44, abs=3 * ours.latent_variance_se + 0.02)
