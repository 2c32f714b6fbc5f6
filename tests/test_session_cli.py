"""``pixirt session``: an interactive session driven by typed answers (stdin fed by the tests)."""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys

import pytest

from pixirt import rules
from pixirt.cat import Candidate, CatState
from pixirt.cat import _engine as engine
from pixirt.cli._session import add_session_parser, main, session_command
from pixirt.simulation import Population, pix_like_bank


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(0)


def run(monkeypatch, capsys, argv, typed):
    monkeypatch.setattr(sys, "stdin", io.StringIO(typed))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def served(out):
    """Challenge ids in the order the session showed them."""
    return [
        line.split("challenge ")[1].split(":")[0]
        for line in out.splitlines()
        if "] challenge " in line
    ]


def test_full_v3_session_matches_the_engine(monkeypatch, capsys, tmp_path, bank):
    answers = ["ok", "ko", "y", "0", "aband", "1"] * 6
    save = tmp_path / "session.json"
    code, out, err = run(
        monkeypatch, capsys, ["--seed", "5", "--save", str(save)], "\n".join(answers) + "\n"
    )
    assert code == 0, err
    assert "[32/32]" in out and "result: " in out
    # the same session through the engine: same challenges, same result
    v3 = rules.load("pix-v3")
    state = engine.start(bank, v3, candidate=Candidate("candidate", 0), seed=5)
    expected = []
    aliases = {"y": "ok", "1": "ok", "0": "ko"}
    for typed in answers:
        choice = engine.next_challenge(state)
        if choice is None:
            break
        expected.append(choice.challenge_id)
        state = engine.record(state, choice.challenge_id, aliases.get(typed, typed))
    assert served(out) == expected
    saved = json.loads(save.read_text())
    resumed = CatState.from_dict(saved["state"], bank=bank, rules=v3)
    assert resumed == state
    assert saved["result"] == engine.result(state).to_dict()
    assert f"{saved['result']['pix_score']} pix" in out


def test_help_unknown_alert_and_quit(monkeypatch, capsys, tmp_path):
    save = tmp_path / "s.json"
    code, out, _ = run(
        monkeypatch, capsys, ["--seed", "2", "--save", str(save)], "ok\n?\nmaybe\nalert\nko\nq\n"
    )
    assert code == 0
    assert "not understood: 'maybe'" in out
    assert out.count("answers: ok ko aband") >= 3  # header, '?', after the unknown answer
    assert "live alert validated" in out and "session aborted" in out
    state = json.loads(save.read_text())["state"]
    assert state["abort_reason"] == "candidate"
    assert state["statuses"] == ["ok", None, "ko"]
    ids = served(out)
    assert ids[1] != ids[2] and ids[2] == state["asked"][2]  # the withdrawn challenge is replaced


def test_end_of_input_aborts_for_a_technical_reason(monkeypatch, capsys, tmp_path):
    save = tmp_path / "s.json"
    code, out, _ = run(monkeypatch, capsys, ["--seed", "1", "--save", str(save)], "ok\nko\n")
    assert code == 0 and "technical reason" in out
    saved = json.loads(save.read_text())
    assert saved["state"]["abort_reason"] == "technical"
    assert saved["result"]["status"] == "cancelled"  # fewer than 20 answers, technical abort


def test_v2_session_with_a_profile_file(monkeypatch, capsys, tmp_path, bank):
    cands = Population().sample(30, seed=2, bank=bank)
    profile = next(cands.profile(r) for r in range(len(cands)) if cands.profile(r).is_certifiable())
    path = tmp_path / "profile.json"
    path.write_text(json.dumps(profile.to_dict()))
    state = engine.start(bank, rules.load("pix-v2"), profile=profile, seed=4)
    typed = "alert\n" + "ok\n" * len(state.plan)
    code, out, err = run(
        monkeypatch, capsys, ["--rules", "pix-v2", "--profile", str(path), "--seed", "4"], typed
    )
    assert code == 0, err
    assert "v3 only" in out  # no live alert in v2
    assert served(out) == list(state.plan)  # after "alert" the same challenge waits
    assert "reproducibility rate 100%" in out and "result: validated" in out


def test_v2_without_profile_uses_a_simulated_candidate(monkeypatch, capsys):
    code, out, _ = run(monkeypatch, capsys, ["--rules", "pix-v2", "--seed", "0"], "q\n")
    assert code == 0
    assert "simulated positioning profile" in out and "session aborted" in out


def test_bank_file_and_accessibility(monkeypatch, capsys, tmp_path, bank):
    path = bank.write(tmp_path / "bank.csv")
    code, out, err = run(
        monkeypatch,
        capsys,
        ["--bank", str(path), "--seed", "3", "--accessibility", "--candidate-index", "7"],
        "ok\nko\nq\n",
    )
    assert code == 0, err
    access = bank.metadata["accessible"]
    ids = served(out)
    assert len(ids) == 3 and all(access.loc[c] for c in ids)
    state = engine.start(
        bank, rules.load("pix-v3"), candidate=Candidate("x", 7, accessibility=True), seed=3
    )
    assert ids[0] == engine.next_challenge(state).challenge_id


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--bank", "nope.csv"], "no such file"),
        (["--rules", "pix-v9"], "pix-v9"),
        (["--rules", "pix-v2", "--profile", "missing.json"], "no such file"),
        (["--seed", "-1"], "seed"),
    ],
)
def test_invalid_input_is_one_line_on_stderr(monkeypatch, capsys, tmp_path, argv, message):
    monkeypatch.chdir(tmp_path)
    code, _, err = run(monkeypatch, capsys, argv, "ok\n")
    assert code == 2
    assert err.startswith("pixirt session: ") and message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_add_session_parser_wires_the_command():
    parser = argparse.ArgumentParser(prog="pixirt")
    sub = parser.add_subparsers(dest="command")
    add_session_parser(sub)
    args = parser.parse_args(["session", "--rules", "pix-v3", "--seed", "9"])
    assert args.func is session_command and args.seed == 9 and args.bank is None


def test_real_stdin_in_a_subprocess(tmp_path):
    save = tmp_path / "s.json"
    proc = subprocess.run(
        [sys.executable, "-m", "pixirt.cli._session", "--seed", "8", "--save", str(save)],
        input="ok\nok\nko\nq\n",
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert len(served(proc.stdout)) == 4
    assert json.loads(save.read_text())["state"]["statuses"] == ["ok", "ok", "ko"]
