"""DIF: Mantel–Haenszel against its textbook formulas, the IRT likelihood-ratio test
against a direct optimization, and power / false-positive rates on simulated data with
DIF planted on known items (a few seeds; ``dif_power_study`` runs the full study)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from pixirt import ItemBank, ResponseLog
from pixirt.calibration import dif_power_study, irt_dif, mantel_haenszel_dif
from pixirt.exceptions import DataError
from pixirt.simulation import simulate_answers


def two_groups(
    n_items: int = 12,
    n_per_group: int = 600,
    dif: dict[int, float] | None = None,
    impact: float = 0.5,
    per_person: int | None = None,
    seed: int = 0,
    rasch: bool = False,
) -> tuple[ItemBank, ResponseLog, pd.Series]:
    rng = np.random.default_rng(seed)
    a = np.ones(n_items) if rasch else np.exp(rng.normal(0, 0.25, n_items))
    b = rng.normal(0, 1, n_items)
    frame = pd.DataFrame({"item_id": [f"i{j}" for j in range(n_items)], "a": a, "b": b})
    bank = ItemBank.from_frame(frame, model="Rasch" if rasch else "2PL")
    shift = np.zeros(n_items)
    for j, size in (dif or {}).items():
        shift[j] = size
    per = per_person or n_items
    ref = simulate_answers(bank, n_per_group, answers_per_person=per, seed=seed).log.to_frame()
    foc = simulate_answers(
        bank.with_parameters(b=b + shift),
        n_per_group,
        answers_per_person=per,
        theta_mean=-impact,
        seed=seed + 1000,
    ).log.to_frame()
    foc["person_id"] += n_per_group
    log = ResponseLog.from_frame(pd.concat([ref, foc], ignore_index=True))
    groups = pd.Series(
        np.where(log.person_ids < n_per_group, "ref", "foc"), index=pd.Index(log.person_ids)
    )
    return bank, log, groups


def test_mantel_haenszel_matches_the_textbook_formulas() -> None:
    bank, log, groups = two_groups(n_items=6, n_per_group=300, dif={0: 1.0}, seed=1)
    got = mantel_haenszel_dif(log, bank, groups, focal="foc")
    assert got.attrs["matching"] == "score"
    dense = pd.DataFrame(log.to_dense(), index=log.person_ids, columns=log.item_ids)
    total = dense.sum(axis=1)
    focal = (groups.reindex(dense.index) == "foc").to_numpy()
    z = stats.norm.isf(0.05)
    for item in dense.columns:  # an independent, loop-by-stratum implementation
        num = den = obs = exp = var = 0.0
        rs_list, ss_list, p_list, q_list = [], [], [], []
        for score in np.unique(total):
            at = (total == score).to_numpy()
            y = dense[item].to_numpy()[at]
            f = focal[at]
            a_, b_ = np.sum((y == 1) & ~f), np.sum((y == 0) & ~f)
            c_, d_ = np.sum((y == 1) & f), np.sum((y == 0) & f)
            n = a_ + b_ + c_ + d_
            if a_ + b_ == 0 or c_ + d_ == 0:
                continue
            num += a_ * d_ / n
            den += b_ * c_ / n
            obs += a_
            exp += (a_ + b_) * (a_ + c_) / n
            var += (a_ + b_) * (c_ + d_) * (a_ + c_) * (b_ + d_) / (n * n * (n - 1))
            rs_list.append(a_ * d_ / n)
            ss_list.append(b_ * c_ / n)
            p_list.append((a_ + d_) / n)
            q_list.append((b_ + c_) / n)
        r, s, p, q = map(np.array, (rs_list, ss_list, p_list, q_list))
        # Robins–Breslow–Greenland variance of log(alpha)
        var_log = (
            (p * r).sum() / (2 * num**2)
            + (p * s + q * r).sum() / (2 * num * den)
            + (q * s).sum() / (2 * den**2)
        )
        alpha = num / den
        chi2 = (abs(obs - exp) - 0.5) ** 2 / var
        d = -2.35 * np.log(alpha)
        se = 2.35 * np.sqrt(var_log)
        p_value = stats.chi2.sf(chi2, 1)
        row = got.loc[item]
        assert row["alpha_mh"] == pytest.approx(alpha, rel=1e-12)
        assert row["chi2"] == pytest.approx(chi2, rel=1e-12)
        assert row["d_dif"] == pytest.approx(d, rel=1e-12)
        assert row["se_d"] == pytest.approx(se, rel=1e-12)
        expected_class = (
            "A"
            if abs(d) < 1 or p_value >= 0.05
            else ("C" if abs(d) >= 1.5 and (abs(d) - 1) / se > z else "B")
        )
        assert row["ets_class"] == expected_class
    assert got.loc["i0", "ets"] == "C-"  # harder for the focal group: favours the reference
    assert got.loc["i0", "flagged"]
    assert got["n_reference"].eq(300).all() and got["n_focal"].eq(300).all()


def test_irt_lr_equals_a_direct_optimization_of_the_conditional_likelihood() -> None:
    bank, log, groups = two_groups(n_items=5, n_per_group=250, dif={0: 0.7}, seed=2, rasch=True)
    got = irt_dif(log, bank, groups, focal="foc", tol=1e-9)
    dist = got.attrs["group_distributions"]
    nodes = np.linspace(-6, 6, 61)  # the bank's N(0, 1) scale, 61 nodes
    dense = log.to_dense()
    focal = (groups.reindex(log.person_ids) == "foc").to_numpy()
    y0 = dense[:, 0]
    others = pd.Index(log.item_ids).get_indexer(bank.item_ids[1:])
    p_other = bank.probability(nodes, bank.item_ids[1:])  # nodes × 4
    yo = dense[:, others]
    ll = yo @ np.log(p_other).T + (1 - yo) @ np.log(1 - p_other).T
    prior = np.where(
        focal[:, None],
        stats.norm.logpdf(nodes, *dist["foc"]),
        stats.norm.logpdf(nodes, *dist["ref"]),
    )
    post = np.exp(ll + prior - (ll + prior).max(axis=1, keepdims=True))
    post /= post.sum(axis=1, keepdims=True)

    def neg_ll(b: float, who: np.ndarray) -> float:
        p = 1 / (1 + np.exp(-(nodes - b)))
        m = (post[who] * np.where(y0[who, None] == 1, p, 1 - p)).sum(axis=1)
        return float(-np.log(m).sum())

    fits = {
        name: optimize.minimize_scalar(
            neg_ll, args=(who,), bounds=(-5, 5), method="bounded", options={"xatol": 1e-10}
        )
        for name, who in (("ref", ~focal), ("foc", focal), ("all", np.ones_like(focal)))
    }
    lr = 2 * (fits["all"].fun - fits["ref"].fun - fits["foc"].fun)
    row = got.loc["i0"]
    assert row["df"] == 1
    assert row["lr"] == pytest.approx(lr, rel=1e-5, abs=1e-6)
    assert row["b_reference"] == pytest.approx(fits["ref"].x, abs=1e-5)
    assert row["b_focal"] == pytest.approx(fits["foc"].x, abs=1e-5)
    assert row["b_common"] == pytest.approx(fits["all"].x, abs=1e-5)
    assert row["p_value"] < 0.05 and row["delta_b"] > 0
    # issue 18: the flag uses the Benjamini–Hochberg adjusted p-value (5 tests here)
    assert row["flagged"] == (row["p_adjusted"] < 0.05)


def test_irt_dif_recovers_the_planted_shift_and_the_impact() -> None:
    bank, log, groups = two_groups(n_items=20, n_per_group=1500, dif={3: 0.6}, impact=0.5, seed=3)
    got = irt_dif(log, bank, groups, focal="foc")
    assert got.loc["i3", "delta_b"] == pytest.approx(0.6, abs=0.2)
    assert got.loc["i3", "p_value"] < 1e-4 and got.loc["i3", "wald_p"] < 1e-4
    clean = got.drop("i3")
    assert clean["delta_b"].abs().median() < 0.15 and (clean["p_value"] > 0.01).all()
    ref_mean, ref_sd = got.attrs["group_distributions"]["ref"]
    foc_mean, foc_sd = got.attrs["group_distributions"]["foc"]
    assert ref_mean - foc_mean == pytest.approx(0.5, abs=0.15)
    assert ref_sd == pytest.approx(1.0, abs=0.1) and foc_sd == pytest.approx(1.0, abs=0.1)
    assert got["converged"].all()
    assert got.attrs["anchors"] == list(log.item_ids)


def test_anchors_and_purification() -> None:
    dif = dict.fromkeys(range(5), 0.8)  # a quarter of the items, all against the focal group
    bank, log, groups = two_groups(n_items=20, n_per_group=1000, dif=dif, seed=4)
    clean = [f"i{j}" for j in range(5, 20)]
    naive = irt_dif(log, bank, groups, focal="foc")
    purified = irt_dif(log, bank, groups, focal="foc", purify=True)
    anchored = irt_dif(log, bank, groups, focal="foc", anchors=clean[:8])
    assert purified.attrs["purification_rounds"] == 2
    for result in (naive, purified, anchored):
        assert result.loc[[f"i{j}" for j in range(5)], "flagged"].all()
    assert purified.loc[clean, "flagged"].sum() <= naive.loc[clean, "flagged"].sum()
    assert anchored.loc[clean, "flagged"].sum() <= naive.loc[clean, "flagged"].sum()
    assert anchored["anchor"].sum() == 8
    mh_naive = mantel_haenszel_dif(log, bank, groups, focal="foc")
    mh_pure = mantel_haenszel_dif(log, bank, groups, focal="foc", purify=True)
    assert mh_pure.attrs["purification_rounds"] == 2
    assert set(mh_pure.attrs["matching_items"]) == set(mh_naive.index[~mh_naive["flagged"]])
    assert mh_pure.loc[[f"i{j}" for j in range(5)], "flagged"].all()
    assert mh_pure.loc[clean, "flagged"].sum() <= mh_naive.loc[clean, "flagged"].sum()


@pytest.mark.parametrize("per_person", [None, 12])
def test_power_and_false_positive_rate_over_seeds(per_person: int | None) -> None:
    """The tests at their nominal level (``correction="none"``: the unadjusted flags)."""
    planted = dif_power_study(
        correction="none",
        n_replications=2,
        n_items=20,
        dif_items=3,
        dif_size=0.8,
        n_reference=700,
        n_focal=700,
        answers_per_person=per_person,
        seed=11,
    )
    assert (planted["power"] >= 0.8).all()
    assert (planted["false_positive_rate"] <= 0.15).all()
    null = dif_power_study(
        correction="none",
        n_replications=2,
        n_items=20,
        dif_items=0,
        dif_size=0.0,
        n_reference=700,
        n_focal=700,
        answers_per_person=per_person,
        seed=12,
    )
    # 40 clean tests per row at a nominal 5%: at most 4 flags (P(X > 4) ≈ 0.05 under the null)
    assert (null["false_positive_rate"] <= 0.1).all()


def test_sparse_logs_use_ability_matching() -> None:
    bank, log, groups = two_groups(n_items=30, n_per_group=800, dif={0: 1.0}, per_person=15, seed=5)
    got = mantel_haenszel_dif(log, bank, groups, focal="foc")
    assert got.attrs["matching"] == "theta"
    assert set(got.attrs["group_distributions"]) == {"ref", "foc"}
    assert got.loc["i0", "flagged"] and got.loc["i0", "d_dif"] < 0
    with pytest.raises(DataError) as err:
        mantel_haenszel_dif(log, bank, groups, focal="foc", matching="score")
    assert err.value.field == "matching"


def test_groups_input_and_bad_input_name_the_field() -> None:
    bank, log, groups = two_groups(n_items=5, n_per_group=50, seed=6)
    partial = groups.iloc[:70]  # persons absent from the Series are left out
    got = mantel_haenszel_dif(log, bank, partial, focal="foc", matching="score")
    assert (got["n_reference"] + got["n_focal"]).eq(70).all()
    as_list = mantel_haenszel_dif(log, bank, list(groups.reindex(log.person_ids)), focal="foc")
    pd.testing.assert_frame_equal(as_list, mantel_haenszel_dif(log, bank, groups, focal="foc"))
    lonely = groups.copy()
    lonely.iloc[:] = "ref"
    lonely.iloc[0] = "foc"
    three = groups.copy()
    three.iloc[:10] = "other"
    cases = [
        (lambda: mantel_haenszel_dif(log, bank, lonely, focal="foc"), "groups"),
        (lambda: irt_dif(log, bank, lonely, focal="foc"), "groups"),
        (lambda: mantel_haenszel_dif(log, bank, groups, focal="nobody"), "focal"),
        (lambda: mantel_haenszel_dif(log, bank, three, focal="foc"), "reference"),
        (lambda: mantel_haenszel_dif(log, bank, groups, focal="foc", reference="x"), "reference"),
        (lambda: mantel_haenszel_dif(log, bank, ["ref", "foc"], focal="foc"), "groups"),
        (lambda: irt_dif(log, bank, groups, focal="foc", anchors=["ghost"]), "anchors"),
        (lambda: irt_dif(log, bank, groups, focal="foc", items=["ghost"]), "items"),
        (lambda: mantel_haenszel_dif(log, bank, groups, focal="foc", alpha=1.5), "alpha"),
        (
            lambda: mantel_haenszel_dif(log, bank.subset(bank.item_ids[:3]), groups, focal="foc"),
            "item_id",
        ),
    ]
    for call, field in cases:
        with pytest.raises(DataError) as err:
            call()
        assert err.value.field == field, (field, err.value)
    with_three = mantel_haenszel_dif(
        log, bank, three, focal="foc", reference="ref", matching="score"
    )
    assert (with_three["n_reference"] + with_three["n_focal"]).eq(90).all()
