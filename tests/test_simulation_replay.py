"""Population files, rescoring past sessions, and the simulate/replay command lines."""

import json

import numpy as np
import pandas as pd
import pytest
from simulation_cases import played_v3

from pixirt import DataError, rules
from pixirt.cat import Candidate, score
from pixirt.cat import _engine as engine
from pixirt.cli import main
from pixirt.simulation import Population, counterfactual, pix_like_bank, replay


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def test_population_toml(tmp_path):
    f = tmp_path / "pop.toml"
    f.write_text(
        "mean = 0.2\nsd = 0.9\nloading = 0.7\n[groups]\nschool = [0.4, -0.2]\nadult = [0.6, 0.1]\n"
    )
    pop = Population.read(f)
    assert pop.mean == 0.2 and pop.groups["school"] == (0.4, -0.2)
    bad = tmp_path / "bad.toml"
    bad.write_text("mean = 0\ncolour = 'red'\n")
    with pytest.raises(DataError, match="unknown field") as info:
        Population.read(bad)
    assert info.value.field == "colour" and info.value.path == str(bad)
    bad.write_text("[groups]\na = [0.5, 0.0]\nb = [0.4, 0.0]\n")
    with pytest.raises(DataError, match="sum to 1") as info:
        Population.read(bad)
    assert info.value.field == "groups"


def sessions(bank, n=12):
    r = rules.load("pix-v3")
    out = []
    for i in range(n):
        state = engine.start(bank, r, candidate=Candidate(f"c{i}", i), seed=4)
        for k in range(32 if i % 4 else 25):
            ch = engine.next_challenge(state)
            state = engine.record(state, ch.challenge_id, "ok" if (k + i) % 3 else "ko")
        if i % 4 == 0:
            state = engine.abort(state, "candidate")
        out.append(engine.certification(state))
    return out


def test_replay_rescores_exactly(bank, tmp_path):
    certs = sessions(bank)
    path = tmp_path / "past.jsonl"
    path.write_text("\n".join(json.dumps(c.to_dict()) for c in certs) + "\n")
    for rule_id in ("pix-v3", "pix-v3-2023"):
        r = rules.load(rule_id)
        frame = replay(path, r, bank=bank)
        assert len(frame) == 12 and set(frame["rules_hash"]) == {r.hash}
        for i, cert in enumerate(certs):
            expected = score(cert, r, bank=bank)
            assert frame.loc[i, "pix_score"] == expected.pix_score
            assert frame.loc[i, "status"] == expected.status
    # a different scoring rule set moves scores
    a = replay(certs, rules.load("pix-v3"), bank=bank)["pix_score"]
    b = replay(certs, rules.load("pix-v3-2023"), bank=bank)["pix_score"]
    assert not np.array_equal(a.to_numpy(), b.to_numpy())


def test_replay_bad_line_names_it(tmp_path):
    path = tmp_path / "past.jsonl"
    path.write_text('{"challenges": []}\n{"challenges": [{"competence": "1.1"}]}\n')
    with pytest.raises(DataError) as info:
        replay(path, rules.load("pix-v3"))
    assert (
        info.value.row == 2
        and info.value.path == str(path)
        and "challenge_id" in str(info.value.field)
    )


def test_simulate_and_replay_commands(bank, tmp_path, capsys):
    out = tmp_path / "sims.parquet"
    assert (
        main(
            [
                "simulate",
                "--rules",
                "pix-v3",
                "--n",
                "300",
                "--seed",
                "1",
                "--out",
                str(out),
                "--abandon-rate",
                "0.1",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert "simulated 300 certifications under pix-v3" in printed
    frame = pd.read_parquet(out)
    assert len(frame) == 300 and (frame["abort_reason"] == "candidate").sum() > 10
    past = tmp_path / "past.jsonl"
    past.write_text("\n".join(json.dumps(c.to_dict()) for c in sessions(bank, 4)) + "\n")
    rescored = tmp_path / "rescored.csv"
    assert main(["replay", str(past), "--rules", "pix-v3-2023", "--out", str(rescored)]) == 0
    assert len(pd.read_csv(rescored)) == 4


def test_counterfactual_reruns_sessions_at_estimated_ability(bank):
    r = rules.load("pix-v3")
    # candidate i answers right about (i + 1) / 9 of the time
    certs = played_v3(bank, r, 8, seed=4, right=lambda i, k: (k * 7 + i) % 9 <= i)
    d = rules.load("pix-v3").to_dict()
    d["id"] = "shorter"
    d["selection"]["test_length"] = 24
    shorter = rules.RuleSet.from_dict(d)
    out = counterfactual(certs, shorter, bank, seed=3)
    assert len(out) == 8 and out["counterfactual"].all() and (out["n_answers"] <= 24).all()
    assert out["note"].str.contains("simulated answers").all()
    # candidates who answered better in reality get higher estimated abilities and capacities
    right = [sum(ch.status == "ok" for ch in c.challenges) for c in certs]
    assert np.corrcoef(right, out["estimated_theta"])[0, 1] > 0.5
    assert np.corrcoef(out["estimated_theta"], out["capacity"])[0, 1] > 0.5


def test_counterfactual_keeps_the_real_jury_decisions(bank):
    """Real fraud and cancellations follow the candidates into the new test (not 9/9 validated)."""
    from dataclasses import replace as dc_replace

    r = rules.load("pix-v3")
    certs = []
    for i, cert in enumerate(played_v3(bank, r, 9, seed=5)):
        if i in (1, 4):
            cert = dc_replace(cert, fraud=True)
        if i == 7:
            cert = dc_replace(cert, cancelled=True)
        certs.append(cert)
    real = [score(c, r, bank=bank).status for c in certs]
    assert real.count("validated") == 6
    d = r.to_dict()
    d["id"] = "shorter"
    d["selection"]["test_length"] = 24
    out = counterfactual(certs, rules.RuleSet.from_dict(d), bank, seed=3)
    assert list(out["status"]).count("validated") == 6
    assert list(out.loc[[1, 4], "comment"]) == ["FRAUD", "FRAUD"]
    assert out.loc[7, "status"] == "cancelled_by_jury"
    assert bool(out.loc[1, "fraud"]) and not bool(out.loc[0, "fraud"])


def test_observed_population_checks_the_jury_columns():
    import pandas as pd

    from pixirt import DataError
    from pixirt.simulation import Population

    table = pd.DataFrame({"candidate_id": ["a", "b"], "theta": [0.0, 1.0], "fraud": [True, "yes"]})
    with pytest.raises(DataError, match="expected true or false") as info:
        Population.from_frame(table, path="past.csv")
    assert info.value.row == 2 and info.value.field == "fraud"
