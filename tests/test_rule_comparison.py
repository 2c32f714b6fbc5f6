"""compare(): identical rules give nothing, known changes give exactly the hand-counted
transitions, bootstrap intervals cover at their nominal rate, fairness flags, past
sessions, serialisation and the command line."""

import argparse
import json
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from pixirt import DataError, rules
from pixirt.cat import Candidate
from pixirt.cat import _engine as engine
from pixirt.cli._compare import add_compare_parser
from pixirt.simulation import Comparison, Population, compare, pix_like_bank, simulate

TWO_GROUPS = Population(groups={"school": (0.4, -0.5), "adult": (0.6, 0.4)})


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def edited(rule_id, new_id, edit):
    data = rules.load(rule_id).to_dict()
    data["id"] = new_id
    edit(data)
    return rules.RuleSet.from_dict(data)


def shift_competence_11(data):
    """Level 3 of competence 1.1 starts at capacity 0.7 instead of 0.5."""
    rows = data["scoring"]["v3"]["competence_intervals"]["1.1"]
    assert rows[2]["level"] == 2 and rows[3]["level"] == 3 and rows[3]["min"] == 0.5
    rows[2]["max"] = 0.7
    rows[3]["min"] = 0.7


def reject_low(data):
    """Reject every candidate whose capacity is below -1.4 (the first score band starts there)."""
    data["scoring"]["v3"]["intervals"][0]["min"] = -1.4
    data["scoring"]["v3"]["intervals"][0]["max"] = -1.0
    data["scoring"]["v3"]["intervals"][1]["min"] = -1.0
    data["scoring"]["v3"]["reject_when"] = "below_minimum_mesh"


# ---------------------------------------------------------------------------- identical
def test_identical_rule_sets_give_an_all_zero_comparison(bank):
    v3 = rules.load("pix-v3")
    c = compare(
        v3, v3, population=TWO_GROUPS, bank=bank, n=240, seed=3, n_retest=60, n_bootstrap=200
    )
    assert c.n == 240 and c.groups == ("adult", "school") and not c.rules_diff
    out = c.outcomes.to_numpy()
    assert out.sum() == 240 and (out == np.diag(np.diag(out))).all()
    for table in (c.differences, c.quality):
        assert (table["difference"] == 0).all()
        defined = table.dropna(subset=["low", "high"])
        assert (defined["low"] == 0).all() and (defined["high"] == 0).all()
    assert set(c.quality["metric"]) >= {"score_rmse", "level_accuracy", "level_consistency"}
    assert (c.changes["count"] == 0).all() and (c.changes["share"] == 0).all()
    assert (c.changes["low"] == 0).all() and (c.changes["high"] == 0).all()
    assert (c.gaps["gap"] == 0).all() and (c.gaps["cond_gap"] == 0).all()
    assert not c.gaps["flagged"].any() and not c.gaps["watch"].any() and c.flags() == []
    assert (c.levels["baseline"] == c.levels["proposed"]).all()
    assert c.score_changes[["low", "high", "count"]].values.tolist() == [[0, 0, 240]]
    assert (c.scores["baseline"] == c.scores["proposed"]).all()
    assert c.exposure_curves["baseline"] == c.exposure_curves["proposed"]
    h = c.headline()
    assert h["changed"] == h["worse_off"] == h["lost_certification"] == 0
    assert h["pass_rate_difference"] == 0 and h["n_flags"] == 0
    assert (c.level_summary()["n_changed"] == 0).all()


# ---------------------------------------------------------------------------- known effects
def test_v3_competence_interval_shift_moves_exactly_the_hand_counted_candidates(bank):
    """Only competence 1.1 moves, from level 3 to 2, for capacities in [0.5, 0.7)."""
    v3 = rules.load("pix-v3")
    proposed = edited("pix-v3", "v3-shift-1.1", shift_competence_11)
    pop = Population()
    c = compare(
        v3, proposed, population=pop, bank=bank, n=400, seed=11, n_retest=0, n_bootstrap=200
    )
    # counted by hand on the simulator's own output
    frame = simulate(pop, bank, v3, 400, seed=11).frame
    hit = (frame["status"] == "validated") & frame["capacity"].between(0.5, 0.7, inclusive="left")
    expected = int(hit.sum())
    assert expected >= 5  # the check means something
    assert (frame.loc[hit, "cert_level_1.1"] == 3).all()

    assert (c.outcomes.to_numpy() == np.diag(np.diag(c.outcomes.to_numpy()))).all()
    m = c.level_matrix("1.1")
    assert m.loc["3", "2"] == expected
    off = m.to_numpy() - np.diag(np.diag(m.to_numpy()))
    assert off.sum() == expected
    summary = c.level_summary()
    assert summary.loc["1.1", "n_down"] == expected
    assert summary.drop(index="1.1")["n_changed"].sum() == 0
    h = c.headline()
    assert h["changed"] == h["worse_off"] == h["level_down"] == expected
    assert h["better_off"] == h["lost_certification"] == h["score_down"] == 0
    assert h["mean_score_difference"] == 0 and h["pass_rate_difference"] == 0
    assert h["mean_level_difference"] == pytest.approx(-expected / (16 * 400))
    share = c.changes.set_index(["metric", "group"]).loc[("worse_off", "all")]
    assert share["low"] < expected / 400 < share["high"]


def test_v2_reproducibility_threshold_50_to_60_rejects_exactly_the_hand_counted(bank):
    """Raising the threshold to 60 rejects the validated candidates with 50 <= RR < 60, no one else."""
    v2 = rules.load("pix-v2")

    def raise_threshold(data):
        data["scoring"]["v2"]["reproducibility"]["minimum_to_be_certified"] = 60

    proposed = edited("pix-v2", "v2-rr60", raise_threshold)
    pop = Population()
    n = 110
    c = compare(v2, proposed, population=pop, bank=bank, n=n, seed=7, n_retest=0, n_bootstrap=200)
    base = simulate(pop, bank, v2, n, seed=7).frame
    rr = base["reproducibility_rate"]
    lost = (base["status"] == "validated") & (rr >= 50) & (rr < 60)
    expected = int(lost.sum())
    assert expected >= 3

    assert c.outcomes.loc["validated", "rejected"] == expected
    off = c.outcomes.to_numpy() - np.diag(np.diag(c.outcomes.to_numpy()))
    assert off.sum() == expected
    h = c.headline()
    assert h["lost_certification"] == h["worse_off"] == h["changed"] == expected
    assert h["gained_certification"] == h["better_off"] == 0
    assert h["pass_rate_difference"] == pytest.approx(-expected / n)
    # their whole score goes: the mean score falls by their scores' sum over n
    assert h["mean_score_difference"] == pytest.approx(-base.loc[lost, "pix_score"].sum() / n)
    # every level they held is lost, in every competence, and no other level moves
    codes = [col[len("cert_level_") :] for col in base.columns if col.startswith("cert_level_")]
    held = {code: int((base.loc[lost, f"cert_level_{code}"] >= 0).sum()) for code in codes}
    summary = c.level_summary()
    for code in codes:
        assert summary.loc[code, "n_lost"] == held[code]
        assert summary.loc[code, "n_changed"] == held[code]
    # measurement quality is measured for v2 too (true levels of an error-free positioning)
    q = c.quality.set_index("metric")
    assert 0 < q.loc["level_accuracy", "baseline"] <= 1
    assert "capacity_rmse" not in q.index or np.isnan(q.loc["capacity_rmse", "baseline"])


# ---------------------------------------------------------------------------- coverage
def test_bootstrap_intervals_cover_the_true_difference_at_their_nominal_rate(bank):
    """Samples of 300 candidates drawn from a simulated pool whose differences are known.

    The pool (2,500 simulated pairs) is the population: its differences, computed here by
    hand, are the truth; each sample of 300 is drawn from it with replacement (i.e. iid
    from that population) and gets 95 % intervals. Coverage is reported (see docs/jury.md).
    """
    v3 = rules.load("pix-v3")
    proposed = edited("pix-v3", "v3-reject-low", lambda d: (reject_low(d), shift_competence_11(d)))
    pop = Population()
    pool_b = simulate(pop, bank, v3, 2500, seed=21).frame
    pool_p = simulate(pop, bank, proposed, 2500, seed=21).frame
    vb = pool_b["status"].eq("validated").to_numpy()
    vp = pool_p["status"].eq("validated").to_numpy()
    lb = pool_b["cert_level_1.1"].where(vb).to_numpy()
    lp = pool_p["cert_level_1.1"].where(vp).to_numpy()
    truth = {
        ("differences", "pass_rate"): vp.mean() - vb.mean(),
        ("differences", "mean_score"): (pool_p["pix_score"] - pool_b["pix_score"]).mean(),
        ("changes", "lost_certification"): (vb & ~vp).mean(),
        ("changes", "level_down"): (vb & vp & (lp < lb)).mean(),
    }
    assert all(abs(v) > 0.005 for v in truth.values())  # every change is real
    rng = np.random.default_rng(2026)
    reps, m = 160, 300
    hits = {k: 0 for k in truth}
    for r in range(reps):
        idx = rng.integers(0, len(pool_b), m)
        c = Comparison.from_frames(
            pool_b.iloc[idx].reset_index(drop=True),
            pool_p.iloc[idx].reset_index(drop=True),
            baseline_rules=v3,
            proposed_rules=proposed,
            n_bootstrap=400,
            seed=r,
        )
        for (table, metric), value in truth.items():
            row = getattr(c, table).set_index(["metric", "group"]).loc[(metric, "all")]
            hits[(table, metric)] += bool(row["low"] <= value <= row["high"])
    coverage = {metric: h / reps for (_, metric), h in hits.items()}
    overall = sum(hits.values()) / (reps * len(hits))
    print(f"bootstrap coverage at 95 %: {coverage}, overall {overall:.3f}")
    # 160 samples: a 95 % coverage is seen between about 0.91 and 0.98
    assert 0.90 <= overall <= 0.98
    assert all(0.87 <= v <= 0.995 for v in coverage.values())


# ---------------------------------------------------------------------------- fairness
def test_a_change_hurting_the_weaker_group_is_explained_by_level_not_flagged(bank):
    v3 = rules.load("pix-v3")
    proposed = edited("pix-v3", "v3-reject-low", reject_low)
    c = compare(
        v3, proposed, population=TWO_GROUPS, bank=bank, n=900, seed=5, n_retest=0, n_bootstrap=300
    )
    gaps = c.gaps.set_index("metric")
    # a real gap beyond chance, but not unequal treatment: it vanishes at equal ability
    assert gaps.loc["pass_rate", "adj_low"] > 0 and gaps.loc["pass_rate", "watch"]
    assert not gaps.loc["pass_rate", "flagged"] and c.headline()["n_flags"] == 0
    # adult − school: the school group loses more of its pass rate
    assert gaps.loc["pass_rate", "gap"] > 0
    # at equal true ability the groups are treated alike: the gap vanishes
    assert gaps.loc["pass_rate", "cond_low"] <= 0 <= gaps.loc["pass_rate", "cond_high"]
    fr = c.flags("fr")
    en = c.flags("en")
    assert fr and len(fr) == len(en)  # explained in words, though not flagged
    assert any("« school » est plus pénalisé que le groupe « adult »" in s for s in fr)
    assert any("différence de niveau" in s for s in fr)
    assert any("“school” is hurt more than group “adult”" in s for s in en)
    diff = c.differences.set_index(["metric", "group"])
    assert (
        diff.loc[("pass_rate", "school"), "difference"]
        < diff.loc[("pass_rate", "adult"), "difference"]
        < 0
    )


def test_no_flag_when_the_groups_are_alike(bank):
    v3 = rules.load("pix-v3")
    proposed = edited("pix-v3", "v3-reject-low", reject_low)
    alike = Population(groups={"north": (0.5, 0.0), "south": (0.5, 0.0)})
    c = compare(
        v3, proposed, population=alike, bank=bank, n=500, seed=8, n_retest=0, n_bootstrap=300
    )
    assert c.headline()["lost_certification"] > 0
    assert not c.gaps["flagged"].any() and c.flags() == []


# ---------------------------------------------------------------------------- past sessions
def past_sessions(bank, n=10):
    r = rules.load("pix-v3")
    out = []
    for i in range(n):
        state = engine.start(bank, r, candidate=Candidate(f"c{i}", i), seed=4)
        for k in range(32):
            ch = engine.next_challenge(state)
            state = engine.record(state, ch.challenge_id, "ok" if (k * 7 + i) % 9 <= i else "ko")
        out.append(engine.certification(state))
    return out


def test_past_sessions_are_rescored_or_rerun_when_the_selection_changes(bank, tmp_path):
    certs = past_sessions(bank)
    path = tmp_path / "past.jsonl"
    path.write_text("\n".join(json.dumps(c.to_dict()) for c in certs) + "\n")
    v3 = rules.load("pix-v3")
    same = compare(v3, v3, past_sessions=path, bank=bank, n_bootstrap=100)
    assert same.source == "replay" and same.n == 10 and same.headline()["changed"] == 0
    assert same.quality.empty and ("rescored_only", 10) in same.notes

    proposed = edited("pix-v3", "v3-shift-1.1", shift_competence_11)
    rescored = compare(v3, proposed, past_sessions=certs, bank=bank, n_bootstrap=100)
    assert rescored.source == "replay" and not rescored.selection_changed
    assert rescored.outcomes.to_numpy().trace() == 10

    def shorter(data):
        data["selection"]["test_length"] = 24

    short = edited("pix-v3", "v3-24", shorter)
    rerun = compare(v3, short, past_sessions=path, bank=bank, n_bootstrap=100, seed=1)
    assert rerun.source == "counterfactual" and rerun.selection_changed
    assert ("counterfactual", 10) in rerun.notes
    assert any(
        "repasse donc le test en simulation" in line for line in rerun.summary("fr").splitlines()
    )
    assert set(rerun.exposure["mean_length"]) == {32.0, 24.0}
    with pytest.raises(DataError, match="bank"):
        compare(v3, short, past_sessions=path, n_bootstrap=100)


# ---------------------------------------------------------------------------- API
def test_to_dict_round_trips_through_json(bank):
    v3 = rules.load("pix-v3")
    c = compare(
        v3,
        edited("pix-v3", "v3-shift-1.1", shift_competence_11),
        population=TWO_GROUPS,
        bank=bank,
        n=120,
        seed=2,
        n_retest=30,
        n_bootstrap=100,
    )
    data = json.loads(json.dumps(c.to_dict(), allow_nan=False))
    back = Comparison.from_dict(data)
    assert back.to_dict() == data
    assert back.headline() == c.headline() and back.candidates is None
    assert back.summary("fr") == c.summary("fr")
    pd.testing.assert_frame_equal(back.outcomes, c.outcomes)
    with pytest.raises(DataError, match="kind"):
        Comparison.from_dict({"kind": "other"})


def test_bad_arguments_name_the_field(bank):
    v3 = rules.load("pix-v3")
    with pytest.raises(DataError) as info:
        compare(v3, v3, population=Population(), past_sessions=[], bank=bank)
    assert info.value.field == "population"
    with pytest.raises(DataError) as info:
        compare(v3, v3, bank=bank, n=10, n_bootstrap=5)
    assert info.value.field == "n_bootstrap"
    with pytest.raises(DataError) as info:
        compare(v3, v3, bank=bank, n=1)
    assert info.value.field == "n"
    with pytest.raises(DataError) as info:
        compare(v3, v3, bank=bank, n=10, seed=-1)
    assert info.value.field == "seed"


def test_command_line_writes_the_report_and_the_numbers(bank, tmp_path, capsys):
    text = resources.files("pixirt").joinpath("rulesets", "pix-v3.toml").read_text()
    assert "test_length = 32" in text
    mine = tmp_path / "my-rules.toml"
    mine.write_text(
        text.replace('id = "pix-v3"', 'id = "my-rules"').replace(
            "test_length = 32", "test_length = 28"
        )
    )
    parser = argparse.ArgumentParser(prog="pixirt")
    add_compare_parser(parser.add_subparsers(dest="command", required=True))
    report, numbers = tmp_path / "report.html", tmp_path / "numbers.json"
    args = parser.parse_args(
        [
            "compare",
            "--baseline",
            "pix-v3",
            "--proposed",
            str(mine),
            "--n",
            "150",
            "--seed",
            "1",
            "--report",
            str(report),
            "--json",
            str(numbers),
            "--n-retest",
            "40",
            "--bootstrap",
            "200",
            "--lang",
            "en",
        ]
    )
    assert args.func(args) == 0
    out = capsys.readouterr()
    assert f"report: {report.resolve()}" in out.out
    assert "Number of questions in the test: 32 → 28" in out.out
    assert "proposed rules: 150 done" in out.err  # the progress (not a terminal: one line a stage)
    page = report.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "measurement chance" in out.out  # a new test for everyone: the noise floor is said
    data = json.loads(numbers.read_text())
    assert data["proposed"]["id"] == "my-rules" and data["n"] == 150 and data["n_retest"] == 40
    table = data["retest_noise"]
    noise = dict(zip(table["columns"], zip(*table["rows"], strict=True), strict=True))
    assert set(noise["n"]) == {40} and 0 < max(noise["share"]) <= 1
    assert set(data["exposure"]["columns"]) >= {"mean_length", "overlap"}
