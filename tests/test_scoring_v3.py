"""v3 scoring (pix-rules.md §3): golden cases G7–G11, degradation, outcomes, properties."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import pixirt
from pixirt import rules
from pixirt.cat import (
    CapacityModel,
    Certification,
    CertificationChallenge,
    CertificationResult,
    score,
)
from pixirt.cat._v3_words import (
    competence_level,
    mesh_from_score,
    mesh_index_from_capacity,
    pix_score_from_capacity,
)
from pixirt.exceptions import ScoringError
from pixirt.simulation import pix_like_bank

V3 = rules.load("pix-v3")
V3_2023 = rules.load("pix-v3-2023")
DOMAIN = Path(__file__).resolve().parent / "data" / "domain"
TOL = 1e-9


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def variant(rs, **changes):
    """A copy of a rule set with dotted-path changes, validated."""
    data = rs.to_dict()
    for path, value in changes.items():
        node = data
        *parents, last = path.split("__")
        for p in parents:
            node = node[p]
        node[last] = value
    data["id"] = rs.id + "-variant"
    return rules.RuleSet.from_dict(data)


def from_bank(bank, n, *, seed=1, status=None, **flags):
    """A certification of n challenges of the bank, one per tube, with answers."""
    frame = bank.to_frame().drop_duplicates("tube").sample(n, random_state=seed)
    rng = np.random.default_rng(seed)
    chs = [
        CertificationChallenge(
            challenge_id=r.item_id,
            competence=r.competence,
            tube=r.tube,
            type=r.type,
            discriminant=float(r.a),
            difficulty=float(r.b),
            status=status or ("ok" if rng.random() < 0.6 else "ko"),
        )
        for r in frame.itertuples()
    ]
    return Certification(challenges=chs, **flags)


def synthetic(n, *, seed=2, **flags):
    rng = np.random.default_rng(seed)
    chs = [
        CertificationChallenge(
            f"q{i}",
            f"{i % 5 + 1}.1",
            tube=f"t{i}",
            discriminant=float(rng.uniform(0.5, 2.5)),
            difficulty=float(rng.uniform(-3, 3)),
            status="ok" if rng.random() < 0.6 else "ko",
        )
        for i in range(n)
    ]
    return Certification(challenges=chs, **flags)


# --------------------------------------------------------------------------- G7, G8 through score()
def test_g7_through_score():
    cert = Certification(
        challenges=[
            CertificationChallenge("c1", "1.1", discriminant=1.0, difficulty=0.0, status="ok")
        ]
    )
    r = score(cert, V3)
    assert r.capacity == pytest.approx(-1.7850067679509052, abs=TOL)
    assert r.error_rate == pytest.approx(1.1217971992259812, abs=TOL)
    assert (r.status, r.comment) == ("rejected", "REJECTED_DUE_TO_LACK_OF_ANSWERS")  # 1 answer < 20


def test_g8_history_through_score():
    chs = [
        CertificationChallenge(f"c{i}", "1.1", discriminant=1.5, difficulty=b, status=s)
        for i, (b, s) in enumerate([(-1.0, "ok"), (0.0, "ok"), (1.0, "ko")])
    ]
    r = score(Certification(challenges=chs), V3)
    got = [(s.capacity, s.error_rate) for s in r.capacity_history]
    expected = [
        (-1.5530468363313632, 0.983403276215209),
        (-0.7765234181656816, 1.185362687996417),
        (-0.3882617090828408, 0.9142743531635011),
    ]
    np.testing.assert_allclose(got, expected, rtol=0, atol=TOL)
    assert r.capacity == pytest.approx(expected[-1][0], abs=TOL)


# --------------------------------------------------------------------------- G9
@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        (-5, 0),
        (-3, 32),
        (-1.4, 64),
        (-1.0, 93),
        (0, 187),
        (0.6, 256),
        (1.0, 312),
        (2.0, 469),
        (3.5, 696),
        (4.5, 784),
        (8, 895),
        (12, 895),
    ],
)
def test_g9_capacity_to_score_with_seed_intervals(capacity, expected):
    assert pix_score_from_capacity(capacity, V3.v3) == expected


def test_g9_mesh_index_and_global_level():
    assert mesh_index_from_capacity(-5, V3.v3) is None
    assert mesh_index_from_capacity(0, V3.v3) == 2 and V3.v3.meshes[2].name == "BEGINNER_2"
    assert mesh_index_from_capacity(4.5, V3.v3) == 7 and mesh_index_from_capacity(9, V3.v3) == 7
    table = {63: 0, 64: 1, 127: 1, 128: 2, 255: 2, 256: 3, 768: 7, 895: 7}
    assert {s: mesh_from_score(s, V3.v3) for s in table} == table


@pytest.mark.parametrize(
    ("capacity", "level"), [(0, 2), (-2.5, 0), (4.2, 7), (-2.0, 1), (3.99, 6), (100, 7)]
)
def test_g9_competence_levels_with_seed_intervals(capacity, level):
    assert {competence_level(capacity, V3.v3, code) for code in V3.v3.competence_intervals} == {
        level
    }


# --------------------------------------------------------------------------- G10
@pytest.mark.parametrize(
    ("capacity", "expected"),
    [(-3, 97), (0, 312), (1, 432), (2.5, 675), (4, 896), (8, 896), (-9, 0), (9, 896)],
)
def test_g10_historical_2023_formula(capacity, expected):
    assert pix_score_from_capacity(capacity, V3_2023.v3) == expected


def test_g10_with_max_reachable_level_5():
    five = variant(V3_2023, scoring__v3__max_reachable_level=5, scoring__v3__score_cap=640)
    assert pix_score_from_capacity(2.5, five.v3) == 640
    assert pix_score_from_capacity(1, five.v3) == 432


def test_2023_competence_levels_are_first_match_in_file_order():
    """An independent lookup on the CSV agrees everywhere, inverted rows included."""
    with (DOMAIN / "competence-level-intervals-2023.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    by_code: dict[str, list[tuple[int, float, float]]] = {}
    for r in rows:
        by_code.setdefault(r["competence"], []).append(
            (int(r["competence_level"]), float(r["min"]), float(r["max"]))
        )
    for code, table in by_code.items():
        lo = min(t[1] for t in table)
        hi = max(t[2] for t in table)
        for c in np.linspace(-9, 9, 721):
            expected = next(
                lv
                for lv, mn, mx in table
                if (-math.inf if mn == lo else mn) <= c < (math.inf if mx == hi else mx)
            )
            assert competence_level(float(c), V3_2023.v3, code) == expected
    # a consequence of first-match on the inverted 3.4 table: level 0 up to 2.18
    assert competence_level(1.0, V3_2023.v3, "3.4") == 0
    # 1.2 level 4 (min 2.8168 > max 2.1678) never matches; 3.0 falls to level 5
    assert competence_level(3.0, V3_2023.v3, "1.2") == 5


# --------------------------------------------------------------------------- G11 and the degradation
def naive_degradation(bank, cert, rs):
    """Independent re-implementation of Pix's degradation with pandas (the test oracle)."""
    model = CapacityModel.from_rules(rs)
    frame = bank.to_frame()
    answered = [c for c in cert.challenges if c.status is not None and not c.live_alert]
    kept = answered  # v3 scoring does not read neutralization
    a = [c.discriminant for c in kept]
    b = [c.difficulty for c in kept]
    ok = [c.status == "ok" for c in kept]
    estimate = model.history(a, b, ok).capacity[-1]
    tubes = {c.tube for c in answered}
    comps = [c.competence for c in answered]
    ids = {c.challenge_id for c in answered}
    picks = []
    for _ in range(rs.selection.test_length - len(answered)):
        theta = model.history(a, b, ok, initial=estimate).capacity[-1]
        df = frame[~frame.item_id.isin(ids)]
        pool = df[~df.tube.isin(tubes)]
        unseen = df[~df.competence.isin(comps)]
        if len(unseen):
            pool = unseen
        spaced = pool[~pool.competence.isin(comps[-2:])]
        if len(spaced):
            pool = spaced
        p = 1 / (1 + np.exp(pool.a.to_numpy() * (pool.b.to_numpy() - theta)))
        best = pool.iloc[int(np.argmax(p * (1 - p) * pool.a.to_numpy() ** 2))]
        picks.append(best.item_id)
        ids.add(best.item_id)
        tubes.add(best.tube)
        comps.append(best.competence)
        a.append(best.a)
        b.append(best.b)
        ok.append(False)
    return estimate, picks, model.history(a, b, ok, initial=estimate).capacity[-1]


def test_g11_abandoned_by_the_candidate_with_25_answers_is_degraded(bank):
    cert = from_bank(bank, 25, abort_reason="candidate")
    r = score(cert, V3, bank=bank)
    estimate, picks, final = naive_degradation(bank, cert, V3)
    assert r.degradation is not None and r.degradation.n_simulated == 7
    assert r.degradation.capacity_before == pytest.approx(estimate, abs=TOL)
    assert list(r.degradation.challenge_ids) == picks
    assert r.capacity == pytest.approx(final, abs=TOL) and r.capacity < estimate
    assert r.pix_score == pix_score_from_capacity(final, V3.v3)
    assert [s.simulated for s in r.capacity_history] == [False] * 25 + [True] * 7
    assert all(not s.correct for s in r.capacity_history[25:])
    assert "Abandoned by the candidate after 25 of 32 answers" in r.explain()


def test_g11_technical_abort_with_25_answers_is_not_degraded(bank):
    cert = from_bank(bank, 25, abort_reason="technical")
    r = score(cert, V3)  # no bank needed
    model = CapacityModel.from_rules(V3)
    h = model.history(
        [c.discriminant for c in cert.challenges],
        [c.difficulty for c in cert.challenges],
        [c.correct for c in cert.challenges],
    )
    assert r.degradation is None and r.capacity == h.capacity[-1]
    assert r.status == "validated" and "Technical abort" in r.explain()


@pytest.mark.parametrize(
    ("abort", "status", "comment"),
    [
        ("candidate", "rejected", "REJECTED_DUE_TO_LACK_OF_ANSWERS"),
        ("technical", "cancelled", "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON"),
        (None, "rejected", "REJECTED_DUE_TO_LACK_OF_ANSWERS"),
    ],
)
def test_g11_nineteen_answers(bank, abort, status, comment):
    r = score(from_bank(bank, 19, abort_reason=abort), V3)
    assert (r.status, r.comment, r.degradation) == (status, comment, None)
    assert r.n_answers == 19


def test_g11_complete_test_is_scored_normally_even_if_flagged_abandoned(bank):
    r = score(from_bank(bank, 32, abort_reason="candidate"), V3)
    assert r.degradation is None and r.status == "validated" and r.n_answers == 32


def test_degradation_needs_the_bank(bank):
    with pytest.raises(
        ScoringError, match=r"abandoned by the candidate after 25 of 32 answers.*bank"
    ):
        score(from_bank(bank, 25, abort_reason="candidate"), V3)


def test_2023_rules_do_not_degrade(bank):
    r = score(from_bank(bank, 25, abort_reason="candidate"), V3_2023)
    assert r.degradation is None
    assert "does not degrade" in r.explain()


def test_degradation_draws_from_every_calibrated_challenge(bank):
    """Pix's scoring-v3.js degrades over findFlashCompatibleWithoutLocale(useObsoleteChallenges):
    every calibrated challenge, whatever the candidate's accessibility adjustment."""
    cert = from_bank(bank, 24, abort_reason="candidate", accessibility_adjustment=True)
    r = score(cert, V3, bank=bank)
    plain = score(replace(cert, accessibility_adjustment=False), V3, bank=bank)
    assert r.degradation.challenge_ids == plain.degradation.challenge_ids
    assert r.capacity == plain.capacity
    accessible = bank.metadata["accessible"]
    assert not all(accessible[cid] for cid in r.degradation.challenge_ids)


# --------------------------------------------------------------------------- removals and counts
def test_live_alerts_are_removed_before_scoring(bank):
    cert = from_bank(bank, 26, abort_reason="technical")
    alerted = replace(
        cert,
        challenges=[
            replace(c, live_alert=True) if i in (3, 10) else c
            for i, c in enumerate(cert.challenges)
        ],
    )
    without = replace(
        cert, challenges=[c for i, c in enumerate(cert.challenges) if i not in (3, 10)]
    )
    a, b = score(alerted, V3), score(without, V3)
    assert a.capacity == b.capacity and a.n_answers == b.n_answers == 24
    assert "live alert" in a.explain()


def test_jury_neutralization_changes_nothing_in_v3(bank):
    """Pix's v3 scoring reads every answer but those with a live alert, never neutralization.

    Two wrong answers neutralized changed the capacity and the score (347 → 389 pix in
    the issue's case); in Pix they change nothing.
    """
    cert = from_bank(bank, 20, abort_reason="candidate")
    wrong = [i for i, c in enumerate(cert.challenges) if c.status != "ok"][:2]
    assert len(wrong) == 2
    neutralized = replace(
        cert,
        challenges=[
            replace(c, neutralized=True) if i in wrong else c for i, c in enumerate(cert.challenges)
        ],
    )
    r = score(neutralized, V3, bank=bank)
    plain = score(cert, V3, bank=bank)
    assert r.n_answers == 20 and r.comment != "REJECTED_DUE_TO_LACK_OF_ANSWERS"
    assert r.degradation.n_simulated == 12  # 32 − 20
    assert (r.capacity, r.pix_score, r.status) == (plain.capacity, plain.pix_score, plain.status)
    # a complete test with a neutralized challenge is never degraded
    full = from_bank(bank, 32, abort_reason="candidate")
    full = replace(
        full,
        challenges=[
            replace(c, neutralized=True) if i == 0 else c for i, c in enumerate(full.challenges)
        ],
    )
    assert score(full, V3).degradation is None


def test_unanswered_ignored_and_skipped_automatically_counts_wrong():
    cert = synthetic(22, abort_reason="technical")
    chs = list(cert.challenges)
    chs[-1] = replace(chs[-1], status=None)
    chs[-2] = replace(chs[-2], status=None, skipped_automatically=True)
    r = score(replace(cert, challenges=chs), V3)
    assert r.n_answers == 21
    assert [s.challenge_id for s in r.capacity_history][-1] == chs[-2].challenge_id
    assert r.capacity_history[-1].correct is False
    assert "not answered, ignored: q21" in r.explain()


def test_calibration_falls_back_to_the_bank(bank):
    cert = from_bank(bank, 21, abort_reason="technical")
    bare = replace(
        cert, challenges=[replace(c, discriminant=None, difficulty=None) for c in cert.challenges]
    )
    with pytest.raises(ScoringError, match="no discriminant/difficulty"):
        score(bare, V3)
    assert score(bare, V3, bank=bank).capacity == score(cert, V3).capacity


# --------------------------------------------------------------------------- outcomes
def _low(n=22, **flags):
    chs = [
        CertificationChallenge(f"e{i}", "1.1", discriminant=2.0, difficulty=-4.0, status="ko")
        for i in range(n)
    ]
    return Certification(challenges=chs, **flags)


def test_zero_score_is_rejected():
    r = score(_low(), V3)
    assert r.capacity < -4.67 and r.pix_score == 0 and r.mesh_index is None
    assert (r.status, r.comment) == ("rejected", "REJECTED_DUE_TO_ZERO_PIX_SCORE")
    below = score(_low(), variant(V3, scoring__v3__reject_when="below_minimum_mesh"))
    assert (below.status, below.comment) == ("rejected", "REJECTED_DUE_TO_ZERO_PIX_SCORE")


@pytest.mark.parametrize(
    ("cert", "status", "comment"),
    [
        (lambda: _low(5, cancelled=True, fraud=True), "cancelled_by_jury", "CANCELLED_BY_JURY"),
        (lambda: _low(5, fraud=True, abort_reason="technical"), "rejected", "FRAUD"),
        (
            lambda: _low(5, abort_reason="technical"),
            "cancelled",
            "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON",
        ),
        (lambda: _low(22), "rejected", "REJECTED_DUE_TO_ZERO_PIX_SCORE"),
        (lambda: synthetic(32), "validated", None),
    ],
)
def test_v3_outcome_precedence(cert, status, comment):
    r = score(cert(), V3)
    assert (r.status, r.comment) == (status, comment)


# --------------------------------------------------------------------------- historical estimator options
def test_double_measures_and_variation_until_through_score():
    rs = variant(V3, capacity__double_measures_until=4, capacity__variation_percent_until=1)
    cert = synthetic(21, abort_reason="technical")
    r = score(cert, rs)
    model = CapacityModel.from_rules(rs)
    h = model.history(
        [c.discriminant for c in cert.challenges],
        [c.difficulty for c in cert.challenges],
        [c.correct for c in cert.challenges],
    )
    assert [s.capacity for s in r.capacity_history] == h.capacity.tolist()
    assert h.measured[:4].tolist() == [False, True, False, True]
    assert r.capacity_history[0].capacity == -3.0


# --------------------------------------------------------------------------- result, provenance, properties
def test_result_provenance_explain_and_frames(bank):
    r = score(from_bank(bank, 25, abort_reason="candidate", id="v3-7"), V3, bank=bank)
    assert (r.rules_id, r.rules_hash, r.pixirt_version, r.algorithm) == (
        "pix-v3",
        V3.hash,
        pixirt.__version__,
        "v3",
    )
    assert r.reproducibility_rate is None and r.trusted is None
    text = r.explain()
    assert text.startswith("Certification v3-7: VALIDATED")
    assert "Score: capacity" in text and "Global level:" in text
    assert '[scoring.v3.competence_intervals."1.1"]' in text
    assert len(r.to_frame()) == 16
    hist = r.history_frame()
    assert len(hist) == 32 and hist["simulated"].sum() == 7
    again = CertificationResult.from_json(r.to_json())
    assert again == r and again.degradation == r.degradation


@settings(max_examples=200, deadline=None)
@given(st.floats(-12, 12), st.floats(-12, 12), st.sampled_from(["pix-v3", "pix-v3-2023", "five"]))
def test_v3_score_is_non_decreasing_in_capacity(c1, c2, name):
    rs = (
        variant(V3_2023, scoring__v3__max_reachable_level=5, scoring__v3__score_cap=640)
        if name == "five"
        else rules.load(name)
    )
    lo, hi = sorted((c1, c2))
    assert pix_score_from_capacity(lo, rs.v3) <= pix_score_from_capacity(hi, rs.v3)
    assert 0 <= pix_score_from_capacity(lo, rs.v3) <= rs.v3.score_cap


@st.composite
def v3_certifications(draw):
    n = draw(st.integers(0, 32))
    chs = []
    for i in range(n):
        chs.append(
            CertificationChallenge(
                challenge_id=f"c{i}",
                competence=draw(st.sampled_from(["1.1", "2.3", "5.2"])),
                tube=f"t{i}",
                discriminant=draw(st.floats(0.3, 3.0)),
                difficulty=draw(st.floats(-5.0, 7.0)),
                neutralized=draw(st.booleans()) and draw(st.booleans()),
                live_alert=draw(st.booleans()) and draw(st.booleans()) and draw(st.booleans()),
                status=draw(st.sampled_from(["ok", "ko", "aband", "timedout", None])),
            )
        )
    return Certification(
        challenges=chs,
        abort_reason=draw(st.sampled_from([None, "technical"])),
        fraud=draw(st.booleans()),
        id=draw(st.none() | st.text(min_size=1, max_size=8)),
    )


@settings(max_examples=60, deadline=None)
@given(v3_certifications())
def test_v3_certification_and_result_json_round_trips_are_exact(cert):
    assert Certification.from_dict(json.loads(cert.to_json())) == cert
    result = score(cert, V3)
    again = CertificationResult.from_dict(json.loads(result.to_json()))
    assert again == result and again.to_dict() == result.to_dict()


# --------------------------------------------------------------------------- CLI with a bank
def test_cli_scores_a_v3_certification_with_a_bank(tmp_path, bank):
    cert = from_bank(bank, 25, abort_reason="candidate", id="cli-1")
    (tmp_path / "cert.json").write_text(cert.to_json(), encoding="utf-8")
    bank.write(tmp_path / "bank.csv")
    code = (
        "import sys, argparse\n"
        "from pixirt.cli._score import add_score_parser\n"
        "p = argparse.ArgumentParser(prog='pixirt'); sub = p.add_subparsers()\n"
        "add_score_parser(sub)\n"
        "a = p.parse_args(sys.argv[1:]); sys.exit(a.func(a))\n"
    )
    args = [sys.executable, "-c", code, "score", str(tmp_path / "cert.json"), "--rules", "pix-v3"]
    out = subprocess.run(
        [*args, "--bank", str(tmp_path / "bank.csv"), "--explain"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    result = CertificationResult.from_json(out.stdout)
    assert result == score(cert, V3, bank=bank) or result.capacity == pytest.approx(
        score(cert, V3, bank=bank).capacity
    )
    assert result.degradation.n_simulated == 7
    assert "Abandoned by the candidate" in out.stderr
    missing = subprocess.run(args, capture_output=True, text=True)
    assert missing.returncode == 1 and "needs the item bank" in missing.stderr


def test_history_frame_matches_pandas_expectations(bank):
    r = score(from_bank(bank, 21, abort_reason="technical"), V3)
    frame = r.history_frame()
    assert isinstance(frame, pd.DataFrame) and frame.index.name == "answer"
    assert frame["capacity"].iloc[-1] == r.capacity
