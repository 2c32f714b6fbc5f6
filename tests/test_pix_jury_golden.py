"""Golden cases of Pix's jury rules (issue reports, jury events, outcomes), read from Pix's code.

Each case cites the Pix file it was written from (1024pix/pix, see docs/rules.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from pixirt import rules
from pixirt.cat import Certification, CertificationChallenge, score

V3 = rules.load("pix-v3")


def _v3(n: int, **flags: object) -> Certification:
    rng = np.random.default_rng(7)
    chs = [
        CertificationChallenge(
            f"q{i}",
            f"{i % 5 + 1}.1",
            tube=f"t{i}",
            discriminant=float(rng.uniform(0.8, 2.0)),
            difficulty=float(rng.uniform(-2, 2)),
            status="ok" if i % 3 else "ko",
        )
        for i in range(n)
    ]
    return Certification(challenges=chs, **flags)  # type: ignore[arg-type]


# create-v3-assessment-result_test.js: "when assessment is going to be cancelled"
def test_v3_jury_cancellation_is_cancelled_by_jury_with_no_score():
    r = score(_v3(32, cancelled=True), V3)
    assert (r.status, r.comment) == ("cancelled_by_jury", "CANCELLED_BY_JURY")
    assert r.pix_score is None and r.mesh_index is None and r.global_level is None
    assert all(c.level is None for c in r.competences.values())
    plain = score(_v3(32), V3)
    assert plain.status == "validated" and plain.pix_score and plain.pix_score > 0


# "when assessment is rejected for fraud": pixScore null, competenceMarks []
def test_v3_fraud_is_rejected_with_no_score_or_level():
    r = score(_v3(32, fraud=True), V3)
    assert (r.status, r.comment) == ("rejected", "FRAUD")
    assert r.pix_score is None and r.global_level is None
    assert all(c.level is None for c in r.competences.values())


# "when assessment has an insuffisant number of answers": cancelled (technical) or rejected
@pytest.mark.parametrize(
    ("abort", "status", "comment"),
    [
        ("technical", "cancelled", "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON"),
        ("candidate", "rejected", "REJECTED_DUE_TO_LACK_OF_ANSWERS"),
    ],
)
def test_v3_too_few_answers_carry_no_score(abort, status, comment):
    r = score(_v3(12, abort_reason=abort), V3)
    assert (r.status, r.comment) == (status, comment)
    assert r.pix_score is None and r.mesh_index is None
    assert all(c.level is None for c in r.competences.values())


# "there is a score and it is equal to 0": rejected, score 0 kept, competenceMarks []
def test_v3_zero_score_keeps_the_score_but_no_competence_level():
    chs = [
        CertificationChallenge(f"e{i}", "1.1", discriminant=2.0, difficulty=-4.0, status="ko")
        for i in range(22)
    ]
    r = score(Certification(challenges=chs), V3)
    assert (r.status, r.comment, r.pix_score) == ("rejected", "REJECTED_DUE_TO_ZERO_PIX_SCORE", 0)
    assert r.capacity is not None
    assert all(c.level is None for c in r.competences.values())


# --------------------------------------------------------------------------- v2 issue reports
V2 = rules.load("pix-v2")
PROFILE = {f"{k}.1": {"level": 3, "pix": 30} for k in range(1, 6)}


def _v2(statuses: dict[str, str], features: dict[str, list[str]] | None = None, **flags):
    """Five competences of 3 challenges, all ok but the cells given (id → status)."""
    chs = []
    for k in range(1, 6):
        for j in range(3):
            cid = f"c{k}{j}"
            chs.append(
                CertificationChallenge(
                    cid,
                    f"{k}.1",
                    status=statuses.get(cid, "ok"),
                    features=(features or {}).get(cid, []),
                )
            )
    return Certification(challenges=chs, profile=PROFILE, **flags)


def _report(sub: str, cid: str | None = "c10", cat: str = "IN_CHALLENGE") -> dict:
    return {"category": cat, "subcategory": sub, "challenge_id": cid}


def _neutralized(r, code="1.1") -> int:
    return r.competences[code].n_neutralized


# CertificationIssueReportResolutionStrategies.js, neutralizeWithoutCheckingStrategy, and
# CertificationAssessment.neutralizeChallengeByNumberIfKoOrSkipped (_isAnswerKoOrSkipped)
@pytest.mark.parametrize(
    "sub",
    [
        "WEBSITE_BLOCKED",
        "WEBSITE_UNAVAILABLE",
        "SOFTWARE_NOT_WORKING",
        "SKIP_ON_OOPS",
        "ACCESSIBILITY_ISSUE",
    ],
)
@pytest.mark.parametrize(
    ("status", "neutralized"),
    [("ko", 1), ("aband", 1), ("ok", 0), ("timedout", 0), ("focusedOut", 0)],
)
def test_neutralize_without_checking_only_a_wrong_or_abandoned_answer(sub, status, neutralized):
    r = score(_v2({"c10": status}, issue_reports=[_report(sub)]), V2)
    assert _neutralized(r) == neutralized
    assert r.jury_review is False  # resolved, with or without effect
    assert ("→ neutralized" in r.explain()) == bool(neutralized)


# neutralizeIfImageOrEmbedStrategy: "ne contient ni image ni application/simulateur"
@pytest.mark.parametrize("sub", ["IMAGE_NOT_DISPLAYING", "EMBED_NOT_WORKING"])
@pytest.mark.parametrize(
    ("features", "neutralized"), [([], 0), (["image"], 1), (["embed"], 1), (["attachment"], 0)]
)
def test_neutralize_if_image_or_embed(sub, features, neutralized):
    r = score(_v2({"c10": "ko"}, {"c10": features}, issue_reports=[_report(sub)]), V2)
    assert _neutralized(r) == neutralized
    assert r.jury_review is False


# neutralizeIfAttachmentStrategy, neutralizeIfTimedChallengeStrategy
@pytest.mark.parametrize(
    ("sub", "feature"), [("FILE_NOT_OPENING", "attachment"), ("EXTRA_TIME_EXCEEDED", "timed")]
)
def test_neutralize_if_attachment_or_timed(sub, feature):
    has = score(_v2({"c10": "ko"}, {"c10": [feature]}, issue_reports=[_report(sub)]), V2)
    lacks = score(_v2({"c10": "ko"}, {"c10": ["image"]}, issue_reports=[_report(sub)]), V2)
    assert (_neutralized(has), _neutralized(lacks)) == (1, 0)
    assert "feature_absent" in lacks.explain()


# neutralizeOrValidateIfFocusedChallengeStrategy + validateAnswerByNumberIfFocusedOut
@pytest.mark.parametrize(
    ("status", "focus", "correct", "neutralized", "outcome"),
    [
        ("focusedOut", True, 3, 0, "validated"),  # the focused-out answer counts as correct
        ("aband", True, 2, 1, "neutralized"),
        ("ko", True, 2, 0, "neither_skipped_nor_focused_out"),
        ("focusedOut", False, 2, 0, "feature_absent"),
    ],
)
def test_unintentional_focus_out(status, focus, correct, neutralized, outcome):
    feats = {"c10": ["focus"] if focus else []}
    r = score(_v2({"c10": status}, feats, issue_reports=[_report("UNINTENTIONAL_FOCUS_OUT")]), V2)
    comp = r.competences["1.1"]
    assert (comp.n_correct, comp.n_neutralized) == (correct, neutralized)
    assert f"→ {outcome}" in r.explain()


# doNotResolveStrategy + ImpactfulCategories/ImpactfulSubcategories + FinalizedSession.js
@pytest.mark.parametrize(
    ("report", "review"),
    [
        (_report("NAME_OR_BIRTHDATE", None, "CANDIDATE_INFORMATIONS_CHANGES"), True),
        (_report("EXTRA_TIME_PERCENTAGE", None, "CANDIDATE_INFORMATIONS_CHANGES"), False),
        ({"category": "FRAUD"}, True),
        ({"category": "SIGNATURE_ISSUE"}, False),
        ({"category": "NON_BLOCKING_TECHNICAL_ISSUE"}, False),
        (_report("LINK_NOT_WORKING"), True),  # deprecated, impactful, not resolved
        (_report("WEBSITE_BLOCKED"), False),  # resolved automatically
    ],
)
def test_unresolved_impactful_reports_send_the_session_to_a_human_jury(report, review):
    r = score(_v2({"c10": "ko"}, issue_reports=[report]), V2)
    assert r.jury_review is review
    assert r.to_dict()["jury_review"] is review


def test_a_report_on_an_unanswered_challenge_has_no_such_question():
    cert = _v2({}, issue_reports=[_report("WEBSITE_BLOCKED", "c10")])
    chs = list(cert.challenges)
    chs[0] = CertificationChallenge("c10", "1.1", status=None, skipped_automatically=True)
    from dataclasses import replace

    r = score(replace(cert, challenges=chs, abort_reason="candidate"), V2)
    assert "→ no_such_question" in r.explain() and _neutralized(r) == 0


def test_the_policy_is_data_a_change_moves_the_result():
    """A policy that stops neutralizing embeds: the embed report is left to a human."""
    data = V2.to_dict()
    data["id"] = "no-embed"
    rows = data["incidents"]["resolution"]
    data["incidents"]["resolution"] = [x for x in rows if x["subcategory"] != "EMBED_NOT_WORKING"]
    proposed = rules.RuleSet.from_dict(data)
    cert = _v2({"c10": "ko"}, {"c10": ["embed"]}, issue_reports=[_report("EMBED_NOT_WORKING")])
    before, after = score(cert, V2), score(cert, proposed)
    assert (_neutralized(before), before.jury_review) == (1, False)
    assert (_neutralized(after), after.jury_review) == (0, True)
    d = rules.diff(V2, proposed)
    assert any("EMBED_NOT_WORKING" in c.path and c.kind == "removed" for c in d)
    assert proposed.hash != V2.hash


@pytest.mark.parametrize(
    ("edit", "field"),
    [
        (lambda p: p["resolution"].append({"subcategory": "NOPE", "action": "neutralize"}), "NOPE"),
        (lambda p: p.__setitem__("neutralizable_statuses", ["ko", "ok"]), "neutralizable_statuses"),
        (lambda p: p["resolution"][0].__setitem__("action", "forgive"), "action"),
        (
            lambda p: p["resolution"][5].__setitem__("if_challenge_has", ["video"]),
            "if_challenge_has",
        ),
        (lambda p: p["impactful_categories"].append("LUNCH"), "impactful_categories"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(edit, field):
    data = V2.to_dict()
    edit(data["incidents"])
    with pytest.raises(rules.RuleError, match=field):
        rules.RuleSet.from_dict(data)


def test_an_unknown_subcategory_in_a_report_is_refused():
    from pixirt.exceptions import ScoringError

    with pytest.raises(ScoringError, match=r"issue_reports\[0\]\.subcategory"):
        score(_v2({}, issue_reports=[_report("COFFEE_SPILT")]), V2)


def test_v3_resolves_no_report_automatically():
    """process-auto-jury.js: _handleAutoJuryV3 resolves nothing; the scoring is unchanged."""
    cert = _v3(
        32,
        issue_reports=[
            {"category": "IN_CHALLENGE", "subcategory": "WEBSITE_BLOCKED", "challenge_id": "q0"}
        ],
    )
    r, plain = score(cert, V3), score(_v3(32), V3)
    assert r.jury_review is True and r.pix_score == plain.pix_score
    assert "→ unresolved" in r.explain()


# --------------------------------------------------------------------------- jury events
def test_jury_events_are_replayed_in_order():
    cert = _v2(
        {"c10": "ko"},
        jury_events=[
            {"kind": "neutralize", "challenge_id": "c10"},
            {"kind": "neutralize", "challenge_id": "c11"},
            {"kind": "deneutralize", "challenge_id": "c10"},
            {"kind": "reject_for_fraud"},
            {"kind": "unreject_for_fraud"},
            {"kind": "rescore"},
        ],
    )
    r = score(cert, V2)
    assert _neutralized(r) == 1 and r.status == "validated"
    assert "Jury events, in order: neutralize c10" in r.explain()
    cancelled = score(_v2({}, jury_events=[{"kind": "cancel"}]), V2)
    assert cancelled.status == "cancelled"
    v3 = score(_v3(32, jury_events=[{"kind": "reject_for_fraud"}, {"kind": "cancel"}]), V3)
    assert (v3.status, v3.pix_score) == ("cancelled_by_jury", None)
    back = score(_v3(32, jury_events=[{"kind": "cancel"}, {"kind": "uncancel"}]), V3)
    assert back.status == "validated"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        ({"kind": "neutralize"}, r"jury_events\[0\]\.challenge_id"),
        ({"kind": "cancel", "challenge_id": "c10"}, r"jury_events\[0\]\.challenge_id"),
        ({"kind": "pardon"}, r"jury_events\[0\]\.kind"),
    ],
)
def test_bad_jury_events_are_refused_naming_the_field(event, field):
    from pixirt.exceptions import DataError

    with pytest.raises(DataError, match=field):
        Certification.from_dict({"challenges": [], "jury_events": [event]})


def test_reports_and_events_round_trip_through_json():
    cert = _v2(
        {"c10": "ko"},
        {"c10": ["image"]},
        issue_reports=[_report("IMAGE_NOT_DISPLAYING")],
        jury_events=[{"kind": "neutralize", "challenge_id": "c12"}],
    )
    back = Certification.from_dict(__import__("json").loads(cert.to_json()))
    assert back == cert
    assert score(back, V2) == score(cert, V2)


# --------------------------------------------------------------------------- CléA, fraud ban
# score-complementary-certification-v2.js → ComplementaryCertificationScoringWithoutComplementaryReferential:
# acquired with a validated core certification, no fraud, pix score >= the badge's minimum
def _with_minimum(minimum: int, ban: int = 0):
    data = V2.to_dict()
    data["id"] = "clea-test"
    data["complementary"]["clea"]["minimum_earned_pix"] = minimum
    data["jury"]["fraud_ban_months"] = ban
    return rules.RuleSet.from_dict(data)


def test_clea_needs_a_validated_certification_no_fraud_and_the_minimum_score():
    cert = _v2({}, clea_badge=True)
    r = score(cert, V2)
    assert r.status == "validated" and r.pix_score == 150
    assert score(cert, _with_minimum(150)).clea is True
    assert score(cert, _with_minimum(151)).clea is False
    fraud = score(_v2({}, clea_badge=True, fraud=True), _with_minimum(10))
    assert (fraud.status, fraud.clea) == ("rejected", False)
    low = {f"c{k}{j}": "ko" for k in range(1, 6) for j in range(3)}
    rejected = score(_v2(low, clea_badge=True), _with_minimum(0))
    assert rejected.status != "validated" and rejected.clea is False
    assert score(_v2({}), V2).clea is None  # not a CléA candidate
    assert "CléA numérique acquired" in score(cert, _with_minimum(150)).explain()


def test_a_fraud_ban_is_an_outcome_field_set_by_the_jury():
    ruled = _with_minimum(70, ban=24)
    r = score(_v2({}, jury_events=[{"kind": "reject_for_fraud"}]), ruled)
    assert (r.status, r.comment, r.ban_months) == ("rejected", "FRAUD", 24)
    assert score(_v2({}), ruled).ban_months is None
    assert score(_v2({}, fraud=True), V2).ban_months == 0  # Pix's length is not public: 0
    assert r.to_dict()["ban_months"] == 24


def test_the_engine_records_issue_reports_and_scores_them(tmp_path):
    from pixirt.cat import CatState
    from pixirt.cat import _engine as engine
    from pixirt.exceptions import DataError, SessionError
    from pixirt.simulation import Population, pix_like_bank

    bank = pix_like_bank(0)
    profile = Population().sample(1, seed=3, bank=bank).profile(0)
    state = engine.start(bank, V2, profile=profile, seed=3)
    while (choice := engine.next_challenge(state)) is not None:
        state = engine.record(state, choice.challenge_id, "ko" if len(state.asked) < 3 else "ok")
    first = state.asked[0]
    plain = engine.result(state)
    state = engine.report_issue(state, "IN_CHALLENGE", "WEBSITE_BLOCKED", first)
    state = engine.report_issue(state, "CANDIDATE_INFORMATIONS_CHANGES", "NAME_OR_BIRTHDATE")
    r = engine.result(state)
    comp = bank.metadata.loc[first, "competence"]
    assert r.competences[comp].n_neutralized == plain.competences[comp].n_neutralized + 1
    assert r.jury_review and not plain.jury_review
    back = CatState.from_dict(state.to_dict(), bank=bank, rules=V2)
    assert back == state and engine.result(back) == r
    with pytest.raises(DataError, match="COFFEE"):
        engine.report_issue(state, "IN_CHALLENGE", "COFFEE")
    with pytest.raises(SessionError, match="not asked"):
        engine.report_issue(state, "IN_CHALLENGE", "WEBSITE_BLOCKED", "nope")


# --------------------------------------------------------------------------- Pix+
# certification-challenges-service.js, pickCertificationChallengesForPixPlus and
# _pick4CertificationChallengesForArea: per area, the certifiable skills by decreasing
# difficulty, one challenge per skill, 4 per area at most; an unanswered challenge first
def _plus_bank():
    import pandas as pd

    from pixirt import ItemBank

    rows = []
    for area in ("1", "2"):
        for lv in range(1, 7):
            for k in range(2):  # two challenges per skill
                rows.append((f"{area}-{lv}-{k}", area, f"@plus{area}{lv}", lv))
    frame = pd.DataFrame(rows, columns=["item_id", "area", "skill", "level"])
    frame["a"], frame["b"], frame["c"] = 1.0, 0.0, 0.0
    return ItemBank.from_frame(frame, model="2PL")


def test_pix_plus_picks_four_challenges_per_area_by_decreasing_difficulty():
    from pixirt.cat._pix_plus import plan_pix_plus

    bank = _plus_bank()
    skills = [f"@plus1{lv}" for lv in range(1, 7)] + ["@plus23", "@plus21"]
    picked = plan_pix_plus(bank, skills, V2, seed=1, index=7)
    assert [p.rsplit("-", 1)[0] for p in picked] == ["1-6", "1-5", "1-4", "1-3", "2-3", "2-1"]
    again = plan_pix_plus(bank, skills, V2, seed=1, index=7)
    assert picked == again  # reproducible
    # a challenge answered during positioning is avoided while another one is left
    answered = {f"1-6-{k}" for k in range(2)} - {picked[0]}
    assert plan_pix_plus(bank, skills, V2, seed=1, index=7, answered=answered)[0] == picked[0]
    other = next(f"1-6-{k}" for k in range(2) if f"1-6-{k}" != picked[0])
    assert plan_pix_plus(bank, skills, V2, seed=1, index=7, answered={picked[0]})[0] == other
    both = {f"1-6-{k}" for k in range(2)}
    assert plan_pix_plus(bank, skills, V2, seed=1, index=7, answered=both)[0] in both


def test_pix_plus_is_data_and_refuses_unknown_skills():
    from pixirt.cat._pix_plus import plan_pix_plus
    from pixirt.exceptions import DataError

    bank = _plus_bank()
    data = V2.to_dict()
    data["id"] = "plus-2"
    data["complementary"]["pix_plus"]["challenges_per_area"] = 2
    two = plan_pix_plus(
        bank, [f"@plus1{lv}" for lv in range(1, 7)], rules.RuleSet.from_dict(data), seed=1
    )
    assert [p.rsplit("-", 1)[0] for p in two] == ["1-6", "1-5"]
    with pytest.raises(DataError, match="@nope"):
        plan_pix_plus(bank, ["@nope"], V2, seed=1)
    with pytest.raises(rules.RuleError, match="pix_plus"):
        plan_pix_plus(bank, ["@plus11"], V3, seed=1)
