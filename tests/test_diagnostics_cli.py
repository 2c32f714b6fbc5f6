"""The diagnostics sub-commands write what the public API computes, and report bad input
as one line naming the field (exit status 2, as ``pixirt.cli.main`` does)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import pixirt
from pixirt import ItemBank
from pixirt.calibration import LinkingResult, item_fit, score_persons
from pixirt.cli._diagnostics import add_diagnostics_parsers
from pixirt.exceptions import PixirtError
from pixirt.simulation import simulate_answers

REF = Path(__file__).parent / "data" / "mirt_reference"


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="pixirt")
    sub = parser.add_subparsers(dest="command", required=True)
    add_diagnostics_parsers(sub)
    args = parser.parse_args(argv)
    try:
        status = int(args.func(args))
    except PixirtError as exc:  # what pixirt.cli.main does
        print(f"pixirt {args.command}: error: {exc}", file=sys.stderr)
        status = 2
    out = capsys.readouterr()
    return status, out.out, out.err


@pytest.fixture()
def sat12(tmp_path: Path) -> tuple[Path, Path, ItemBank]:
    items = pd.read_csv(REF / "sat12" / "items_2PL.csv")
    bank = ItemBank.from_frame(items[["item_id", "a", "b"]], model="2PL")
    bank_path = bank.write(tmp_path / "bank.csv")
    return REF / "sat12" / "sat12_long.csv", bank_path, bank


def test_score_persons(sat12, tmp_path: Path, capsys) -> None:
    answers, bank_path, bank = sat12
    out = tmp_path / "scores.csv"
    status, printed, _ = run(
        [
            "score-persons",
            str(answers),
            "--bank",
            str(bank_path),
            "--method",
            "MLE",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert status == 0 and "MLE scores of 600 persons" in printed and "not finite" in printed
    got = pd.read_csv(out)
    expected = score_persons(pixirt.read_responses(answers), bank, "MLE")
    assert list(got.columns) == ["person_id", "theta", "se", "n_answers", "finite"]
    np.testing.assert_allclose(got["theta"], expected["theta"], rtol=1e-9)
    assert np.isinf(got["theta"]).sum() == (~expected["finite"]).sum() > 0
    status, _, err = run(
        [
            "score-persons",
            str(answers),
            "--bank",
            str(bank_path),
            "--prior-mean",
            "1",
            "--out",
            str(out),
        ],
        capsys,
    )
    assert status == 2 and "field 'prior'" in err


def test_fit_writes_item_person_and_q3_tables(sat12, tmp_path: Path, capsys) -> None:
    answers, bank_path, bank = sat12
    args = ["fit", str(answers), "--bank", str(bank_path), "--out", str(tmp_path / "fit.csv")]
    args += ["--persons-out", str(tmp_path / "persons.csv"), "--q3-out", str(tmp_path / "q3.csv")]
    status, printed, _ = run(args, capsys)
    assert status == 0 and "S-X² computed for 32 items" in printed
    got = pd.read_csv(tmp_path / "fit.csv", index_col="item_id")
    expected = item_fit(pixirt.read_responses(answers), bank)
    np.testing.assert_allclose(got["s_x2"], expected["s_x2"], rtol=1e-8)
    np.testing.assert_allclose(got["outfit"], expected["outfit"], rtol=1e-8)
    # issue 18: S-X²'s RMSEA and the bootstrap p-values (seed 0 by default: reproducible)
    np.testing.assert_allclose(got["s_x2_rmsea"], expected["s_x2_rmsea"], rtol=1e-8)
    np.testing.assert_allclose(got["binned_p"], expected["binned_p"], rtol=1e-9)  # CSV digits
    assert "RMSEA > 0.05" in printed and "beyond its noise" in printed
    persons = pd.read_csv(tmp_path / "persons.csv")
    assert len(persons) == 600 and {"lz_star", "infit", "outfit"} <= set(persons.columns)
    q3 = pd.read_csv(tmp_path / "q3.csv", index_col=0)
    assert q3.shape == (32, 32)


def test_dif_with_a_groups_file(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(0)
    bank = ItemBank.from_frame(
        pd.DataFrame({"item_id": np.arange(10), "b": rng.normal(0, 1, 10)}), model="Rasch"
    )
    ref = simulate_answers(bank, 400, answers_per_person=10, seed=1).log.to_frame()
    foc = simulate_answers(
        bank.with_parameters(b=bank.b + np.r_[1.0, np.zeros(9)]), 400, answers_per_person=10, seed=2
    ).log.to_frame()
    foc["person_id"] += 400
    answers = tmp_path / "answers.csv"
    pd.concat([ref, foc]).to_csv(answers, index=False)
    groups = tmp_path / "groups.csv"
    pd.DataFrame({"person_id": np.arange(800), "group": ["R"] * 400 + ["F"] * 400}).to_csv(
        groups, index=False
    )
    bank_path = bank.write(tmp_path / "bank.json")
    out = tmp_path / "dif.csv"
    base = [
        "dif",
        str(answers),
        "--bank",
        str(bank_path),
        "--groups",
        str(groups),
        "--out",
        str(out),
    ]
    status, printed, _ = run([*base, "--focal", "F"], capsys)
    assert status == 0 and "MH/ETS" in printed and "IRT LR" in printed
    table = pd.read_csv(out, index_col="item_id")
    assert table.loc[0, "mh_flagged"] and table.loc[0, "irt_flagged"]
    assert table.loc[0, "mh_ets"] in ("B-", "C-") and table.loc[0, "irt_delta_b"] > 0.5
    status, _, _ = run(
        [*base, "--focal", "F", "--test", "irt", "--anchors", "5,6,7", "--purify"], capsys
    )
    assert status == 0 and pd.read_csv(out)["irt_anchor"].sum() == 3
    status, _, err = run([*base, "--focal", "X"], capsys)
    assert status == 2 and "field 'focal'" in err and err.count("\n") == 1
    status, _, err = run([*base, "--focal", "F", "--group-column", "team"], capsys)
    assert status == 2 and "groups.csv field 'team'" in err


def test_link_writes_drift_bank_and_result(tmp_path: Path, capsys) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "item_id": [f"c{j}" for j in range(12)],
            "a": np.exp(rng.normal(0, 0.3, 12)),
            "b": rng.normal(0, 1, 12),
        }
    )
    ref = ItemBank.from_frame(frame)
    moved = frame.assign(a=frame["a"] * 1.25, b=(frame["b"] - 0.5) / 1.25)
    moved.loc[3, "b"] += 1.0
    new = ItemBank.from_frame(moved)
    paths = [ref.write(tmp_path / "ref.csv"), new.write(tmp_path / "new.parquet")]
    argv = ["link", *map(str, paths), "--out", str(tmp_path / "drift.csv")]
    argv += ["--linked-bank", str(tmp_path / "linked.csv"), "--result", str(tmp_path / "link.json")]
    status, printed, _ = run(argv, capsys)
    assert status == 0 and "θ_ref = 1.2500 θ_new + 0.5000" in printed
    drift = pd.read_csv(tmp_path / "drift.csv", index_col="item_id")
    assert drift.index[drift["drifted"]].tolist() == ["c3"]
    linked = ItemBank.read(tmp_path / "linked.csv")
    np.testing.assert_allclose(linked.b[:3], ref.b[:3], atol=1e-6)
    result = LinkingResult.from_dict(json.loads((tmp_path / "link.json").read_text()))
    assert result.A == pytest.approx(1.25, abs=1e-6)


def test_items_missing_from_the_bank_exit_2_naming_the_field(sat12, tmp_path: Path, capsys) -> None:
    answers, _, bank = sat12
    small = bank.subset(bank.item_ids[:5]).write(tmp_path / "small.csv")
    status, _, err = run(
        ["fit", str(answers), "--bank", str(small), "--out", str(tmp_path / "f.csv")], capsys
    )
    assert status == 2 and "field 'item_id'" in err and "not in the bank" in err
