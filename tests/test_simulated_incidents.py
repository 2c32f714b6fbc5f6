"""Simulated incidents by category: statuses, issue reports, the policy's resolution, the jury's workload."""

from __future__ import annotations

import numpy as np
import pytest

from pixirt import rules
from pixirt.cat._incidents import STATUSES
from pixirt.simulation import (
    FEATURE_SHARES,
    PIX_LIKE_INCIDENTS,
    Population,
    Responder,
    compare,
    pix_like_bank,
    replay_candidate,
    simulate,
)

V2 = rules.load("pix-v2")
NO_EMBED = rules.load("docs/examples/pix-v2-no-embed.toml")
#: many incidents, so that a few hundred candidates exercise every strategy
HEAVY = Responder(
    skip_rate=0.3,
    timeout_rate=0.5,
    focus_out_rate=0.3,
    abandon_rate=0.05,
    technical_abort_rate=0.05,
    issue_rates={
        "IMAGE_NOT_DISPLAYING": 0.03,
        "EMBED_NOT_WORKING": 0.03,
        "FILE_NOT_OPENING": 0.02,
        "EXTRA_TIME_EXCEEDED": 0.02,
        "WEBSITE_BLOCKED": 0.02,
        "LINK_NOT_WORKING": 0.01,
        "UNINTENTIONAL_FOCUS_OUT": 0.6,
    },
    session_issue_rates={"NAME_OR_BIRTHDATE": 0.05, "FRAUD": 0.02, "SIGNATURE_ISSUE": 0.05},
)


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(0)


def test_the_pix_like_bank_has_challenge_features(bank):
    meta = bank.metadata
    for name, share in FEATURE_SHARES.items():
        assert abs(meta[name].mean() - share) < 0.03, name


@pytest.mark.parametrize("ruleset", [V2, NO_EMBED], ids=["pix-v2", "no-embed"])
def test_every_row_is_the_engine_with_its_reports(bank, ruleset):
    """Batch rows == one candidate at a time through the engine, reports scored by score()."""
    pop = Population()
    frame = simulate(pop, bank, ruleset, 120, seed=4, chunk_size=37, responder=HEAVY).frame
    assert frame["issue_reports"].str.len().sum() > 40
    assert frame["jury_review"].any() and frame["n_auto_neutralized"].sum() > 0
    statuses = {s for row in frame["statuses"] for s in row if s is not None}
    assert {"aband", "timedout", "focusedOut", "ok", "ko"} <= statuses
    for i in range(len(frame)):
        row = frame.iloc[i]
        if row["status"] == "not_certifiable":
            continue
        if row["status"] == "error":  # Pix's scoring refuses it: the engine says the same
            from pixirt.exceptions import ScoringError

            with pytest.raises(ScoringError) as err:
                replay_candidate(pop, bank, ruleset, i, seed=4, responder=HEAVY)
            assert str(err.value) == row["comment"]
            continue
        state, result = replay_candidate(pop, bank, ruleset, i, seed=4, responder=HEAVY)
        assert list(state.statuses) == [s for s in row["statuses"] if s is not None]
        assert result.status == row["status"], i
        assert result.pix_score == row["pix_score"], i
        assert result.jury_review == row["jury_review"], i
        for code in [c for c in frame.columns if c.startswith("cert_level_")]:
            comp = result.competences.get(code[len("cert_level_") :])
            level = comp.level if comp is not None else None
            assert (level is None and np.isnan(row[code])) or level == row[code], (i, code)


def test_automatic_neutralizations_follow_the_policy_by_hand(bank):
    """Each row's automatic neutralizations, recounted from the TOML policy and the bank:
    a reported wrong or abandoned answer whose challenge has a required feature; never a
    correct, timed-out or focused-out answer (those are validated or left)."""
    frame = simulate(Population(), bank, V2, 300, seed=2, responder=HEAVY).frame
    meta = bank.metadata
    policy = {x.subcategory: x for x in V2.incidents.resolution}
    checked = 0
    for _, row in frame.iterrows():
        status = dict(zip(row["challenges"], row["statuses"], strict=True))
        expected = 0
        for label in row["issue_reports"]:
            if "@" not in label:
                continue
            sub, cid = label.split("/")[1].split("@")
            rule = policy.get(sub)
            if rule is None:
                continue
            has = not rule.if_challenge_has or any(
                bool(meta.loc[cid, f]) for f in rule.if_challenge_has
            )
            if rule.action == "neutralize":
                expected += has and status[cid] in ("ko", "aband")
            else:  # validate_focused_out: only an abandoned answer is neutralized
                expected += has and status[cid] == "aband"
            checked += status[cid] == "ok"
        assert row["n_auto_neutralized"] == expected
    assert checked > 5  # correct answers were reported, and none was neutralized


def test_v3_resolves_nothing_but_the_jury_sees_the_reports(bank):
    reports_only = Responder(
        issue_rates=HEAVY.issue_rates, session_issue_rates=HEAVY.session_issue_rates
    )
    frame = simulate(
        Population(), bank, rules.load("pix-v3"), 150, seed=3, responder=reports_only
    ).frame
    assert frame["n_auto_neutralized"].sum() == 0
    assert frame["jury_review"].mean() > 0.3
    plain = simulate(Population(), bank, rules.load("pix-v3"), 150, seed=3).frame
    assert (frame["pix_score"] == plain["pix_score"]).all()  # v3 does not read reports


def test_compare_shows_what_a_policy_change_does_and_the_jury_workload(bank, tmp_path):
    c = compare(
        V2,
        NO_EMBED,
        bank=bank,
        n=3000,
        seed=1,
        n_retest=0,
        n_bootstrap=200,
        responder=Responder(**PIX_LIKE_INCIDENTS),
    )
    h = c.headline()
    assert h["jury_review_proposed"] > h["jury_review_baseline"] > 0
    assert h["jury_review_low"] > 0  # the workload increase is beyond chance
    assert h["better_off"] == 0 and h["worse_off"] > 0  # no longer neutralized: never helps
    assert not c.assumptions["inactive"]
    assert "Jury workload (certifications to review)" in c.summary(lang="en")
    assert "Certifications sent to the jury" in c.report(tmp_path / "r.html", lang="en").read_text(
        encoding="utf-8"
    )


def test_a_policy_change_without_simulated_reports_is_flagged_inactive(bank):
    c = compare(V2, NO_EMBED, bank=bank, n=300, seed=1, n_retest=0, n_bootstrap=100)
    assert c.headline()["changed"] == 0
    assert [x["path"] for x in c.assumptions["inactive"]] == [
        "[incidents.resolution](EMBED_NOT_WORKING)"
    ]


def test_report_names_are_checked_against_the_rule_set(bank):
    from pixirt.exceptions import DataError

    odd = Responder(issue_rates={"COFFEE_SPILT": 0.1})
    with pytest.raises(DataError, match=r"issue_rates\.COFFEE_SPILT"):
        simulate(Population(), bank, V2, 20, seed=1, responder=odd)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"skip_rate": 1.2}, "skip_rate"),
        ({"issue_rates": {"WEBSITE_BLOCKED": -0.1}}, "issue_rates.WEBSITE_BLOCKED"),
        ({"issue_rates": {"A": 0.6, "B": 0.6}}, "issue_rates"),
        ({"session_issue_rates": ["FRAUD"]}, "session_issue_rates"),
    ],
)
def test_bad_rates_are_refused_naming_the_field(kwargs, field):
    from pixirt.exceptions import DataError

    with pytest.raises(DataError) as err:
        Responder(**kwargs)
    assert err.value.field == field


def test_statuses_follow_their_rates(bank):
    r = Responder(skip_rate=0.25, timeout_rate=0.5, focus_out_rate=0.2)
    n = 200_000
    idx = np.arange(n)
    wrong = np.zeros(n, dtype=bool)
    timed = np.full(n, 1 << 3)
    codes = r.statuses(5, idx, 0, wrong, timed)
    share = np.bincount(codes, minlength=len(STATUSES)) / n
    assert abs(share[STATUSES.index("aband")] - 0.25) < 0.01
    # the timeout applies to the wrong answers not abandoned: 0.75 × 0.5
    assert abs(share[STATUSES.index("timedout")] - 0.375) < 0.01
    focus = r.statuses(5, idx, 0, np.ones(n, dtype=bool), np.full(n, 1 << 4))
    assert abs((focus == STATUSES.index("focusedOut")).mean() - 0.2) < 0.01
