"""The command line: version, demo, describe, bank, and errors as one line with exit status 2."""

import json
import subprocess
import sys

import pixirt
from pixirt.cli import main


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert capsys.readouterr().out.strip() == f"pixirt {pixirt.__version__}"


def test_demo_writes_its_outputs(tmp_path, capsys):
    out = tmp_path / "demo"
    assert (
        main(
            [
                "demo",
                "--out",
                str(out),
                "--candidates",
                "2000",
                "--certifications",
                "300",
                "--compare",
                "200",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    assert f"outputs in {out}/" in printed
    for name in (
        "bank.csv",
        "simulated_answers.parquet",
        "logs.png",
        "calibrated_bank.csv",
        "pisa_2pl_bank.csv",
        "calibration.png",
        "certifications.parquet",
        "rule-change-report.html",
        "summary.json",
    ):
        assert (out / name).stat().st_size > 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["simulated_log"]["n_answers"] == 60_000
    assert summary["real_log"]["n_answers"] == 117_371
    assert summary["bank"]["n_competences"] == 16
    assert pixirt.ItemBank.read(out / "bank.csv").hash == summary["bank"]["hash"]
    assert summary["calibration"]["simulated_2pl"]["converged"]
    assert (
        summary["calibration"]["real_2pl"]["loglik"]
        > summary["calibration"]["real_rasch"]["loglik"]
    )
    assert summary["certifications"]["n"] == 300
    assert "rule-change-report.html" in summary["rule_change"]["report"]


def test_describe_and_bank(tmp_path, capsys):
    bank_path = tmp_path / "bank.parquet"
    assert main(["bank", "--seed", "3", "--out", str(bank_path)]) == 0
    assert pixirt.ItemBank.read(bank_path).n_items > 2000
    answers = tmp_path / "a.csv"
    answers.write_text("person_id,item_id,correct\np,a,ok\np,b,ko\nq,a,aband\n")
    assert main(["describe", str(answers), "--statuses", "missing"]) == 0
    assert "2 persons × 2 items, 2 answers" in capsys.readouterr().out


def test_bad_input_is_one_line_and_exit_2(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("person_id,item_id,correct\np,a,ok\np,b,maybe\n")
    proc = subprocess.run(
        [sys.executable, "-m", "pixirt.cli", "describe", str(bad)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"pixirt describe: error: {bad} row 2 field 'correct': unknown answer 'maybe': expected 0/1, "
        "true/false or a Pix status (ok, ko, aband, timedout, focusedOut, partially, unimplemented)"
    ]
    assert "Traceback" not in proc.stderr
