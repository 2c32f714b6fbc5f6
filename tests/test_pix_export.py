"""Past sessions from a Pix-like export, their documented JSON format, and real outcomes kept."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from pixirt import rules
from pixirt.cat import Certification, score
from pixirt.exceptions import DataError
from pixirt.simulation import read_pix_export, read_sessions, replay, write_sessions

ROOT = Path(__file__).resolve().parents[1]
EXPORT = ROOT / "tests" / "data" / "pix_export"
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "certification.schema.json").read_text("utf-8"))


@pytest.fixture()
def export(tmp_path):
    target = tmp_path / "export"
    shutil.copytree(EXPORT, target)
    return target


def test_a_pix_like_export_becomes_certifications():
    certs = read_pix_export(EXPORT, competences=EXPORT / "competences.csv")
    assert [c.id for c in certs] == ["101", "102", "103"]
    first = certs[0]
    assert set(first.profile) == {f"{k}.1" for k in range(1, 6)}
    assert first.challenges[0].competence == "1.1" and first.challenges[0].features == ("image",)
    assert [r.challenge_id for r in first.issue_reports] == ["rec101c10", None]
    assert [e.kind for e in first.jury_events] == ["neutralize", "deneutralize"]
    assert first.clea_badge and certs[1].fraud and certs[2].abort_reason == "technical"
    # beyond the answers: Pix's "no such question"
    assert certs[2].issue_reports[0].challenge_id is None


def test_the_export_scores_as_pix_would():
    first, fraud, v3 = read_pix_export(EXPORT, competences=EXPORT / "competences.csv")
    r = score(first, rules.load("pix-v2"))
    assert r.competences["1.1"].n_neutralized == 1  # the reported wrong answer with an image
    assert r.competences["2.1"].n_neutralized == 0  # neutralized, then de-neutralized
    assert r.jury_review is True  # the identity report waits for a human
    assert r.clea is not None
    assert score(fraud, rules.load("pix-v2")).comment == "FRAUD"
    res = score(v3, rules.load("pix-v3"))
    assert (res.status, res.pix_score) == ("cancelled", None)  # 18 answers, technical abort


def test_sessions_written_follow_the_documented_schema(tmp_path):
    certs = read_pix_export(EXPORT, competences=EXPORT / "competences.csv")
    path = write_sessions(certs, tmp_path / "sessions.jsonl")
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    for line in lines:
        jsonschema.validate(json.loads(line), SCHEMA)
    assert list(read_sessions(path)) == certs


def test_the_schema_lists_every_field_of_a_certification():
    cert = Certification.from_dict(
        {"challenges": [{"challenge_id": "a", "competence": "1.1", "status": "ok"}]}
    ).to_dict()
    assert set(SCHEMA["properties"]) == set(cert)
    assert set(SCHEMA["properties"]["challenges"]["items"]["properties"]) == set(
        cert["challenges"][0]
    )


def test_an_unmapped_pix_competence_id_is_refused_naming_file_row_and_field():
    with pytest.raises(DataError) as err:
        read_pix_export(EXPORT)
    assert err.value.path.endswith("certification-challenges.csv")
    assert err.value.row == 2 and err.value.field == "competenceId"
    assert "recComp11" in str(err.value)


def test_pix_internal_ids_in_a_sessions_file_are_refused(tmp_path):
    """Before, a competence "recXXXX" was accepted and silently ignored by the v2 scoring."""
    path = tmp_path / "s.jsonl"
    line = {
        "challenges": [{"challenge_id": "a", "competence": "recIhdrmCuEmCDAzj", "status": "ok"}]
    }
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(DataError) as err:
        list(read_sessions(path))
    assert err.value.row == 1 and err.value.field == "challenges[0].competence"
    assert "Pix internal competence id" in str(err.value)


@pytest.mark.parametrize(
    ("table", "old", "new", "field", "row"),
    [
        ("answers.csv", "rec101c10,ko", "rec101c10,wrong", "result", 2),
        ("answers.csv", "rec101c10,ko", "recNope,ko", "challengeId", 2),
        ("certification-courses.csv", "101,2,,false", "101,4,,false", "version", 2),
        ("certification-courses.csv", "102,2,,true", "102,2,,maybe", "isRejectedForFraud", 3),
        ("jury-events.csv", "neutralize,rec101c21", "neutralize,recNope", "challengeId", 2),
    ],
)
def test_bad_export_rows_are_refused_naming_the_field(export, table, old, new, field, row):
    path = export / table
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(DataError) as err:
        read_pix_export(export, competences=export / "competences.csv")
    assert err.value.path.endswith(table) and err.value.field == field and err.value.row == row


def test_a_missing_table_or_column_is_named(export):
    (export / "answers.csv").unlink()
    with pytest.raises(DataError, match="missing table"):
        read_pix_export(export, competences=export / "competences.csv")


def test_the_command_line_imports_then_replays(tmp_path):
    out = tmp_path / "sessions.jsonl"
    run = subprocess.run(
        [sys.executable, "-m", "pixirt.cli", "import-pix", str(EXPORT), "--out", str(out),
         "--competences", str(EXPORT / "competences.csv")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "3 certifications" in run.stdout
    v2 = [c for c in read_sessions(out) if c.profile]
    frame = replay(v2, rules.load("pix-v2"))
    assert list(frame["status"]) == ["validated", "rejected"]
