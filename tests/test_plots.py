"""Plots draw what they claim (curves, points, highlighted items) and render to PNG."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from pixirt import ItemBank, ResponseLog
from pixirt.calibration import (
    binned_fit,
    empirical_icc,
    irt_dif,
    link,
    plot_dif,
    plot_drift,
    plot_icc,
    plot_information,
    plot_wright_map,
    score_persons,
    standard_error,
)
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers

plt.switch_backend("Agg")


@pytest.fixture(scope="module")
def bank() -> ItemBank:
    rng = np.random.default_rng(0)
    n = 30
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"q{j}" for j in range(n)],
                "a": np.exp(rng.normal(0, 0.3, n)),
                "b": rng.normal(0, 1, n),
            }
        )
    )


@pytest.fixture(scope="module")
def log(bank: ItemBank) -> ResponseLog:
    return simulate_answers(bank, 3000, answers_per_person=15, seed=1).log


def test_icc_with_empirical_proportions(bank: ItemBank, log: ResponseLog, tmp_path) -> None:
    fig, ax = plt.subplots()
    plot_icc(bank, "q3", log=log, n_bins=8, ax=ax)
    curve = ax.lines[0]
    np.testing.assert_allclose(curve.get_ydata(), bank.probability(curve.get_xdata(), ["q3"])[:, 0])
    table = empirical_icc(log, bank, "q3", n_bins=8)
    assert len(table) == 8 and table["n"].sum() == (log.to_frame()["item_id"] == "q3").sum()
    assert ((table["low"] <= table["observed"]) & (table["observed"] <= table["high"])).all()
    # the same bins as the binned fit: its RMSD is the size-weighted RMS of observed − expected
    fit = binned_fit(log, bank, n_bins=8, min_per_bin=1).loc["q3"]
    rmsd = np.sqrt(
        np.sum(table["n"] * (table["observed"] - table["expected"]) ** 2) / table["n"].sum()
    )
    assert fit["n_bins"] == 8 and fit["rmsd"] == pytest.approx(rmsd, rel=1e-9)
    fig.savefig(tmp_path / "icc.png")
    assert (tmp_path / "icc.png").stat().st_size > 0
    plt.close(fig)


def test_information_and_se(bank: ItemBank) -> None:
    fig, ax = plt.subplots()
    theta = np.linspace(-3, 3, 61)
    plot_information(bank, theta=theta, ax=ax)
    test_line = next(ln for ln in ax.lines if ln.get_label() == "test information")
    np.testing.assert_allclose(test_line.get_ydata(), bank.information(theta).sum(axis=1))
    assert len(ax.lines) == bank.n_items + 1
    se_axis = next(other for other in fig.axes if other is not ax)
    np.testing.assert_allclose(se_axis.lines[0].get_ydata(), standard_error(bank, theta))
    plt.close(fig)


def test_wright_map(bank: ItemBank, log: ResponseLog) -> None:
    scores = score_persons(log, bank, "MLE")
    fig = plot_wright_map(bank, scores)
    left, right = fig.axes
    assert sum(p.get_width() for p in left.patches) == scores["finite"].sum()
    np.testing.assert_allclose(right.lines[0].get_ydata(), bank.b)
    plt.close(fig)
    with pytest.raises(DataError) as err:
        plot_wright_map(bank, pd.DataFrame({"x": [1.0]}))
    assert err.value.field == "theta"


def test_dif_curves(bank: ItemBank, log: ResponseLog) -> None:
    groups = pd.Series(np.where(log.person_ids % 2 == 0, "a", "b"), index=log.person_ids)
    dif = irt_dif(log, bank, groups, focal="b", items=["q0", "q1"])
    fig, ax = plt.subplots()
    plot_dif(dif, "q1", ax=ax)
    assert [ln.get_label().split(" ")[0] for ln in ax.lines] == ["a", "b"]
    row = dif.loc["q1"]
    t = ax.lines[1].get_xdata()
    np.testing.assert_allclose(
        ax.lines[1].get_ydata(), 1 / (1 + np.exp(-row["a_focal"] * (t - row["b_focal"])))
    )
    plt.close(fig)
    with pytest.raises(DataError) as err:
        plot_dif(dif, "ghost")
    assert err.value.field == "item"


def test_drift_scatter_highlights_drifted_items(bank: ItemBank) -> None:
    frame = bank.to_frame()
    frame.loc[[4, 9], "b"] += 1.0
    result = link(bank, ItemBank.from_frame(frame), "stocking-lord")
    _, ax = plt.subplots()
    plot_drift(result, ax=ax)
    anchors, drifted = ax.collections[-2], ax.collections[-1]
    assert len(drifted.get_offsets()) == 2 and len(anchors.get_offsets()) == bank.n_items - 2
    assert {t.get_text() for t in ax.texts} == {"q4", "q9"}
    plot_drift(result, parameter="a", ax=ax)
    with pytest.raises(DataError) as err:
        plot_drift(result, parameter="c")
    assert err.value.field == "parameter"
    plt.close("all")


def test_bad_item_names_the_field(bank: ItemBank, log: ResponseLog) -> None:
    with pytest.raises(DataError) as err:
        plot_icc(bank, "ghost")
    assert err.value.field == "item"
