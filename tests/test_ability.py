"""Person scores: agreement with mirt 1.47, closed forms, sparse logs, precision, bad input.

Reference scores: ``tests/data/mirt_reference/<name>/persons_<model>.csv`` (mirt's
``fscores`` EAP, MAP, ML, WLE with SEs). The issue's tolerance is 0.01 on theta and SE;
EAP is a posterior mean on the same 61-node grid, MAP/ML/WLE are optimizer outputs
(mirt's ``nlm``, gradient tolerance 1e-6, SE from a numerical Hessian).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

import pixirt
from pixirt import ItemBank, ResponseLog
from pixirt.calibration import _ability as ability
from pixirt.calibration import (
    empirical_reliability,
    marginal_reliability,
    score_persons,
    standard_error,
)
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers

REF = Path(__file__).parent / "data" / "mirt_reference"
MIRT_NAMES = {"EAP": "EAP", "MAP": "MAP", "MLE": "ML", "WLE": "WLE"}


def mirt_bank(name: str, model: str) -> ItemBank:
    items = pd.read_csv(REF / name / f"items_{model}.csv")
    summary = pd.read_csv(REF / name / "summary.csv").set_index("model")
    return ItemBank.from_frame(
        items[["item_id", "a", "b"]],
        model=model,
        latent_variance=float(summary.loc[model, "latent_var"]),
    )


@pytest.fixture(scope="module", params=["lsat7", "sat12"])
def dataset(request: pytest.FixtureRequest) -> tuple[str, ResponseLog]:
    name = request.param
    return name, pixirt.read_responses(REF / name / f"{name}_long.csv")


@pytest.mark.parametrize("model", ["Rasch", "2PL"])
@pytest.mark.parametrize("method", ["EAP", "MAP", "MLE", "WLE"])
def test_scores_agree_with_mirt(dataset: tuple[str, ResponseLog], model: str, method: str) -> None:
    name, log = dataset
    bank = mirt_bank(name, model)
    ref = pd.read_csv(REF / name / f"persons_{model}.csv")
    got = score_persons(log, bank, method)  # Rasch: the bank's latent variance is the prior
    assert list(got.columns) == ["person_id", "theta", "se", "n_answers", "finite"]
    assert np.array_equal(got["person_id"].to_numpy(), ref["person_id"].to_numpy())
    theta_ref = ref[f"{MIRT_NAMES[method]}_theta"].to_numpy()
    se_ref = ref[f"{MIRT_NAMES[method]}_se"].to_numpy()
    finite = np.isfinite(theta_ref)
    assert np.array_equal(got["finite"].to_numpy(), finite)
    theta = got["theta"].to_numpy()
    assert np.array_equal(theta[~finite], theta_ref[~finite])  # ±inf for MLE, as mirt
    assert np.isnan(got["se"].to_numpy()[~finite]).all()
    np.testing.assert_allclose(theta[finite], theta_ref[finite], atol=0.01, rtol=0)
    np.testing.assert_allclose(got["se"].to_numpy()[finite], se_ref[finite], atol=0.01, rtol=0)
    assert (got["n_answers"] == bank.n_items).all()


@pytest.mark.parametrize("model", ["Rasch", "2PL"])
def test_empirical_reliability_agrees_with_mirt(
    dataset: tuple[str, ResponseLog], model: str
) -> None:
    name, log = dataset
    expected = pd.read_csv(REF / name / "summary.csv").set_index("model").loc[model]
    got = empirical_reliability(score_persons(log, mirt_bank(name, model), "EAP"))
    assert got == pytest.approx(expected["empirical_rxx"], abs=1e-4)


def one_item_bank(a: float = 1.3, b: float = 0.4, c: float = 0.0) -> ItemBank:
    return ItemBank.from_frame(pd.DataFrame({"item_id": ["i"], "a": [a], "b": [b], "c": [c]}))


@pytest.mark.parametrize("answer", [0, 1])
@pytest.mark.parametrize("c", [0.0, 0.2])
def test_eap_of_one_item_is_the_posterior_mean_by_numerical_integration(
    answer: int, c: float
) -> None:
    bank = one_item_bank(c=c)
    log = ResponseLog.from_wide(pd.DataFrame({"i": [answer]}, index=["p"]))
    got = score_persons(log, bank, "EAP").iloc[0]

    def lik(t: float) -> float:
        p = float(pixirt.models.probability(t, 1.3, 0.4, c))
        return (p if answer else 1 - p) * float(stats.norm.pdf(t))

    z = integrate.quad(lik, -np.inf, np.inf)[0]
    mean = integrate.quad(lambda t: t * lik(t), -np.inf, np.inf)[0] / z
    var = integrate.quad(lambda t: (t - mean) ** 2 * lik(t), -np.inf, np.inf)[0] / z
    assert got["theta"] == pytest.approx(mean, abs=1e-7)
    assert got["se"] == pytest.approx(np.sqrt(var), abs=1e-7)


def dense_sim(
    n_items: int = 20, n_persons: int = 400, seed: int = 5, c: float = 0.0
) -> tuple[ItemBank, ResponseLog]:
    rng = np.random.default_rng(seed)
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"q{j}" for j in range(n_items)],
                "a": np.exp(rng.normal(0, 0.3, n_items)),
                "b": rng.normal(0, 1, n_items),
                "c": np.full(n_items, c),
            }
        )
    )
    return bank, simulate_answers(bank, n_persons, answers_per_person=n_items, seed=seed).log


def test_rasch_mle_solves_expected_score_equals_raw_score() -> None:
    rng = np.random.default_rng(1)
    b = rng.normal(0, 1, 15)
    bank = ItemBank.from_frame(pd.DataFrame({"item_id": np.arange(15), "b": b}), model="Rasch")
    log = simulate_answers(bank, 300, answers_per_person=15, seed=2).log
    got = score_persons(log, bank, "MLE")
    raw = log.person_stats()["n_correct"].to_numpy()
    fin = got["finite"].to_numpy()
    assert np.array_equal(fin, (raw > 0) & (raw < 15))
    expected = pixirt.models.probability(got["theta"].to_numpy()[fin, None], 1.0, b).sum(axis=1)
    np.testing.assert_allclose(expected, raw[fin], atol=1e-8)
    info = pixirt.models.information(got["theta"].to_numpy()[fin, None], 1.0, b).sum(axis=1)
    np.testing.assert_allclose(got["se"].to_numpy()[fin], 1 / np.sqrt(info), rtol=1e-6)


def test_map_and_wle_solve_their_estimating_equations_2pl() -> None:
    bank, log = dense_sim()
    y = log.to_dense()
    a, b = bank.a, bank.b
    for method in ("MAP", "WLE"):
        theta = score_persons(log, bank, method, prior=(0.3, 1.2))["theta"].to_numpy()[:, None]
        p = pixirt.models.probability(theta, a, b)
        score = (a * (y - p)).sum(axis=1)
        if method == "MAP":
            score -= (theta[:, 0] - 0.3) / 1.2**2
        else:  # Warm: Σ a (y − P) + I'(θ) / (2 I(θ)) = 0
            info = (a**2 * p * (1 - p)).sum(axis=1)
            d_info = (a**3 * p * (1 - p) * (1 - 2 * p)).sum(axis=1)
            score += d_info / (2 * info)
        np.testing.assert_allclose(score, 0.0, atol=1e-7)


@pytest.mark.parametrize("method", ["MAP", "MLE", "WLE"])
def test_3pl_estimates_are_stationary_points(method: str) -> None:
    bank, log = dense_sim(c=0.2, n_persons=200, seed=8)
    got = score_persons(log, bank, method)
    fin = got["finite"].to_numpy()
    theta = got["theta"].to_numpy()[fin]
    y = log.to_dense()[fin]

    def objective(t: np.ndarray) -> np.ndarray:
        ll = pixirt.models.log_likelihood(y, t[:, None], bank.a, bank.b, bank.c).sum(axis=1)
        if method == "MAP":
            ll -= 0.5 * t**2
        if method == "WLE":
            ll += 0.5 * np.log(bank.information(t).sum(axis=1))
        return ll

    h = 1e-5
    grad = (objective(theta + h) - objective(theta - h)) / (2 * h)
    np.testing.assert_allclose(grad, 0.0, atol=1e-5)
    assert (objective(theta) >= objective(theta + 0.01) - 1e-12).all()
    assert (objective(theta) >= objective(theta - 0.01) - 1e-12).all()
    assert (got["se"].to_numpy()[fin] > 0).all()


def test_sparse_log_scores_do_not_depend_on_blocks_or_companions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(3)
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": np.arange(300),
                "a": np.exp(rng.normal(0, 0.3, 300)),
                "b": rng.normal(0, 1, 300),
            }
        )
    )
    log = simulate_answers(bank, 3000, answers_per_person=25, seed=4).log
    full = {m: score_persons(log, bank, m) for m in ("EAP", "MAP", "WLE")}
    monkeypatch.setattr(ability, "_GRID_BLOCK", 97)
    monkeypatch.setattr(ability, "_ANSWER_BLOCK", 1000)
    some = log.person_ids[::7]
    for m, ref in full.items():
        small = score_persons(log, bank, m)
        pd.testing.assert_frame_equal(small, ref, check_exact=False, atol=1e-9, rtol=0)
        alone = score_persons(log.subset(persons=some), bank, m)
        np.testing.assert_allclose(alone["theta"], ref["theta"].to_numpy()[::7], atol=1e-9)
    # the same answers in the bank's own order and in a shuffled item numbering give the same scores
    frame = log.to_frame().sample(frac=1.0, random_state=0)
    shuffled = ResponseLog.from_frame(frame)
    again = score_persons(shuffled, bank, "EAP").set_index("person_id").loc[log.person_ids]
    np.testing.assert_allclose(again["theta"], full["EAP"]["theta"], atol=1e-12)


def test_persons_without_answers_and_prior_override() -> None:
    bank = one_item_bank()
    log = ResponseLog([0, 1, 1], [0], [1], ["p", "nobody"], ["i"])
    eap = score_persons(log, bank, "EAP", prior=(1.0, 2.0)).set_index("person_id")
    assert eap.loc["nobody", "theta"] == pytest.approx(1.0, abs=1e-12)
    assert eap.loc["nobody", "se"] == pytest.approx(2.0, rel=1e-6)
    assert eap.loc["nobody", "n_answers"] == 0 and eap.loc["nobody", "finite"]
    assert eap.attrs == {"method": "EAP", "prior": (1.0, 2.0)}
    assert eap.loc["p", "theta"] > 1.0
    for method in ("MLE", "WLE"):
        row = score_persons(log, bank, method).set_index("person_id").loc["nobody"]
        assert np.isnan(row["theta"]) and np.isnan(row["se"]) and not row["finite"]


def test_rasch_bank_scores_on_its_own_scale() -> None:
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": [1, 2, 3], "b": [-1.0, 0.0, 1.0]}),
        model="Rasch",
        latent_mean=0.5,
        latent_variance=0.25,
    )
    log = ResponseLog([0, 0], [], [], ["nobody"], [1])
    got = score_persons(log, bank, "MAP").iloc[0]
    assert (got["theta"], got["se"]) == pytest.approx((0.5, 0.5))


def test_standard_error_and_marginal_reliability() -> None:
    bank = one_item_bank(a=2.0, b=0.0)
    assert standard_error(bank, [0.0])[0] == pytest.approx(1.0)
    big = dense_sim(n_items=10)[0]
    theta = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(
        standard_error(big, theta), 1 / np.sqrt(big.information(theta).sum(axis=1))
    )

    def integrand(t: float) -> float:
        info = float(big.information(t).sum())
        return info / (info + 1.0) * float(stats.norm.pdf(t))

    expected = integrate.quad(integrand, -np.inf, np.inf)[0]
    assert marginal_reliability(big) == pytest.approx(expected, abs=1e-8)
    part = marginal_reliability(big, items=big.item_ids[:3])
    assert 0 < part < marginal_reliability(big) < 1


def test_bad_input_names_the_field() -> None:
    bank = one_item_bank()
    log = ResponseLog.from_wide(pd.DataFrame({"i": [1], "ghost": [0], "ghoul": [1]}, index=["p"]))
    with pytest.raises(
        DataError, match=r"2 item\(s\) of the log are not in the bank: 'ghost', 'ghoul'"
    ) as err:
        score_persons(log, bank)
    assert err.value.field == "item_id"
    ok = ResponseLog.from_wide(pd.DataFrame({"i": [1]}, index=["p"]))
    cases = [
        ({"method": "ML"}, "method"),
        ({"prior": (0.0, 0.0)}, "prior"),
        ({"prior": "wide"}, "prior"),
        ({"n_quad": 2}, "n_quad"),
    ]
    for kwargs, field in cases:
        with pytest.raises(DataError) as err:
            score_persons(ok, bank, **kwargs)
        assert err.value.field == field
    with pytest.raises(DataError) as err:
        empirical_reliability(pd.DataFrame({"theta": [1.0]}))
    assert err.value.field == "se"
