"""One JSON convention (``pixirt._json``): every public frozen dataclass with
``to_dict``/``from_dict`` round-trips through strict JSON text, ±inf and NaN included.

The convention: finite floats are numbers, ±inf the strings ``"inf"``/``"-inf"``, NaN
``null``. A NaN in an *optional* float field (``float | None``) reads back as None: JSON
has one null.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import json
import math
import os
from datetime import date, datetime
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pixirt import DataError, rules
from pixirt import cat as engine
from pixirt._json import decode_float, encode_float, from_dict, json_value, to_dict
from pixirt.calibration import (
    CalibrationResult,
    HoldoutResult,
    LinkingResult,
    Priors,
    calibrate,
    holdout_validation,
    link,
)
from pixirt.cat import (
    AdaptiveState,
    Candidate,
    CapacityStep,
    CatState,
    Certification,
    CertificationChallenge,
    CertificationResult,
    ChallengeChoice,
    CompetenceProfile,
    CompetenceResult,
    Degradation,
    IssueReport,
    JuryEvent,
    PositionedCompetence,
    Profile,
)
from pixirt.cat._certification import ANSWER_STATUSES, FEATURES
from pixirt.cat._jury import EVENT_KINDS
from pixirt.rules import RuleSetDiff
from pixirt.simulation import Comparison, Population, compare, pix_like_bank, simulate_answers

SETTINGS = settings(
    max_examples=int(os.environ.get("PIXIRT_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def _strict_json(data: dict[str, Any]) -> dict[str, Any]:
    """Through JSON text as the files hold it: NaN/Infinity tokens refused."""
    out: dict[str, Any] = json.loads(json.dumps(data, allow_nan=False))
    return out


def _round_trip(obj: Any, **read: Any) -> Any:
    data = obj.to_dict()
    back = type(obj).from_dict(_strict_json(data), **read)
    assert back.to_dict() == data  # NaN is None in the dict: comparable
    return back


# --------------------------------------------------------------------------- strategies
floats = st.floats(allow_nan=True, allow_infinity=True)  # ±inf and NaN included
opt_floats = st.none() | st.floats(allow_nan=False, allow_infinity=True)
finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6)
name = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=8)
opt_name = st.none() | name
small = st.integers(0, 10_000)
opt_int = st.none() | small
code = st.builds(lambda a, b: f"{a}.{b}", st.integers(1, 5), st.integers(1, 8))

competence_results = st.builds(
    CompetenceResult,
    competence=code,
    level=st.none() | st.integers(-1, 8),
    score=small,
    rule=name,
    positioned_level=opt_int,
    positioned_pix=opt_int,
    n_challenges=opt_int,
    n_correct=opt_int,
    n_neutralized=opt_int,
    table_row=opt_int,
    action=st.none() | st.sampled_from(["validate", "downgrade", "invalidate"]),
    blocked=st.booleans(),
)
capacity_steps = st.builds(
    CapacityStep,
    challenge_id=name,
    correct=st.booleans(),
    capacity=floats,
    error_rate=floats,
    simulated=st.booleans(),
)
degradations = st.builds(
    Degradation,
    n_simulated=small,
    capacity_before=floats,
    capacity_after=floats,
    challenge_ids=st.lists(name, max_size=4).map(tuple),
)
certification_results = st.builds(
    CertificationResult,
    algorithm=st.sampled_from(["v2", "v3"]),
    status=st.sampled_from(["validated", "rejected", "cancelled", "cancelled_by_jury"]),
    comment=opt_name,
    pix_score=opt_int,
    competences=st.dictionaries(code, competence_results, max_size=3),
    reproducibility_rate=opt_int,
    trusted=st.none() | st.booleans(),
    capacity=opt_floats,
    error_rate=opt_floats,
    mesh_index=opt_int,
    global_level=opt_name,
    n_answers=opt_int,
    capacity_history=st.lists(capacity_steps, max_size=3).map(tuple),
    degradation=st.none() | degradations,
    trace=st.lists(name, max_size=3).map(tuple),
    certification_id=opt_name,
    rules_id=name,
    rules_hash=name,
    pixirt_version=name,
    jury_review=st.booleans(),
    clea=st.none() | st.booleans(),
    ban_months=opt_int,
)
adaptive_states = st.builds(
    AdaptiveState,
    bank_hash=name,
    seed=small,
    candidate=small,
    administered=st.lists(small, max_size=5).map(tuple),
    responses=st.lists(st.integers(0, 1), max_size=5).map(tuple),
    theta=floats,
    se=floats,
    history=st.lists(st.tuples(floats, floats), max_size=4).map(tuple),
)
choices = st.builds(
    ChallengeChoice,
    challenge_id=name,
    competence=code,
    tube=opt_name,
    skill=opt_name,
    step=small,
    capacity=opt_floats,
    error_rate=opt_floats,
    ranked=st.lists(name, max_size=4).map(tuple),
    rank=opt_int,
)
candidates = st.builds(
    Candidate, id=name, index=small, accessibility=st.booleans(), locale=opt_name
)
positioned = st.builds(PositionedCompetence, level=st.integers(0, 8), pix=small)
competence_profiles = st.builds(
    CompetenceProfile,
    level=st.integers(0, 8),
    pix=small,
    skills=st.lists(name, max_size=3).map(tuple),
)
profiles = st.builds(
    Profile,
    competences=st.dictionaries(code, competence_profiles, max_size=4),
    answered_challenges=st.lists(name, max_size=3).map(tuple),
)
issue_reports = st.builds(IssueReport, category=name, subcategory=opt_name, challenge_id=opt_name)
jury_events = st.sampled_from(EVENT_KINDS).flatmap(
    lambda kind: st.builds(
        JuryEvent,
        kind=st.just(kind),
        challenge_id=name if kind in ("neutralize", "deneutralize") else st.none(),
    )
)
pairs = st.none() | st.tuples(finite, st.floats(min_value=0.01, max_value=100))
positive_pairs = st.none() | st.tuples(*[st.floats(min_value=0.01, max_value=100)] * 2)
priors = st.builds(Priors, a_lognormal=pairs, b_normal=pairs, c_beta=positive_pairs)
challenges = st.builds(
    CertificationChallenge,
    challenge_id=name,
    competence=code,
    tube=opt_name,
    type=opt_name,
    discriminant=st.none() | st.floats(min_value=0.01, max_value=100),
    difficulty=st.none() | finite,
    neutralized=st.booleans(),
    skipped_automatically=st.booleans(),
    live_alert=st.booleans(),
    status=st.none() | st.sampled_from(ANSWER_STATUSES),
    features=st.none() | st.lists(st.sampled_from(FEATURES), max_size=2).map(tuple),
)

GENERATED = {
    AdaptiveState: adaptive_states,
    Candidate: candidates,
    CapacityStep: capacity_steps,
    CertificationChallenge: challenges,
    CertificationResult: certification_results,
    ChallengeChoice: choices,
    CompetenceProfile: competence_profiles,
    CompetenceResult: competence_results,
    Degradation: degradations,
    IssueReport: issue_reports,
    JuryEvent: jury_events,
    PositionedCompetence: positioned,
    Priors: priors,
    Profile: profiles,
}
#: Built from real runs below (tables, banks and rule sets inside).
BUILT = {CalibrationResult, HoldoutResult, LinkingResult, CatState, Certification, Comparison}


def _public_round_trippers() -> set[type]:
    found: set[type] = set()
    for modname in ("pixirt", "pixirt.calibration", "pixirt.cat", "pixirt.simulation"):
        mod = importlib.import_module(modname)
        for n in mod.__all__:
            obj = getattr(mod, n)
            if (
                inspect.isclass(obj)
                and dataclasses.is_dataclass(obj)
                and obj.__dataclass_params__.frozen  # type: ignore[attr-defined]
                and hasattr(obj, "to_dict")
                and hasattr(obj, "from_dict")
            ):
                found.add(obj)
    return found


def test_every_public_frozen_dataclass_with_to_dict_is_covered() -> None:
    assert _public_round_trippers() == set(GENERATED) | BUILT


@pytest.mark.parametrize("cls", sorted(GENERATED, key=lambda c: c.__name__))
def test_generated_instances_round_trip(cls: type) -> None:
    @SETTINGS
    @given(GENERATED[cls])
    def check(obj: Any) -> None:
        back = _round_trip(obj)
        if not _has_nan(obj):
            assert back == obj

    check()


def _has_nan(obj: Any) -> bool:
    """NaN somewhere in the object (equality fails on NaN; the dicts still compare)."""
    return any(isinstance(v, float) and math.isnan(v) for v in _floats(obj))


def _floats(obj: Any) -> list[Any]:
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return [x for f in dataclasses.fields(obj) for x in _floats(getattr(obj, f.name))]
    if isinstance(obj, tuple | list):
        return [x for v in obj for x in _floats(v)]
    if not isinstance(obj, str) and hasattr(obj, "values"):
        return [x for v in obj.values() for x in _floats(v)]
    return [obj]


def test_infinite_and_nan_floats_follow_the_convention() -> None:
    state = AdaptiveState("h", 1, 2, theta=math.nan, history=((0.0, math.inf), (-math.inf, 1.0)))
    data = state.to_dict()
    assert data["se"] == "inf" and data["theta"] is None
    assert data["history"] == [[0.0, "inf"], ["-inf", 1.0]]
    back = AdaptiveState.from_dict(_strict_json(data))
    assert math.isnan(back.theta) and back.se == math.inf and back.history[1][0] == -math.inf


# --------------------------------------------------------------------------- real runs
def _small_bank(n_items: int) -> Any:
    bank = pix_like_bank(seed=0)
    return bank.subset(bank.item_ids[:n_items])


@pytest.fixture(scope="module")
def fit() -> CalibrationResult:
    bank = _small_bank(30)
    log = simulate_answers(bank, 600, answers_per_person=20, seed=1).log
    return calibrate(log, "2PL", priors="default", max_iter=50)


def test_calibration_result_round_trips_with_inf_and_nan(fit: CalibrationResult) -> None:
    odd = dataclasses.replace(
        fit, aic=math.inf, bic=-math.inf, log_prior=math.nan, history=(1.0, math.inf, math.nan)
    )
    data = odd.to_dict()
    assert data["aic"] == "inf" and data["bic"] == "-inf" and data["log_prior"] is None
    back = _round_trip(odd)
    assert back.aic == math.inf and math.isnan(back.history[2])


def test_linking_result_round_trips_with_inf_and_nan(fit: CalibrationResult) -> None:
    result = link(fit.bank, fit.bank, "mean-sigma")
    odd = dataclasses.replace(result, criterion=math.nan, b_threshold=math.inf)
    data = odd.to_dict()
    assert data["criterion"] is None and data["b_threshold"] == "inf"
    back = _round_trip(odd)
    assert back.b_threshold == math.inf and math.isnan(back.criterion)


def test_holdout_result_round_trips_with_inf() -> None:
    bank = _small_bank(20)
    log = simulate_answers(bank, 400, answers_per_person=15, seed=2).log
    result = holdout_validation(log, ("Rasch",), seed=0, max_iter=30)
    scores = result.scores.copy()
    scores.iloc[0, scores.columns.get_loc("log_loss")] = math.inf
    odd = dataclasses.replace(result, scores=scores)
    data = odd.to_dict()
    assert "inf" in data["scores"]["columns"]["log_loss"]
    back = _round_trip(odd)
    assert back.scores["log_loss"].iloc[0] == math.inf


def test_cat_state_and_certification_round_trip() -> None:
    bank = pix_like_bank(seed=0)
    v3 = rules.load("pix-v3")
    state = engine.start(bank, v3, candidate=Candidate("c1", 3), seed=5)
    for _ in range(3):
        choice = engine.next_challenge(state)
        assert choice is not None
        _round_trip(choice)
        state = engine.record(state, choice.challenge_id, "ok")
    assert _round_trip(state, bank=bank, rules=v3) == state
    cert = Certification(
        challenges=[CertificationChallenge("c1", "1.1", status="ok", difficulty=1.5)],
        profile={"1.1": PositionedCompetence(3, 20)},
        issue_reports=[IssueReport("IN_CHALLENGE", "IMAGE_NOT_DISPLAYING", "c1")],
        id="x",
    )
    assert _round_trip(cert) == cert


def test_comparison_round_trips_with_inf_and_nan() -> None:
    v3 = rules.load("pix-v3")
    c = compare(
        v3, v3, population=Population(), bank=pix_like_bank(seed=0), n=120, seed=3,
        n_retest=0, n_bootstrap=100,
    )  # fmt: skip
    stats = dict(c.score_change_stats)
    first = next(iter(stats))
    stats[first] = math.inf
    odd = dataclasses.replace(c, score_change_stats=stats)
    data = odd.to_dict()
    assert data["score_change_stats"][first] == "inf"
    back = Comparison.from_dict(_strict_json(data))
    assert back.score_change_stats[first] == math.inf
    assert back.to_dict() == data
    diff = RuleSetDiff.from_dict(_strict_json(c.rules_diff.to_dict()))
    assert diff == c.rules_diff


# --------------------------------------------------------------------------- the helpers
def test_json_value_converts_numpy_tuples_dates_and_floats() -> None:
    value = {
        1: (np.float64(0.5), np.int32(2), np.bool_(True)),
        "a": np.array([1.0, np.inf, np.nan]),
        "d": date(2024, 11, 1),
        "t": datetime(2024, 11, 1, 12, 30),
        "x": -math.inf,
    }
    assert json_value(value) == {
        "1": [0.5, 2, True],
        "a": [1.0, "inf", None],
        "d": "2024-11-01",
        "t": "2024-11-01T12:30:00",
        "x": "-inf",
    }
    assert [encode_float(v) for v in (1.0, math.inf, -math.inf)] == [1.0, "inf", "-inf"]
    assert encode_float(math.nan) is None


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("inf", math.inf),
        ("-inf", -math.inf),
        ("Infinity", math.inf),  # older files, other writers
        ("-Infinity", -math.inf),
        ("+inf", math.inf),
        (math.inf, math.inf),  # the bare Infinity token of Python's json
        (3, 3.0),
    ],
)
def test_decode_float_reads_every_spelling(written: Any, read: float) -> None:
    assert decode_float(written) == read


def test_decode_float_reads_null_and_nan_as_nan() -> None:
    assert math.isnan(decode_float(None)) and math.isnan(decode_float("NaN"))
    assert math.isnan(decode_float(float("nan")))


def test_older_json_is_still_read() -> None:
    # AdaptiveState wrote NaN as the bare token and ±inf as "inf"; Comparison tables and
    # holdout tables wrote ±inf as null (read back as NaN, as before)
    text = '{"bank_hash": "h", "seed": 1, "candidate": 0, "administered": [], "responses": [],'
    text += ' "theta": NaN, "se": "inf", "history": [[0.0, "Infinity"]]}'
    state = AdaptiveState.from_dict(json.loads(text))
    assert math.isnan(state.theta) and state.se == math.inf and state.history[0][1] == math.inf


def test_errors_name_the_field() -> None:
    with pytest.raises(DataError, match=r"'history\[0\]\[1\]'"):
        AdaptiveState.from_dict(
            {"bank_hash": "h", "seed": 1, "candidate": 0, "history": [[0.0, "lots"]]}
        )
    with pytest.raises(DataError, match=r"'seed'.*expected an integer"):
        AdaptiveState.from_dict({"bank_hash": "h", "seed": "1", "candidate": 0})
    with pytest.raises(DataError, match=r"'candidate'.*missing required field"):
        AdaptiveState.from_dict({"bank_hash": "h", "seed": 1})
    with pytest.raises(DataError, match=r"'colour'.*unknown field"):
        IssueReport.from_dict({"category": "FRAUD", "colour": "red"})
    with pytest.raises(DataError, match=r"'kind'.*expected one of"):
        JuryEvent.from_dict({"kind": "shout"})
    with pytest.raises(DataError, match=r"'capacity_history\[0\].capacity'"):
        CertificationResult.from_dict(
            {
                **_minimal_result(),
                "capacity_history": [{"challenge_id": "c", "correct": True, "capacity": "x", "error_rate": 1.0}],
            }
        )  # fmt: skip
    with pytest.raises(DataError, match=r"'profile.1.1.level'"):
        PositionedCompetence.from_dict({"level": 12, "pix": 3}, where="profile.1.1")


def _minimal_result() -> dict[str, Any]:
    return CertificationResult(
        "v3", "validated", None, 100, {}, None, None, 1.0, 0.5, 2, "X", 32, (), None, (),
        None, "pix-v3", "abc", "0",
    ).to_dict()  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Inner:
    x: float
    when: date | None = None


@dataclasses.dataclass(frozen=True)
class Outer:
    inner: Inner
    pairs: tuple[tuple[int, float], ...] = ()
    label: str | None = None


def test_generic_from_dict_takes_nested_dataclasses_and_defaults() -> None:
    obj = Outer(Inner(-math.inf, date(2025, 1, 2)), ((1, math.inf),))
    data = to_dict(obj)
    assert data == {
        "inner": {"x": "-inf", "when": "2025-01-02"},
        "pairs": [[1, "inf"]],
        "label": None,
    }
    assert from_dict(Outer, _strict_json(data)) == obj
    assert from_dict(Outer, {"inner": {"x": 1}}) == Outer(Inner(1.0))
