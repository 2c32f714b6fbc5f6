"""Held-out validation (pixirt.calibration.holdout_validation and its parts).

Metrics are checked against direct formulas (log-loss), brute-force pair counting (AUC)
and the textbook standard error; predictions against ``score_persons`` (EAP) and an
independent quadrature (posterior predictive).

Model comparison on simulated logs where the truth is known, with the noise judged by
the paired, person-clustered standard error of the log-loss gain:

- a 2PL log (slopes lognormal(0, 0.5), so discriminations differ by a factor 2.7 between
  the 16th and 84th percentiles): the 2PL must beat the Rasch model and the Rasch model
  the p-values, each by more than 3 standard errors, AUC in the same order; and the 2PL
  must predict about as well as the true parameters (within 0.003 nats: with ~1,600
  training answers per item the excess log-loss from estimating 2 parameters is about
  2 / (2 · 1,600) ≈ 0.0006 per answer);
- a Rasch log: the 2PL spends 100 more parameters on noise, so its expected gain over
  the Rasch model is ≤ 0; we require the observed gain to be below 2 standard errors
  (a one-sided 2.3% level; the seeds are fixed, the check is deterministic).

Real logs (``tests/data`` subsets and the shipped PISA log): every calibration
converges and the 2PL beats the p-values and the Rasch model on held-out answers, by
more than 3 (p-values) and 2 (Rasch) standard errors; the margins measured are 9 to 29
and 3.9 to 7.7 standard errors (``docs/calibration.md``).
"""

from __future__ import annotations

import json
import math
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pixirt
from pixirt import ItemBank, ResponseLog, models
from pixirt.calibration import (
    BASELINE,
    HoldoutResult,
    calibrate,
    holdout_predictions,
    holdout_scores,
    holdout_validation,
    log_loss,
    pairwise_gains,
    prediction_scores,
    roc_auc,
    score_persons,
)
from pixirt.datasets import pisa2012_us_math
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers

DATA = Path(__file__).parent / "data"


def _bank(n_items: int, seed: int, *, slope_sd: float) -> ItemBank:
    rng = np.random.default_rng(seed)
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{j:03d}" for j in range(n_items)],
                "a": np.exp(rng.normal(0.0, slope_sd, n_items)),
                "b": rng.normal(0.0, 1.0, n_items),
            }
        )
    )


@pytest.fixture(scope="module")
def small() -> tuple[ResponseLog, ResponseLog, ItemBank]:
    bank = _bank(30, 1, slope_sd=0.4)
    log = simulate_answers(bank, 1_500, answers_per_person=12, seed=2).log
    train, test = log.split(0.25, seed=3)
    return train, test, bank


# --------------------------------------------------------------------------- metrics
def test_log_loss_is_the_mean_negative_log_likelihood():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    p = rng.uniform(0.01, 0.99, 500)
    expected = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert log_loss(y, p) == pytest.approx(expected, rel=1e-12)
    assert log_loss([1, 0], [0.5, 0.5]) == pytest.approx(math.log(2), rel=1e-12)


def test_log_loss_clips_certain_mistakes():
    assert log_loss([1], [0.0]) == pytest.approx(-math.log(1e-15), rel=1e-9)
    assert math.isnan(log_loss([], []))


def test_auc_matches_pair_counting_with_ties():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = np.round(rng.uniform(size=300) * 0.5 + 0.3 * y, 1)  # coarse: many ties
    pos, neg = p[y == 1], p[y == 0]
    wins = sum((a > b) + 0.5 * (a == b) for a, b in product(pos, neg))
    assert roc_auc(y, p) == pytest.approx(wins / (len(pos) * len(neg)), abs=1e-12)


def test_auc_of_one_class_is_nan():
    assert math.isnan(roc_auc([1, 1, 1], [0.2, 0.5, 0.9]))


@pytest.mark.parametrize(
    ("y", "p", "field"),
    [([0, 1], [0.5], "p"), ([0, 2], [0.5, 0.5], "y"), ([0, 1], [0.5, 1.5], "p")],
)
def test_metrics_reject_bad_input(y, p, field):
    with pytest.raises(DataError) as err:
        log_loss(y, p)
    assert err.value.field == field


def test_cluster_se_reduces_to_the_textbook_se_with_one_answer_per_person():
    rng = np.random.default_rng(2)
    n = 400
    pred = pd.DataFrame(
        {
            "person_id": np.arange(n),
            "correct": rng.integers(0, 2, n),
            "m": rng.uniform(0.05, 0.95, n),
        }
    )
    scores = prediction_scores(pred, models=["m"], reference="m")
    losses = -np.where(pred["correct"] == 1, np.log(pred["m"]), np.log(1 - pred["m"]))
    assert scores.loc["m", "log_loss_se"] == pytest.approx(
        losses.std(ddof=1) / math.sqrt(n), rel=1e-10
    )


# --------------------------------------------------------------------------- predictions
def test_eap_predictions_are_the_probability_at_the_training_eap(small):
    train, test, bank = small
    pred = holdout_predictions(train, test, {"truth": bank})
    eap = score_persons(train, bank, "EAP").set_index("person_id")["theta"]
    pos = bank.index_of(pred["item_id"])
    expected = models.probability(
        eap.loc[pred["person_id"]].to_numpy(), bank.a[pos], bank.b[pos], bank.c[pos]
    )
    np.testing.assert_allclose(pred["truth"].to_numpy(), expected, rtol=1e-12, atol=0)
    assert len(pred) == test.n_answers
    assert pred.attrs["n_unscored"] == 0
    assert pred.attrs["models"] == [BASELINE, "truth"]


def test_posterior_predictions_match_an_independent_quadrature(small):
    train, test, bank = small
    pred = holdout_predictions(train, test, {"truth": bank}, predict="posterior")
    nodes = np.linspace(-6, 6, 61)
    weights = np.exp(-0.5 * nodes**2)
    frame = train.to_frame()
    for person in pred["person_id"].unique()[:25]:
        answers = frame[frame["person_id"] == person]
        pos = bank.index_of(answers["item_id"])
        p = models.probability(nodes[:, None], bank.a[pos], bank.b[pos])
        y = answers["correct"].to_numpy()
        post = weights * np.prod(np.where(y == 1, p, 1 - p), axis=1)
        post /= post.sum()
        rows = pred[pred["person_id"] == person]
        held = bank.index_of(rows["item_id"])
        expected = post @ models.probability(nodes[:, None], bank.a[held], bank.b[held])
        np.testing.assert_allclose(rows["truth"].to_numpy(), expected, rtol=1e-10)


def test_p_value_baseline_is_smoothed_towards_the_overall_proportion(small):
    train, test, bank = small
    s = 2.5
    pred = holdout_predictions(train, test, bank, smoothing=s)
    frame = train.to_frame()
    overall = frame["correct"].mean()
    stats = frame.groupby("item_id")["correct"].agg(["sum", "count"])
    expected = (stats["sum"] + s * overall) / (stats["count"] + s)
    np.testing.assert_allclose(
        pred[BASELINE].to_numpy(), expected.loc[pred["item_id"]].to_numpy(), rtol=1e-12
    )
    assert list(pred.columns)[-1] == "2PL"  # a single bank is named by its model


def test_unknown_items_are_unscored_and_new_persons_get_the_prior(small):
    train, test, bank = small
    keep = [i for i in bank.item_ids if i != "i000"]
    partial = bank.subset(keep)
    train_kept = train.subset(items=keep)
    pred = holdout_predictions(train_kept, test, {"truth": partial})
    on_i000 = int((test.indices == list(test.item_ids).index("i000")).sum())
    assert on_i000 > 0
    assert pred.attrs["n_unscored"] == on_i000
    assert len(pred) == test.n_answers - on_i000
    assert "i000" not in set(pred["item_id"])

    newcomer = ResponseLog.from_frame(
        pd.DataFrame({"person_id": ["new"], "item_id": ["i001"], "correct": [1]})
    )
    one = holdout_predictions(train, newcomer, {"truth": bank})
    pos = bank.index_of(["i001"])
    assert one["truth"].iloc[0] == pytest.approx(
        float(models.probability(bank.latent_mean, bank.a[pos], bank.b[pos])[0]), rel=1e-12
    )
    assert one["n_train_person"].iloc[0] == 0


def test_holdout_scores_orders_the_truth_before_the_baseline(small):
    train, test, bank = small
    scores = holdout_scores(train, test, {"truth": bank})
    assert list(scores.index) == [BASELINE, "truth"]
    assert scores.loc[BASELINE, "gain"] == 0.0
    assert scores.loc["truth", "gain"] > 3 * scores.loc["truth", "gain_se"]
    assert scores.loc["truth", "auc"] > scores.loc[BASELINE, "auc"]
    assert scores.attrs["predict"] == "EAP"


def test_pairwise_gains_are_antisymmetric(small):
    train, test, bank = small
    flat = bank.with_parameters(a=np.ones(bank.n_items))
    pred = holdout_predictions(train, test, {"truth": bank, "flat": flat})
    gains = pairwise_gains(pred)
    assert len(gains) == 6
    for m, r in [("truth", "flat"), ("truth", BASELINE), ("flat", BASELINE)]:
        assert gains.loc[(m, r), "gain"] == pytest.approx(-gains.loc[(r, m), "gain"], abs=1e-15)
        assert gains.loc[(m, r), "gain_se"] == pytest.approx(gains.loc[(r, m), "gain_se"])
    scores = prediction_scores(pred, reference="flat")
    assert scores.loc["truth", "gain"] == pytest.approx(gains.loc[("truth", "flat"), "gain"])


# --------------------------------------------------------------------------- model comparison
def _validate(slope_sd: float, seed: int) -> tuple[HoldoutResult, pd.DataFrame]:
    bank = _bank(100, seed, slope_sd=slope_sd)
    log = simulate_answers(bank, 5_000, answers_per_person=40, seed=seed + 1).log
    result = holdout_validation(log, ("Rasch", "2PL"), seed=seed + 2, priors=None)
    train, test = log.split(0.2, seed=seed + 2)
    oracle = holdout_scores(
        train,
        test,
        {"truth": bank, "2PL": result.calibrations["2PL"].bank},
        reference="truth",
    )
    return result, oracle


def test_on_a_2pl_log_2pl_beats_rasch_beats_p_values():
    result, oracle = _validate(slope_sd=0.5, seed=10)
    assert all(r.converged for r in result.calibrations.values())
    cmp = result.comparisons
    for model, reference in [("2PL", "Rasch"), ("Rasch", BASELINE)]:
        row = cmp.loc[(model, reference)]
        assert row["gain"] > 3 * row["gain_se"], (model, reference, row.to_dict())
    auc = result.scores["auc"]
    assert auc["2PL"] > auc["Rasch"] > auc[BASELINE]
    # the estimated 2PL predicts about as well as the true parameters
    assert abs(oracle.loc["2PL", "gain"]) < 0.003
    assert result.n_scored == result.n_test_answers


def test_on_a_rasch_log_2pl_does_not_beat_rasch_beyond_noise():
    result, _ = _validate(slope_sd=0.0, seed=20)
    row = result.comparisons.loc[("2PL", "Rasch")]
    assert row["gain"] < 2 * row["gain_se"], row.to_dict()
    # both models still beat the p-values by far
    assert result.comparisons.loc[("Rasch", BASELINE), "z"] > 10


# --------------------------------------------------------------------------- result object
@pytest.fixture(scope="module")
def pisa_result() -> HoldoutResult:
    return holdout_validation(pisa2012_us_math(), ("Rasch", "2PL"), seed=0)


def test_result_round_trips_through_json(pisa_result):
    back = HoldoutResult.from_dict(json.loads(json.dumps(pisa_result.to_dict())))
    pd.testing.assert_frame_equal(back.scores, pisa_result.scores)
    pd.testing.assert_frame_equal(back.comparisons, pisa_result.comparisons)
    assert back.scores.attrs == pisa_result.scores.attrs
    assert {k: v.to_dict() for k, v in back.calibrations.items()} == {
        k: v.to_dict() for k, v in pisa_result.calibrations.items()
    }
    assert back.to_dict() == pisa_result.to_dict()


def test_result_views(pisa_result):
    frame = pisa_result.to_frame()
    assert list(frame.index) == [BASELINE, "Rasch", "2PL"]
    assert frame.loc["2PL", "n_parameters"] == 2 * 76
    assert frame.loc["Rasch", "n_parameters"] == 76 + 1
    assert pd.isna(frame.loc[BASELINE, "loglik"])
    assert frame.loc["2PL", "loglik"] == pisa_result.calibrations["2PL"].loglik
    assert "held-out validation" in pisa_result.as_text()
    assert "<table" in pisa_result._repr_html_()
    assert "best log-loss: 2PL" in repr(pisa_result)
    assert pisa_result.gain("2PL", "Rasch") == pytest.approx(
        pisa_result.comparisons.loc[("2PL", "Rasch"), "gain"]
    )
    with pytest.raises(DataError):
        pisa_result.gain("3PL", "Rasch")
    assert pisa_result.n_train_answers + pisa_result.n_test_answers == pisa_result.n_answers


# --------------------------------------------------------------------------- errors
def test_bad_arguments_name_the_field(small):
    train, test, bank = small
    cases = [
        (lambda: holdout_predictions("x", test, bank), "train"),
        (lambda: holdout_predictions(train, None, bank), "test"),
        (lambda: holdout_predictions(train, test, [bank]), "banks"),
        (lambda: holdout_predictions(train, test, {}), "banks"),
        (lambda: holdout_predictions(train, test, {BASELINE: bank}), "banks"),
        (lambda: holdout_predictions(train, test, {"x": "bank"}), "banks"),
        (lambda: holdout_predictions(train, test, bank, predict="MAP"), "predict"),
        (lambda: holdout_predictions(train, test, bank, smoothing=-1), "smoothing"),
        (lambda: holdout_predictions(train, test, bank, n_quad=2), "n_quad"),
        (lambda: holdout_validation(train, ("Rasch", "4PL")), "models"),
        (lambda: holdout_validation(train, ("2PL", "2PL")), "models"),
        (lambda: holdout_validation(train, ()), "models"),
        (lambda: holdout_validation(train, fraction=1.5), "fraction"),
        (lambda: holdout_validation(train, seed=-1), "seed"),
        (lambda: prediction_scores(pd.DataFrame({"person_id": [1]})), "models"),
        (lambda: HoldoutResult.from_dict({"format": "other"}), "format"),
    ]
    for call, field in cases:
        with pytest.raises(DataError) as err:
            call()
        assert err.value.field == field, (field, str(err.value))


def test_training_answers_outside_the_bank_are_an_error(small):
    train, test, bank = small
    with pytest.raises(DataError) as err:
        holdout_predictions(train, test, {"part": bank.subset(["i000", "i001"])})
    assert err.value.field == "item_id"


# --------------------------------------------------------------------------- real logs
REAL = {
    "pisa2012_us_math": None,
    "assistments2009": DATA / "assistments2009" / "assistments2009_long.csv.gz",
    "assistments2017": DATA / "assistments2017" / "assistments2017_long.csv.gz",
    "statics2011": DATA / "statics2011" / "statics2011_long.csv.gz",
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REAL))
def test_real_logs_2pl_predicts_held_out_answers_best(name):
    path = REAL[name]
    log = pisa2012_us_math() if path is None else pixirt.read_responses(path)
    result = holdout_validation(log, ("Rasch", "2PL"), seed=0)
    assert all(r.converged for r in result.calibrations.values())
    cmp = result.comparisons
    assert cmp.loc[("2PL", BASELINE), "z"] > 3
    assert cmp.loc[("2PL", "Rasch"), "z"] > 2
    assert result.scores.loc["2PL", "auc"] > result.scores.loc[BASELINE, "auc"]
    assert result.n_scored >= 0.98 * result.n_test_answers


def test_shipped_subsets_are_small_and_documented():
    for name in ("assistments2009", "assistments2017", "statics2011"):
        folder = DATA / name
        assert (folder / "SOURCE.md").is_file()
        data = folder / f"{name}_long.csv.gz"
        assert data.stat().st_size < 2_000_000
        if name.startswith("assistments"):
            assert (folder / "LICENSE_AKT_repo_MIT.txt").is_file()


def test_calibrate_on_the_whole_subset_still_converges():
    log = pixirt.read_responses(DATA / "assistments2017" / "assistments2017_long.csv.gz")
    result = calibrate(log, "2PL", priors="default", progress=False, se="none")
    assert result.converged
    assert np.all(result.bank.a > 0)
