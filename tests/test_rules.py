"""Rule sets as data: loading, validation errors naming the field path, hashes, diff."""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import typing
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from pixirt import rules
from pixirt.exceptions import RuleError

ROOT = Path(__file__).resolve().parents[1]
DOMAIN = ROOT / "tests" / "data" / "domain"  # copied from the project's shared domain folder
RULESETS = ROOT / "pixirt" / "rulesets"


def shipped_text(name: str) -> str:
    return (RULESETS / f"{name}.toml").read_text(encoding="utf-8")


def write(tmp_path: Path, text: str, name: str = "my-rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def replace_once(text: str, old: str, new: str) -> str:
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


# --------------------------------------------------------------------------- shipped rule sets
def test_available_lists_the_shipped_rule_sets():
    assert rules.available() == ("pix-v2", "pix-v3", "pix-v3-2023")


@pytest.mark.parametrize("name", ["pix-v2", "pix-v3", "pix-v3-2023"])
def test_shipped_rule_sets_load_with_metadata(name):
    rs = rules.load(name)
    assert rs.id == name
    assert rs.status in {"draft", "active", "archived"}
    assert rs.comment.strip() and rs.valid_from.year >= 2019
    assert rs.source == f"pixirt:{name}.toml"
    assert re.fullmatch(r"[0-9a-f]{64}", rs.hash)
    assert rs.hash == hashlib.sha256(rs.canonical_json().encode()).hexdigest()
    assert rules.load(name).hash == rs.hash  # deterministic


def test_pix_v2_values():
    v2 = rules.load("pix-v2").v2
    assert (
        v2.challenges_per_competence,
        v2.max_reachable_level,
        v2.pix_per_level,
        v2.trust_ratio,
    ) == (3, 5, 8, 0.66)
    r = v2.reproducibility
    assert (r.minimum_to_be_certified, r.middle_band_minimum, r.minimum_to_be_trusted) == (
        50,
        70,
        80,
    )
    assert len(v2.table) == 19 and v2.minimum_competence_level == 1
    assert v2.minimum_certifiable_competences == 5


def test_pix_v3_values_are_the_seed_configuration():
    rs = rules.load("pix-v3")
    sel, cap, v3 = rs.selection, rs.capacity, rs.v3
    assert (sel.test_length, sel.pick_probability, sel.top_n) == (32, 51, 5)
    assert sel.one_question_per_tube and sel.passage_by_all_competences
    assert sel.challenges_between_same_competence == 2
    assert (
        cap.default_capacity,
        cap.prior_variance,
        cap.grid_min,
        cap.grid_max,
        cap.grid_steps,
    ) == (-3, 1.5, -9, 9, 80)
    assert cap.grid_quirk and cap.variation_percent == 0.5 and cap.variation_percent_until == "all"
    assert cap.double_measures_until == 0
    assert (v3.formula, v3.max_reachable_level, v3.score_cap, v3.minimum_answers) == (
        "mesh",
        7,
        895,
        20,
    )
    assert v3.reject_when == "zero_score" and v3.degrade_abandoned
    bounds = [v3.intervals[0].min] + [iv.max for iv in v3.intervals]
    assert bounds == [-4.67, -1.4, -0.519, 0.6, 1.5, 2.25, 3.1, 4.0, 8.0]
    assert [(m.weight, m.coefficient) for m in v3.meshes] == [
        (64, 0), (64, 1), (128, 1), (128, 2), (128, 3), (128, 4), (128, 5), (128, 6), (128, 7)
    ]  # fmt: skip
    framework = [
        row["competence"]
        for row in csv.DictReader(
            (ROOT / "pixirt" / "data" / "framework.csv").open(encoding="utf-8")
        )
    ]
    assert list(v3.competence_intervals) == framework
    seed = [(r.level, r.min, r.max) for r in v3.competence_intervals["3.4"]]
    assert seed == [
        (0, -math.inf, -2.0), (1, -2.0, -1.0), (2, -1.0, 0.5), (3, 0.5, 1.0),
        (4, 1.0, 2.0), (5, 2.0, 3.0), (6, 3.0, 4.0), (7, 4.0, math.inf),
    ]  # fmt: skip
    assert all(v == v3.competence_intervals["1.1"] for v in v3.competence_intervals.values())


def test_pix_v3_2023_holds_the_120_intervals_of_the_csv_exactly_in_file_order():
    v3 = rules.load("pix-v3-2023").v3
    with (DOMAIN / "competence-level-intervals-2023.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 120
    ours = [
        (code, r.level, r.min, r.max)
        for code, intervals in v3.competence_intervals.items()
        for r in intervals
    ]
    theirs = [
        (r["competence"], int(r["competence_level"]), float(r["min"]), float(r["max"]))
        for r in rows
    ]
    assert ours == theirs
    assert v3.allow_inverted_intervals
    inverted = {(c, lv) for c, lv, lo, hi in ours if lo > hi}
    assert {("1.2", 4), ("3.4", 1), ("3.4", 6), ("5.1", 6)} <= inverted
    bounds = [v3.intervals[0].min] + [iv.max for iv in v3.intervals]
    assert bounds == [-8, -1.399264, -0.519812, 0.670847, 1.549962, 2.27406, 3.09502, 3.930395, 8]
    assert (v3.formula, v3.interval_height, v3.score_cap, v3.degrade_abandoned) == (
        "linear_2023",
        128,
        896,
        False,
    )


def test_pix_v3_2023_selection_has_the_historical_options_as_fields():
    sel = rules.load("pix-v3-2023").selection
    assert sel.warm_up_length == 0 and sel.forced_competences == ()
    assert [r.type for r in sel.minimum_success_rate] == ["fixed", "linear"]
    assert sel.minimum_success_rate_at(0) == 0.8 and sel.minimum_success_rate_at(7) == 0.8
    assert sel.minimum_success_rate_at(8) == pytest.approx(0.8)
    assert sel.minimum_success_rate_at(15) == pytest.approx(0.5)
    assert sel.minimum_success_rate_at(16) == 0.0
    assert rules.load("pix-v3-2023").capacity.grid_quirk is False


def test_rule_sets_are_frozen():
    rs = rules.load("pix-v2")
    with pytest.raises(ValidationError):
        rs.status = "draft"
    with pytest.raises(ValidationError):
        rs.v2.trust_ratio = 0.5


def test_wrong_algorithm_accessors_raise():
    with pytest.raises(RuleError, match=r"no \[scoring\.v3\]"):
        _ = rules.load("pix-v2").v3


# --------------------------------------------------------------------------- hash
def test_hash_ignores_comments_formatting_and_int_vs_float(tmp_path):
    text = shipped_text("pix-v3")
    no_comments = "\n".join(
        line.split(" #")[0].rstrip() for line in text.splitlines() if not line.startswith("#")
    )
    respelled = no_comments.replace("grid_min = -9.0", "grid_min = -9").replace(
        "prior_variance = 1.5", "prior_variance   =   1.50"
    )
    assert respelled != text
    assert rules.load(write(tmp_path, respelled)).hash == rules.load("pix-v3").hash


def test_hash_changes_with_any_value_and_round_trips_through_to_dict():
    rs = rules.load("pix-v3")
    again = rules.RuleSet.from_dict(json.loads(json.dumps(rs.to_dict())))
    assert again == rs and again.hash == rs.hash
    data = rs.to_dict()
    data["capacity"]["prior_variance"] = 1.6
    assert rules.RuleSet.from_dict(data).hash != rs.hash
    data = rs.to_dict()
    data["status"] = "draft"
    assert rules.RuleSet.from_dict(data).hash != rs.hash


def test_canonical_json_writes_infinite_bounds_as_strings():
    canon = json.loads(rules.load("pix-v3").canonical_json())
    first = canon["scoring"]["v3"]["competence_intervals"]["1.1"][0]
    assert first == {"level": 0, "min": "-inf", "max": -2.0}


# --------------------------------------------------------------------------- errors naming the field path
def test_the_issue_example_error(tmp_path, monkeypatch):
    blocks = shipped_text("pix-v2").split("[[scoring.v2.table]]")
    blocks[5] = replace_once(blocks[5], 'rr_below_70 = "invalidate"', 'rr_below_70 = "keep"')
    write(tmp_path, "[[scoring.v2.table]]".join(blocks))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RuleError) as info:
        rules.load("my-rules.toml")
    assert str(info.value) == (
        "my-rules.toml [scoring.v2.table][4].rr_below_70: expected one of validate/downgrade/invalidate, got 'keep'"
    )


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("pix-v2", "trust_ratio = 0.66\n", "", "[scoring.v2].trust_ratio: missing required field"),
        (
            "pix-v3",
            "grid_quirk = true",
            "grid_quirk = true\ngrid_quirks = true",
            "[capacity].grid_quirks: unknown field",
        ),
        (
            "pix-v3",
            "grid_steps = 80",
            'grid_steps = "80"',
            "[capacity].grid_steps: expected an integer, got '80'",
        ),
        (
            "pix-v3",
            "grid_steps = 80",
            "grid_steps = true",
            "[capacity].grid_steps: expected an integer, got True",
        ),
        (
            "pix-v3",
            "prior_variance = 1.5",
            "prior_variance = nan",
            "[capacity].prior_variance: expected a finite number",
        ),
        (
            "pix-v3",
            "prior_variance = 1.5",
            "prior_variance = -1.5",
            "[capacity].prior_variance: input should be greater than 0",
        ),
        (
            "pix-v3",
            'reject_when = "zero_score"',
            'reject_when = "never"',
            "[scoring.v3].reject_when: expected one of zero_score/below_minimum_mesh, got 'never'",
        ),
        (
            "pix-v3",
            'variation_percent_until = "all"',
            'variation_percent_until = "some"',
            "[capacity].variation_percent_until",
        ),
        (
            "pix-v3",
            'status = "active"',
            'status = "live"',
            "status: expected one of draft/active/archived, got 'live'",
        ),
        (
            "pix-v3",
            "valid_from = 2024-11-01",
            'valid_from = "soon"',
            "valid_from: expected a date like 2024-11-01, got 'soon'",
        ),
        (
            "pix-v3",
            "{ mesh_level = 3, min = 0.6, max = 1.5 }",
            "{ mesh_level = 3, min = 0.7, max = 1.5 }",
            "[scoring.v3.intervals][3].min: must equal the previous interval's max (0.6)",
        ),
        (
            "pix-v3",
            "{ mesh_level = 3, min = 0.6, max = 1.5 }",
            "{ mesh_level = 4, min = 0.6, max = 1.5 }",
            "[scoring.v3.intervals][3].mesh_level: expected 3",
        ),
        (
            "pix-v3",
            '"1.2" = [\n  { level = 0, min = -inf, max = -2.0 },',
            '"1.2" = [\n  { level = 0, min = -inf, max = -2.0, colour = 1 },',
            '[scoring.v3.competence_intervals."1.2"][0].colour: unknown field',
        ),
        (
            "pix-v3",
            "forced_competences = []",
            'forced_competences = ["9.9"]',
            "[selection.forced_competences][0]: unknown competence '9.9'",
        ),
        (
            "pix-v3",
            "[capacity]",
            "[scoring.v2]\nmax_reachable_level = 5\n\n[capacity]",
            "[scoring.v2].challenges_per_competence: missing required field",
        ),
        (
            "pix-v3-2023",
            "interval_height = 128.0",
            "",
            "[scoring.v3].interval_height: required for formula 'linear_2023'",
        ),
        (
            "pix-v3-2023",
            '{ type = "fixed", start = 0, end = 7, value = 0.8 }',
            '{ type = "step", start = 0, end = 7, value = 0.8 }',
            "[selection.minimum_success_rate][0]: expected type one of fixed/linear, got 'step'",
        ),
    ],
)
def test_malformed_files_name_the_file_and_field_path(tmp_path, name, old, new, message):
    path = write(tmp_path, replace_once(shipped_text(name), old, new))
    with pytest.raises(RuleError) as info:
        rules.load(path)
    assert f"{path} {message}" in str(info.value)


def test_missing_tables_for_the_algorithm_and_extra_ones(tmp_path):
    text = (
        shipped_text("pix-v3")
        .replace("[selection]", "[unused]")
        .replace("\n[unused]", "\n[selection_]")
    )
    text = re.sub(r"\[selection_\].*?\n\n", "", text, flags=re.S)
    path = write(tmp_path, text)
    with pytest.raises(RuleError, match=r"selection: required for algorithm 'v3'"):
        rules.load(path)
    extra = shipped_text("pix-v2") + "\n[capacity]\ndefault_capacity = -3.0\n"
    with pytest.raises(RuleError) as info:
        rules.load(write(tmp_path, extra, "extra.toml"))
    assert "[capacity].prior_variance: missing required field" in str(info.value)
    complete = (
        shipped_text("pix-v2")
        + "\n"
        + shipped_text("pix-v3").split("[capacity]")[1].split("[scoring.v3]")[0]
    )
    with pytest.raises(RuleError, match=r"capacity: not used by algorithm 'v2': remove it"):
        rules.load(
            write(
                tmp_path,
                complete.replace("\ndefault_capacity", "\n[capacity]\ndefault_capacity", 1),
                "c.toml",
            )
        )


def test_every_problem_is_reported_one_per_line(tmp_path):
    text = (
        shipped_text("pix-v3")
        .replace("grid_steps = 80", "grid_steps = 0")
        .replace("top_n = 5", "top_n = 0")
    )
    with pytest.raises(RuleError) as info:
        rules.load(write(tmp_path, text))
    lines = str(info.value).splitlines()
    assert len(lines) == 2
    assert any("[selection].top_n" in line for line in lines) and any(
        "[capacity].grid_steps" in line for line in lines
    )


def test_duplicate_table_rows_are_rejected(tmp_path):
    v2 = shipped_text("pix-v2")
    first = "[[scoring.v2.table]]" + v2.split("[[scoring.v2.table]]")[1]
    with pytest.raises(
        RuleError, match=r"\[scoring.v2.table\]\[19\]: duplicate row for \(3, 3, 0\)"
    ):
        rules.load(write(tmp_path, v2 + "\n" + first))


def test_inverted_intervals_need_the_flag(tmp_path):
    text = shipped_text("pix-v3-2023").replace(
        "allow_inverted_intervals = true", "allow_inverted_intervals = false"
    )
    with pytest.raises(RuleError) as info:
        rules.load(write(tmp_path, text))
    message = str(info.value)
    assert (
        '[scoring.v3.competence_intervals."1.2"][4]: intervals are inverted or non-monotone'
        in message
    )
    assert "allow_inverted_intervals = true" in message
    assert message.count("\n") + 1 == 10  # the ten competences with an inverted row


def test_non_monotone_levels_also_need_the_flag(tmp_path):
    text = shipped_text("pix-v3").replace(
        '"5.2" = [\n  { level = 0, min = -inf, max = -2.0 },\n  { level = 1, min = -2.0, max = -1.0 },',
        '"5.2" = [\n  { level = 0, min = -inf, max = -2.0 },\n  { level = 1, min = -1.5, max = -1.0 },',
    )
    with pytest.raises(
        RuleError, match=r'\[scoring.v3.competence_intervals."5.2"\]\[1\]: intervals are inverted'
    ):
        rules.load(write(tmp_path, text))
    allowed = text.replace("allow_inverted_intervals = false", "allow_inverted_intervals = true")
    assert (
        rules.load(write(tmp_path, allowed, "ok.toml")).v3.competence_intervals["5.2"][1].min
        == -1.5
    )


def test_unreadable_or_unknown_rule_sets(tmp_path):
    with pytest.raises(
        RuleError, match=r"pix-v4: no such rule set file.*shipped: pix-v2, pix-v3, pix-v3-2023"
    ):
        rules.load("pix-v4")
    with pytest.raises(RuleError, match=r"broken.toml: invalid TOML"):
        rules.load(write(tmp_path, "id = 'x'\nstatus = \n", "broken.toml"))
    with pytest.raises(RuleError, match="expected a table"):
        rules.RuleSet.from_dict({**rules.load("pix-v2").to_dict(), "scoring": 3})


# --------------------------------------------------------------------------- diff
def test_diff_of_identical_rule_sets_is_empty():
    d = rules.diff(rules.load("pix-v2"), rules.load("pix-v2"))
    assert not d and len(d) == 0
    assert str(d).endswith("identical content")


def test_diff_names_table_rows_by_their_counts():
    a = rules.load("pix-v2")
    data = a.to_dict()
    data["id"] = "pix-v2-jury-2026"
    row5 = data["scoring"]["v2"]["table"][4]
    row5["rr_below_70"] = "downgrade"
    data["scoring"]["v2"]["table"] = [
        r for r in data["scoring"]["v2"]["table"] if r["challenges"] != 1
    ]
    data["scoring"]["v2"]["table"].append(
        {
            "challenges": 4,
            "correct": 3,
            "neutralized": 1,
            "rr_80_and_above": "validate",
            "rr_70_to_80": "validate",
            "rr_below_70": "downgrade",
        }
    )
    data["scoring"]["v2"]["reproducibility"]["middle_band_minimum"] = 65
    b = rules.RuleSet.from_dict(data, strict=False)  # rows for 1 challenge removed
    d = rules.diff(a, b)
    changes = {c.path: c for c in d}
    assert changes["id"].before == "pix-v2" and changes["id"].after == "pix-v2-jury-2026"
    row = changes["[scoring.v2.table](3, 1, 1).rr_below_70"]
    assert (row.kind, row.before, row.after) == ("changed", "invalidate", "downgrade")
    assert changes["[scoring.v2.table](1, 0, 0)"].kind == "removed"
    assert changes["[scoring.v2.table](4, 3, 1)"].kind == "added"
    assert changes["[scoring.v2.reproducibility].middle_band_minimum"].after == 65
    assert len(d) == 1 + 1 + 3 + 1 + 1  # id, row, three removed rows, added row, threshold
    text = str(d)
    assert '[scoring.v2.table](3, 1, 1).rr_below_70: "invalidate" → "downgrade"' in text
    assert list(d.to_frame().columns) == ["path", "kind", "before", "after"]
    json.dumps(d.to_dict())


def test_diff_between_algorithms_lists_added_and_removed_tables():
    d = rules.diff(rules.load("pix-v2"), rules.load("pix-v3"))
    kinds = {c.path: c.kind for c in d}
    assert kinds["[scoring].v2"] == "removed" and kinds["[scoring].v3"] == "added"
    assert kinds["selection"] == "added" and kinds["capacity"] == "added"
    assert kinds["algorithm"] == "changed"


def test_diff_v3_2023_shows_the_historical_choices():
    d = rules.diff(rules.load("pix-v3"), rules.load("pix-v3-2023"))
    paths = {c.path for c in d}
    assert {
        "[scoring.v3].formula",
        "[capacity].grid_quirk",
        "[capacity].variation_percent",
        "[scoring.v3].interval_height",
    } <= paths
    assert '[scoring.v3.competence_intervals."1.2"][4].max' in paths


# --------------------------------------------------------------------------- the format is documented
def _models_in(annotation: object) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]


def _field_names(model: type[BaseModel]) -> set[str]:
    names = set(model.model_fields)
    for f in model.model_fields.values():
        for inner in _models_in(f.annotation):
            names |= _field_names(inner)
    return names


def test_docs_describe_every_field():
    doc = (ROOT / "docs" / "rules.md").read_text(encoding="utf-8")
    missing = sorted(n for n in _field_names(rules.RuleSet) if f"`{n}`" not in doc)
    assert not missing, f"docs/rules.md does not document {missing}"


# --------------------------------------------------------------------------- sound rule sets
def test_a_test_shorter_than_its_minimum_answers_is_refused_naming_the_field(tmp_path):
    data = rules.load("pix-v3").to_dict()
    data["id"] = "pix-v3-short"
    data["selection"]["test_length"] = 15
    with pytest.raises(RuleError, match=r"\[selection\]\.test_length: 15 questions is fewer than"):
        rules.RuleSet.from_dict(data)
    # in a TOML file too, naming the file
    from importlib import resources

    text = resources.files("pixirt").joinpath("rulesets/pix-v3.toml").read_text(encoding="utf-8")
    assert 'id = "pix-v3"' in text and "test_length = 32" in text
    path = tmp_path / "short.toml"
    path.write_text(
        text.replace('id = "pix-v3"', 'id = "pix-v3-short"').replace(
            "test_length = 32", "test_length = 15"
        ),
        encoding="utf-8",
    )
    with pytest.raises(RuleError, match=r"short\.toml \[selection\]\.test_length"):
        rules.load(path)
    # accepted on request, to study what it would do
    assert rules.RuleSet.from_dict(data, strict=False).selection.test_length == 15


def test_a_level_table_missing_a_reachable_row_is_refused():
    data = rules.load("pix-v2").to_dict()
    data["id"] = "pix-v2-cut"
    data["scoring"]["v2"]["table"] = [
        r
        for r in data["scoring"]["v2"]["table"]
        if (r["challenges"], r["correct"], r["neutralized"]) != (3, 1, 1)
    ]
    with pytest.raises(RuleError, match=r"\[scoring\.v2\]\.table: no row for .*\(3, 1, 1\)"):
        rules.RuleSet.from_dict(data)
    # every shipped rule set is sound
    for name in rules.available():
        rules.RuleSet.from_dict(rules.load(name).to_dict())


def test_a_test_longer_than_the_bank_can_serve_is_refused_before_any_work():
    from pixirt import DataError
    from pixirt.simulation import Population, pix_like_bank, simulate

    data = rules.load("pix-v3").to_dict()
    data["id"] = "pix-v3-400"
    data["selection"]["test_length"] = 400
    long = rules.RuleSet.from_dict(data)
    with pytest.raises(DataError, match=r"at most 143 questions.*400") as info:
        simulate(Population(), pix_like_bank(0), long, 10)
    assert info.value.field == "selection.test_length"
