"""``pixirt score``: the sub-command the CLI wires in (score_command / add_score_parser)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pixirt import rules
from pixirt.cat import Certification, CertificationResult, score
from pixirt.cli._score import add_score_parser, score_command

CERT = {
    "id": "cli-v2",
    "profile": {"1.1": {"level": 4, "pix": 37}, "1.2": {"level": 2, "pix": 19}},
    "challenges": [
        {"challenge_id": "a1", "competence": "1.1", "status": "ok"},
        {"challenge_id": "a2", "competence": "1.1", "status": "ok"},
        {"challenge_id": "a3", "competence": "1.1", "status": "ko"},
        {"challenge_id": "b1", "competence": "1.2", "status": "ok"},
        {"challenge_id": "b2", "competence": "1.2", "status": "ok", "type": "QROCM-dep"},
        {"challenge_id": "b3", "competence": "1.2", "status": "ok"},
    ],
}


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pixirt")
    add_score_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    assert args.func is score_command
    return int(args.func(args))


def write(tmp_path, data, name="cert.json"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_prints_the_result_json(tmp_path, capsys):
    path = write(tmp_path, CERT)
    assert run(["score", str(path), "--rules", "pix-v2"]) == 0
    out = capsys.readouterr()
    result = CertificationResult.from_json(out.out)
    assert result == score(Certification.from_dict(CERT), rules.load("pix-v2"))
    assert (result.status, result.pix_score, result.reproducibility_rate) == ("validated", 56, 83)
    assert out.err == ""


def test_explain_goes_to_standard_error(tmp_path, capsys):
    assert (
        run(
            ["score", str(write(tmp_path, CERT)), "--rules", "pix-v2", "--explain", "--indent", "0"]
        )
        == 0
    )
    out = capsys.readouterr()
    json.loads(out.out)
    assert out.err.startswith("Certification cli-v2: VALIDATED")


def test_rule_set_path(tmp_path, capsys):
    rules_path = tmp_path / "jury.toml"
    shipped = Path(rules.__file__).parent / "rulesets" / "pix-v2.toml"
    rules_path.write_text(
        shipped.read_text(encoding="utf-8").replace('id = "pix-v2"', 'id = "jury-2026"'),
        encoding="utf-8",
    )
    assert run(["score", str(write(tmp_path, CERT)), "--rules", str(rules_path)]) == 0
    assert json.loads(capsys.readouterr().out)["rules"]["id"] == "jury-2026"


@pytest.mark.parametrize(
    ("data", "needle"),
    [
        ({**CERT, "candidate": "x"}, "cert.json field 'candidate': unknown field"),
        (
            {
                **CERT,
                "challenges": [
                    *CERT["challenges"][:-1],
                    {"challenge_id": "b3", "competence": "1.2", "status": "yes"},
                ],
            },
            "cert.json field 'challenges[5].status': expected one of ok/ko",
        ),
        (
            {**CERT, "profile": {"1.1": {"level": "4", "pix": 37}}},
            "cert.json field 'profile.1.1.level': expected an integer",
        ),
        ("{not json", "cert.json: invalid JSON"),
        ("[1, 2]", "cert.json: expected a JSON object"),
    ],
)
def test_invalid_input_names_the_field_and_exits_2(tmp_path, capsys, data, needle):
    path = write(tmp_path, data)
    assert run(["score", str(path), "--rules", "pix-v2"]) == 2
    err = capsys.readouterr().err
    assert needle in err and str(tmp_path) in err


def test_missing_file_unknown_rules_and_bad_rule_file_exit_2(tmp_path, capsys):
    assert run(["score", str(tmp_path / "nope.json"), "--rules", "pix-v2"]) == 2
    assert "cannot read the file" in capsys.readouterr().err
    assert run(["score", str(write(tmp_path, CERT)), "--rules", "pix-v9"]) == 2
    assert "pix-v9: no such rule set file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text('id = "x"\n', encoding="utf-8")
    assert run(["score", str(write(tmp_path, CERT)), "--rules", str(bad)]) == 2
    assert "bad.toml valid_from: missing required field" in capsys.readouterr().err


def test_unscorable_certification_exits_1(tmp_path, capsys):
    unanswered = {
        **CERT,
        "challenges": [*CERT["challenges"][:-1], {"challenge_id": "b3", "competence": "1.2"}],
    }
    assert run(["score", str(write(tmp_path, unanswered)), "--rules", "pix-v2"]) == 1
    err = capsys.readouterr().err
    assert "cannot score" in err and "unanswered: b3" in err
