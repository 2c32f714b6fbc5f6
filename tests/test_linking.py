"""Linking: exact recovery of known constants, recovery on two separately calibrated forms,
drift flags and purification, transform, serialization, bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from pixirt import ItemBank
from pixirt.calibration import LINK_METHODS, LinkingResult, calibrate, link
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers


def reference_bank(n: int = 20, seed: int = 0, c: float = 0.0) -> ItemBank:
    rng = np.random.default_rng(seed)
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"q{j}" for j in range(n)],
                "a": np.exp(rng.normal(0, 0.3, n)),
                "b": rng.normal(0, 1, n),
                "c": np.full(n, c),
                "se_b": np.full(n, 0.05),
            }
        )
    )


def on_new_scale(bank: ItemBank, big_a: float, big_b: float) -> ItemBank:
    """The same items seen from a scale with θ_ref = A θ_new + B."""
    frame = bank.to_frame()
    frame["a"] = frame["a"] * big_a
    frame["b"] = (frame["b"] - big_b) / big_a
    return ItemBank.from_frame(frame, model=bank.model)


@pytest.mark.parametrize("method", LINK_METHODS)
@pytest.mark.parametrize("c", [0.0, 0.2])
def test_known_constants_are_recovered_exactly(method: str, c: float) -> None:
    ref = reference_bank(c=c)
    new = on_new_scale(ref, 1.3, -0.4)
    result = link(ref, new, method)
    assert result.A == pytest.approx(1.3, abs=1e-6)
    assert result.B == pytest.approx(-0.4, abs=1e-6)
    assert result.drifted == [] and len(result.anchors) == 20
    linked = result.transform(new)
    np.testing.assert_allclose(linked.a, ref.a, atol=1e-6)
    np.testing.assert_allclose(linked.b, ref.b, atol=1e-6)
    assert linked.latent_mean == pytest.approx(-0.4, abs=1e-6)
    assert linked.latent_variance == pytest.approx(1.69, abs=1e-5)
    np.testing.assert_allclose(linked.to_frame()["se_b"], 0.05 * 1.3, rtol=1e-6)


def test_rasch_banks_differ_by_a_shift_only() -> None:
    ref = ItemBank.from_frame(
        pd.DataFrame({"item_id": range(10), "b": np.linspace(-2, 2, 10)}), model="Rasch"
    )
    new = ItemBank.from_frame(
        pd.DataFrame({"item_id": range(10), "b": np.linspace(-2, 2, 10) - 0.7}), model="Rasch"
    )
    for method in LINK_METHODS:
        result = link(ref, new, method)
        assert result.A == 1.0
        assert result.B == pytest.approx(0.7, abs=1e-6)


def test_constants_are_recovered_on_two_calibrated_forms() -> None:
    """Form X (items 0-29, θ ~ N(0, 1)) and form Y (items 15-44, θ ~ N(0.5, 1.2²)) are
    calibrated separately, each on its own N(0, 1) scale: θ_X = 1.2 θ_Y + 0.5."""
    rng = np.random.default_rng(0)
    n = 45
    truth = ItemBank.from_frame(
        pd.DataFrame(
            {"item_id": np.arange(n), "a": np.exp(rng.normal(0, 0.25, n)), "b": rng.normal(0, 1, n)}
        )
    )
    form_x, form_y = truth.subset(np.arange(0, 30)), truth.subset(np.arange(15, 45))
    log_x = simulate_answers(form_x, 3000, answers_per_person=30, seed=1).log
    log_y = simulate_answers(
        form_y, 3000, answers_per_person=30, theta_mean=0.5, theta_sd=1.2, seed=2
    ).log
    bank_x = calibrate(log_x, "2PL", progress=False).bank
    bank_y = calibrate(log_y, "2PL", progress=False).bank
    for method in LINK_METHODS:
        result = link(bank_x, bank_y, method)
        assert len(result.common) == 15
        assert result.A == pytest.approx(1.2, abs=0.1), method
        assert result.B == pytest.approx(0.5, abs=0.1), method
        assert result.drifted == []  # estimation noise alone stays under the thresholds
    sl = link(bank_x, bank_y)
    linked = sl.transform(bank_y)
    assert np.abs(linked.b[:15] - bank_x.b[15:]).max() < 0.3


def test_drifted_items_are_flagged_and_left_out_of_the_anchors() -> None:
    ref = reference_bank(n=25, seed=3)
    frame = on_new_scale(ref, 0.8, 0.3).to_frame()
    rng = np.random.default_rng(4)
    frame["b"] += rng.normal(0, 0.03, 25)  # calibration noise
    frame.loc[[2, 7], "b"] += 1.0 / 0.8  # items q2, q7 became 1 logit harder (reference units)
    frame.loc[11, "a"] *= 2.0  # item q11's discrimination doubled
    new = ItemBank.from_frame(frame)
    for method in LINK_METHODS:
        result = link(ref, new, method)
        assert sorted(result.drifted) == ["q11", "q2", "q7"]
        assert set(result.anchors) == set(ref.item_ids) - {"q2", "q7", "q11"}
        assert result.rounds >= 2
        assert result.A == pytest.approx(0.8, abs=0.02) and result.B == pytest.approx(0.3, abs=0.03)
        assert result.drift.loc["q2", "delta_b"] == pytest.approx(1.0, abs=0.1)
        assert result.drift.loc["q2", "z_b"] > 10
        assert result.drift.loc["q11", "flag_a"] and not result.drift.loc["q11", "flag_b"]
        kept = link(ref, new, method, purify=False)
        assert kept.rounds == 1 and len(kept.anchors) == 25
    assert "drifted" in result.summary() and "<pre>" in result._repr_html_()


def test_result_round_trips_through_json() -> None:
    ref = reference_bank()
    result = link(ref, on_new_scale(ref, 1.1, 0.2), "haebara")
    back = LinkingResult.from_dict(json.loads(json.dumps(result.to_dict())))
    assert (back.A, back.B, back.method, back.anchors) == (
        result.A,
        result.B,
        result.method,
        result.anchors,
    )
    pd.testing.assert_frame_equal(back.drift, result.drift, check_dtype=False)
    assert back.to_dict() == result.to_dict()


def test_bad_input_names_the_field() -> None:
    ref = reference_bank()
    other = ItemBank.from_frame(pd.DataFrame({"item_id": ["q0", "zz"], "b": [0.0, 1.0]}))
    cases = [
        (lambda: link(ref, other), "common"),
        (lambda: link(ref, ref, common=["q0", "ghost"]), "common"),
        (lambda: link(ref, ref, "equipercentile"), "method"),
        (lambda: link(ref, ref, b_threshold=0), "b_threshold"),
        (lambda: link(ref, "bank.csv"), "new"),
    ]
    for call, field in cases:
        with pytest.raises(DataError) as err:
            call()
        assert err.value.field == field


def test_drift_needs_both_size_and_significance_when_standard_errors_exist() -> None:
    ref = reference_bank(n=15, seed=5)
    frame = on_new_scale(ref, 1.0, 0.0).to_frame()
    frame.loc[4, "b"] += 0.5  # above the 0.3 threshold ...
    frame.loc[4, "se_b"] = 1.0  # ... but well within its estimation error
    frame.loc[6, "b"] += 0.25  # significant (se 0.05) but below the size threshold
    new = ItemBank.from_frame(frame)
    result = link(ref, new)
    assert result.drifted == []
    q4 = result.drift.loc["q4"]
    assert q4["delta_b"] > 0.3 and 0 < q4["z_b"] < 1.0  # 0.4 logits over an SE of about 1
    assert link(ref, new, z_threshold=0).drifted == ["q4"]
    assert link(ref, new, b_threshold=0.1).drifted == ["q6"]
