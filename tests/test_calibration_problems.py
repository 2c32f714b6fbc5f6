"""Issue 18, point 4: a calibration that returns, with its degenerate items flagged.

One item with a negative slope (a reversed key, or too few persons) or a difficulty
running off to infinity used to stop the whole calibration with a ``CalibrationError``
and no estimate for the other items. The fit now returns: the degenerate items are
listed in ``result.problems`` and named in a warning, the other items are estimated as
before (compared with the fit without the degenerate item), and the bank export for
the engine (:meth:`CalibrationResult.engine_bank`, ``pixirt calibrate --out``) refuses
them with the message of old. An ``ItemBank`` holds negative slopes, for scoring and
diagnostics; the v3 engine refuses them at ``start``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pixirt
from pixirt import ItemBank
from pixirt.calibration import CalibrationError, calibrate, score_persons
from pixirt.exceptions import ConvergenceWarning, DataError
from pixirt.simulation import simulate_answers

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def sat12_first_300() -> pixirt.ResponseLog:
    frame = pd.read_csv(DATA / "sat12" / "sat12_long.csv")
    persons = frame["person_id"].drop_duplicates().iloc[:300]
    return pixirt.ResponseLog.from_frame(frame[frame["person_id"].isin(persons)])


def test_sat12_first_300_persons_return_with_item32_flagged(
    sat12_first_300: pixirt.ResponseLog,
) -> None:
    with pytest.warns(ConvergenceWarning, match=r"'Item\.32'"):
        result = calibrate(sat12_first_300, "2PL", tol=1e-6, progress=False)
    assert result.converged
    problems = result.problems
    assert list(problems["item_id"]) == ["Item.32"]
    assert problems["problem"].iloc[0] == "non-positive slope"
    a32 = float(problems["a"].iloc[0])
    assert -0.3 < a32 < 0  # the issue: mirt and pixirt give a ≈ −0.11
    bank = result.bank
    assert (
        bank.n_items == 32
        and float(bank.to_frame().set_index("item_id").loc["Item.32", "a"]) == a32
    )
    assert np.isfinite(bank.a).all() and np.isfinite(bank.b).all()
    # the other 31 items: the same estimates as a fit without Item.32 to the precision
    # of the marginal model (dropping an item changes the others only through the
    # posterior, and Item.32 carries almost no information)
    keep = sat12_first_300.to_frame()
    keep = keep[keep["item_id"] != "Item.32"]
    alone = calibrate(pixirt.ResponseLog.from_frame(keep), "2PL", tol=1e-6, progress=False)
    got = bank.to_frame().set_index("item_id").loc[alone.bank.item_ids]
    ref = alone.bank.to_frame().set_index("item_id")
    np.testing.assert_allclose(got["a"], ref["a"], atol=0.05)
    np.testing.assert_allclose(got["b"], ref["b"], atol=0.05, rtol=0.03)  # Item.12: b ≈ 6
    # the engine's bank refuses the item with the message of old
    with pytest.raises(CalibrationError, match=r"non-positive discrimination: 'Item\.32'"):
        result.engine_bank()


def test_a_bank_holds_negative_slopes_for_scoring(sat12_first_300: pixirt.ResponseLog) -> None:
    with pytest.warns(ConvergenceWarning):
        result = calibrate(sat12_first_300, "2PL", progress=False)
    bank = result.bank
    assert (bank.a < 0).sum() == 1
    # round trip through every format keeps the negative slope
    frame = bank.to_frame()
    again = ItemBank.from_frame(frame, model="2PL")
    np.testing.assert_array_equal(again.a, bank.a)
    scores = score_persons(sat12_first_300, bank, method="EAP")
    assert np.isfinite(scores["theta"]).all() and len(scores) == 300
    # a negative slope: the probability of a right answer falls with θ
    row = int(np.flatnonzero(bank.a < 0)[0])
    p = bank.probability(np.array([-2.0, 2.0]), [bank.item_ids[row]])
    assert p[0, 0] > p[1, 0]


def test_reversed_key_is_flagged_not_fatal() -> None:
    """A reversed answer key: a ≈ −1 for that item, the others recovered as before."""
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{k}" for k in range(10)],
                "a": np.linspace(0.8, 2.0, 10),
                "b": np.linspace(-1.5, 1.5, 10),
            }
        )
    )
    sim = simulate_answers(bank, 3_000, answers_per_person=10, seed=1)
    frame = sim.log.to_frame()
    rows = frame["item_id"] == "i0"
    frame.loc[rows, "correct"] = 1 - frame.loc[rows, "correct"]
    with pytest.warns(ConvergenceWarning, match=r"'i0'"):
        result = calibrate(pixirt.ResponseLog.from_frame(frame), "2PL", progress=False)
    got = result.to_frame()
    assert list(result.problems["item_id"]) == ["i0"]
    # closed form: reversing the key maps (a, b) to (−a, b) in the model
    assert got.loc["i0", "a"] == pytest.approx(-0.8, abs=0.15)
    assert got.loc["i0", "b"] == pytest.approx(-1.5, abs=0.3)
    rest = [f"i{k}" for k in range(1, 10)]
    np.testing.assert_allclose(got.loc[rest, "a"], bank.a[1:], atol=0.25)
    np.testing.assert_allclose(got.loc[rest, "b"], bank.b[1:], atol=0.2)
    assert np.isfinite(got.loc[rest, "se_a"]).all()


def test_diverging_slope_is_held_and_flagged() -> None:
    """Six answers that Guttman-separate the persons: the ML slope runs off to infinity."""
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{k}" for k in range(10)],
                "a": np.linspace(0.8, 2.0, 10),
                "b": np.linspace(-1.5, 1.5, 10),
            }
        )
    )
    sim = simulate_answers(bank, 2_000, answers_per_person=10, seed=1)
    frame = sim.log.to_frame()
    totals = frame.groupby("person_id")["correct"].sum()
    first = totals.iloc[:6]
    extra = pd.DataFrame(
        {
            "person_id": first.index,
            "item_id": "sep",
            "correct": (first > totals.median()).astype(int).to_numpy(),
        }
    )
    log = pixirt.ResponseLog.from_frame(pd.concat([frame, extra], ignore_index=True))
    with pytest.warns(ConvergenceWarning, match="'sep'"):
        result = calibrate(log, "2PL", progress=False)
    assert list(result.problems["item_id"]) == ["sep"]
    assert result.problems["problem"].iloc[0] == "diverging slope"
    got = result.to_frame().loc[bank.item_ids]
    ref = calibrate(sim.log, "2PL", progress=False).to_frame().loc[bank.item_ids]
    # six answers hardly move the other items: the fit without them, to 0.05
    np.testing.assert_allclose(got["a"], ref["a"], atol=0.05)
    np.testing.assert_allclose(got["b"], ref["b"], atol=0.05)
    # the held item's parameters are fixed for the others' standard errors
    assert np.isfinite(got[["se_a", "se_b"]].to_numpy()).all()
    np.testing.assert_allclose(got["se_a"], ref["se_a"], rtol=0.05)
    assert np.isnan(result.to_frame().loc["sep", "se_a"])
    with pytest.raises(CalibrationError, match="'sep'"):
        result.engine_bank()


def test_problems_survive_the_result_round_trip(sat12_first_300: pixirt.ResponseLog) -> None:
    with pytest.warns(ConvergenceWarning):
        result = calibrate(sat12_first_300, "2PL", progress=False)
    again = type(result).from_dict(result.to_dict())
    pd.testing.assert_frame_equal(again.problems, result.problems)
    assert "Item.32" in result.summary().as_text()


def test_a_clean_fit_has_no_problems() -> None:
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": ["x", "y", "z"], "a": [1.0, 1.5, 0.7], "b": [-1.0, 0.0, 1.0]})
    )
    sim = simulate_answers(bank, 1_000, answers_per_person=3, seed=4)
    result = calibrate(sim.log, "2PL", progress=False)
    assert result.problems.empty
    assert result.engine_bank() is result.bank


def test_item_bank_still_refuses_non_finite_slopes() -> None:
    with pytest.raises(DataError, match="row 2") as info:
        ItemBank.from_frame(pd.DataFrame({"item_id": ["x", "y"], "a": [1.0, np.inf], "b": [0, 0]}))
    assert info.value.field == "a"


def test_problem_categories_and_their_precedence() -> None:
    """A slope near 0 gives b ≈ 117 (the issue's hidden log): flagged, never an error."""
    from pixirt.calibration._em_result import item_problems
    from pixirt.calibration._state import Layout, State

    ids = np.array(["ok", "flat", "reversed", "guttman"], dtype=object)
    a = np.array([1.2, 0.008, -0.2, 100.0])
    b = np.array([0.5, 117.0, 1.0, 0.3])
    state = State(a=a, d=-a * b, c=np.zeros(4), mean=0.0, variance=1.0)
    layout = Layout(model="2PL", free=np.arange(4), n_a=4, var_free=False)
    got = item_problems(ids, layout, state)
    assert list(got["item_id"]) == ["flat", "reversed", "guttman"]
    assert list(got["problem"]) == ["diverging difficulty", "non-positive slope", "diverging slope"]
    np.testing.assert_allclose(got["b"], [117.0, 1.0, 0.3])
    # a negative slope with a diverging b is reported as the slope (mirt: a ≈ −0.008, b ≈ 117)
    state = State(
        a=np.array([-0.008]), d=np.array([0.008 * 117]), c=np.zeros(1), mean=0.0, variance=1.0
    )
    one = item_problems(
        ids[:1], Layout(model="2PL", free=np.arange(1), n_a=1, var_free=False), state
    )
    assert list(one["problem"]) == ["non-positive slope"]
