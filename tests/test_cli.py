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


_WITHOUT_EXTRAS = """
import importlib.abc, sys
BLOCKED = {"fastapi", "starlette", "uvicorn", "httpx", "dask", "distributed", "numba"}

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Block())
from pixirt.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _core_only(*args: str):
    """Run the CLI as a core-only install sees it: no service, distributed or fast extra."""
    return subprocess.run(
        [sys.executable, "-c", _WITHOUT_EXTRAS, *args], capture_output=True, text=True, check=False
    )


def test_the_command_line_works_without_the_extras(tmp_path):
    """`make demo` installs the core only: every command builds, and an extra's command says
    which extra to install in one line (no traceback)."""
    sims = tmp_path / "sims.parquet"
    done = _core_only("simulate", "--rules", "pix-v3", "--n", "60", "--out", str(sims))
    assert done.returncode == 0, done.stderr
    assert sims.is_file()
    served = _core_only("serve", "--rules", "pix-v3")
    assert served.returncode == 2
    assert "pip install 'pixirt[service]'" in served.stderr and "Traceback" not in served.stderr
    answers = "tests/data/lsat7/lsat7_long.csv"
    dask_run = _core_only("calibrate", answers, "--out", str(tmp_path / "b.csv"), "--workers", "2")
    assert dask_run.returncode == 2
    assert "pip install 'pixirt[distributed]'" in dask_run.stderr
    assert "Traceback" not in dask_run.stderr
