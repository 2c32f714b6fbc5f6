"""v2 over arrays (pixirt.cat._v2_plan, _v2_batch_scoring): one implementation for a session and for a million.

- the simulator never stops on a certification Pix refuses to score: an ``error`` row;
- batch == per-candidate engine == ``replay_candidate``, for random rule variants and
  incidents (hypothesis);
- planning a batch == planning each profile alone (accessibility, answered challenges,
  duplicate skills, any listing order);
- scoring a batch == scoring each certification alone (refusals included).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from simulation_cases import TWO_GROUPS, incidents_at

from pixirt import ScoringError, rules
from pixirt.cat import (
    Candidate,
    Certification,
    CertificationChallenge,
    CompetenceProfile,
    PositionedCompetence,
    Profile,
    _v2_batch_scoring,
    _v2_plan,
    _v2_tables,
    score,
    start,
)
from pixirt.cat._engine import build_runtime
from pixirt.cat._profile import code_key
from pixirt.simulation import Population, pix_like_bank, replay_candidate, simulate

SLOW = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def _nan_to_none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x


# ------------------------------------------------------------------ the case
def test_simulate_records_a_refused_certification_as_an_error(bank):
    """Seed 1, candidate 732: the score is 0 with RR 53 > 50 (Pix's sanity contract)."""
    res = simulate(Population(), bank, rules.load("pix-v2"), 1000, seed=1)
    row = res.frame.iloc[732]
    assert row["status"] == "error"
    assert "the score is 0 with RR 53 > 50" in row["comment"]
    assert np.isnan(
        row[[c for c in res.frame.columns if c.startswith("cert_level_")]].astype(float)
    ).all()
    assert (res.frame["status"] == "error").sum() >= 1
    assert res.outcome_rates().loc["error", "share"] > 0
    # the engine refuses it the same way, with the same words
    with pytest.raises(ScoringError, match="the score is 0 with RR 53 > 50"):
        replay_candidate(Population(), bank, rules.load("pix-v2"), 732, seed=1)


# ------------------------------------------------------------------ batch == engine
def _variant(data, per, trust, certified, middle, trusted, max_level, min_comps, drop):
    v2 = data["scoring"]["v2"]
    v2["challenges_per_competence"] = per
    v2["trust_ratio"] = trust
    v2["max_reachable_level"] = max_level
    v2["minimum_certifiable_competences"] = min_comps
    v2["reproducibility"] = {
        "minimum_to_be_certified": certified,
        "middle_band_minimum": middle,
        "minimum_to_be_trusted": trusted,
    }
    if drop is not None:
        del v2["table"][drop % len(v2["table"])]


variants = st.tuples(
    st.integers(2, 4),
    st.sampled_from([0.5, 0.66, 0.8, 1.0]),
    st.integers(30, 60),
    st.integers(0, 15),
    st.integers(0, 15),
    st.integers(2, 8),
    st.integers(1, 8),
    st.one_of(st.none(), st.integers(0, 18)),
)


@SLOW
@given(
    variant=variants,
    seed=st.integers(0, 2**20),
    rates=st.tuples(*(st.sampled_from([0.0, 0.05, 0.2]) for _ in range(4))),
)
def test_batch_equals_engine_and_replay(bank, variant, seed, rates):
    per, trust, certified, middle, trusted, max_level, min_comps, drop = variant
    middle, trusted = certified + middle, certified + middle + trusted
    data = rules.load("pix-v2").to_dict()
    data["id"] = "v2-variant"
    _variant(
        data, per, trust, certified, min(middle, 100), min(trusted, 100), max_level, min_comps, drop
    )
    try:
        ruleset = rules.RuleSet.from_dict(data, strict=False)  # missing rows, on purpose
    except Exception:  # a variant the rule validation refuses: nothing to run
        return
    responder = incidents_at((0.0, *rates))
    pop = TWO_GROUPS
    frame = simulate(pop, bank, ruleset, 30, seed=seed, chunk_size=11, responder=responder).frame
    for i in range(30):
        row = frame.iloc[i]
        if row["status"] == "not_certifiable":
            with pytest.raises(Exception, match="certifiable competence"):
                replay_candidate(pop, bank, ruleset, i, seed=seed, responder=responder)
            continue
        if row["status"] == "error":
            with pytest.raises(ScoringError) as err:
                replay_candidate(pop, bank, ruleset, i, seed=seed, responder=responder)
            assert str(err.value) == row["comment"]
            continue
        state, result = replay_candidate(pop, bank, ruleset, i, seed=seed, responder=responder)
        assert list(state.plan) == list(row["challenges"])
        assert [s for s in state.statuses] == [s for s in row["statuses"] if s is not None]
        assert list(state.neutralized) == list(row["neutralized"])
        assert (state.abort_reason or "") == row["abort_reason"]
        assert result.status == row["status"] and result.comment == _nan_to_none(row["comment"])
        assert result.pix_score == row["pix_score"]
        assert result.reproducibility_rate == row["reproducibility_rate"]
        for code in [c for c in frame.columns if c.startswith("cert_level_")]:
            comp = result.competences.get(code[len("cert_level_") :])
            expected = _nan_to_none(row[code])
            assert (comp.level if comp is not None else None) == expected


# ------------------------------------------------------------------ planning
def _profiles(bank, n, seed):
    cands = Population().sample(n, seed=seed, bank=bank)
    return [cands.profile(i) for i in range(n)], cands


def test_batch_plan_equals_one_by_one(bank):
    runtime = build_runtime(bank, rules.load("pix-v2"))
    profiles, cands = _profiles(bank, 60, seed=5)
    rng = np.random.default_rng(0)
    edited = []
    for k, p in enumerate(profiles):
        comps = {}
        for code, c in p.competences.items():
            skills = list(c.skills)
            rng.shuffle(skills)  # the listing order does not matter: name order within a level
            if skills and k % 3 == 0:
                skills.append(skills[0])  # a skill listed twice counts once
            comps[code] = CompetenceProfile(c.level, c.pix, tuple(skills))
        answered = list(p.answered_challenges)
        if k % 4 == 0 and answered:
            # a second challenge of a skill answered in positioning
            skill = bank.metadata.loc[answered[0], "skill"]
            others = bank.metadata.index[bank.metadata["skill"] == skill].tolist()
            answered += [c for c in others if c not in answered][:1]
        edited.append(Profile(comps, tuple(answered)))
    access = np.arange(60) % 5 == 0  # candidates needing accessible challenges
    batch = _v2_tables.V2Profiles.from_profiles(edited, runtime.structure, index=cands.index)
    planned = _v2_plan.plan(
        batch, runtime.structure, runtime.v2_tables, rules.load("pix-v2").v2, seed=9
    )
    for i, p in enumerate(edited):
        if not p.is_certifiable():
            assert planned.length[i] == 0 and not planned.certifiable[i]
            continue
        cand = Candidate(f"c{i}", int(cands.index[i]), accessibility=bool(access[i]))
        alone = start(bank, rules.load("pix-v2"), profile=p, candidate=cand, seed=9).plan
        got = [str(runtime.structure.item_ids[j]) for j in planned.items[i, : planned.length[i]]]
        assert got == list(alone)
        original = start(
            bank,
            rules.load("pix-v2"),
            profile=profiles[i],
            candidate=Candidate("x", int(cands.index[i])),
            seed=9,
        ).plan
        if list(p.answered_challenges) == list(profiles[i].answered_challenges):
            # listing order, duplicates and a need for accessible challenges change nothing:
            # Pix's v2 selection draws among all operative challenges
            assert list(alone) == list(original)


def test_plan_prefers_fresh_challenges_and_falls_back_when_all_were_answered(bank):
    runtime = build_runtime(bank, rules.load("pix-v2"))
    profiles, cands = _profiles(bank, 40, seed=6)
    meta = bank.metadata
    for i, p in enumerate(profiles):
        if not p.is_certifiable():
            continue
        plan = start(
            bank,
            rules.load("pix-v2"),
            profile=p,
            candidate=Candidate("c", int(cands.index[i])),
            seed=2,
        ).plan
        answered = set(p.answered_challenges)
        for cid in plan:
            skill_challenges = set(meta.index[meta["skill"] == meta.loc[cid, "skill"]])
            if cid in answered:  # only when every challenge of the skill was answered
                assert skill_challenges <= answered
        # answering every challenge of the planned skills: the fallback keeps the same skills
        every = tuple(
            c for cid in plan for c in meta.index[meta["skill"] == meta.loc[cid, "skill"]]
        )
        again = start(
            bank,
            rules.load("pix-v2"),
            profile=Profile(p.competences, every),
            candidate=Candidate("c", int(cands.index[i])),
            seed=2,
        ).plan
        assert [meta.loc[c, "skill"] for c in again] == [meta.loc[c, "skill"] for c in plan]
    assert runtime.v2_tables is not None


# ------------------------------------------------------------------ scoring
statuses = st.sampled_from([None, "ok", "ok", "ko", "aband", "timedout"])


@st.composite
def certifications(draw):
    codes = sorted(
        draw(
            st.lists(st.sampled_from(["1.1", "1.2", "2.1", "3.4", "5.2"]), min_size=1, unique=True)
        ),
        key=code_key,
    )
    profile = {}
    for code in codes:
        level = draw(st.integers(0, 8))
        pix = (
            level * 8 + draw(st.integers(0, 7))
            if draw(st.integers(0, 20))
            else draw(st.integers(0, 64))
        )
        profile[code] = PositionedCompetence(level=level, pix=pix)
    n = draw(st.integers(0, 12))
    challenges = []
    for k in range(n):
        status = draw(statuses)
        challenges.append(
            CertificationChallenge(
                f"c{k}",
                draw(st.sampled_from([*codes, "4.1"])),
                type=draw(st.sampled_from(["QCU", "QROCM-dep"])),
                neutralized=draw(st.booleans()) and draw(st.booleans()),
                skipped_automatically=status is None and draw(st.booleans()),
                status=status,
            )
        )
    return Certification(
        challenges=challenges,
        profile=profile,
        abort_reason=draw(st.sampled_from([None, "candidate", "technical"])),
        fraud=draw(st.integers(0, 9)) == 0,
        cancelled=draw(st.integers(0, 9)) == 0,
    )


@settings(max_examples=60, deadline=None)
@given(batch=st.lists(certifications(), min_size=1, max_size=8))
def test_score_batch_rows_are_independent(batch):
    """One padded batch of many certifications == each certification scored alone."""
    v2 = rules.load("pix-v2").v2
    codes = sorted({c for cert in batch for c in cert.profile}, key=code_key)
    col = {c: k for k, c in enumerate(codes)}
    width = max(len(c.challenges) for c in batch) + 1
    n = len(batch)

    def grid(value, fill):
        out = np.full((n, width), fill, dtype=type(fill))
        for i, cert in enumerate(batch):
            for j, c in enumerate(cert.challenges):
                out[i, j] = value(c)
        return out

    scores = _v2_batch_scoring.score_batch(
        v2,
        level=[
            [cert.profile[c].level if c in cert.profile else 0 for c in codes] for cert in batch
        ],
        pix=[[cert.profile[c].pix if c in cert.profile else 0 for c in codes] for cert in batch],
        competence=grid(lambda c: col.get(c.competence, -1), -1),
        valid=grid(lambda c: True, False),
        answered=grid(lambda c: c.answered, False),
        correct=grid(lambda c: c.correct, False),
        neutralized=grid(lambda c: c.neutralized, False),
        skipped_automatically=grid(lambda c: c.skipped_automatically, False),
        qrocm_dep=grid(lambda c: c.type == "QROCM-dep", False),
        fraud=[c.fraud for c in batch],
        cancelled=[c.cancelled for c in batch],
        technical_abort=[c.abort_reason == "technical" for c in batch],
        competences=codes,
        challenge_ids=[[c.challenge_id for c in cert.challenges] for cert in batch],
    )
    for i, cert in enumerate(batch):
        try:
            alone = score(cert, rules.load("pix-v2"))
        except ScoringError as err:
            assert scores.outcome_names()[i] == "error"
            assert str(err) == scores.error[i]
            continue
        assert scores.outcome_names()[i] == alone.status
        assert scores.comment_names()[i] == alone.comment
        assert int(scores.pix_score[i]) == alone.pix_score
        assert int(scores.reproducibility_rate[i]) == alone.reproducibility_rate
        assert bool(scores.trusted[i]) == alone.trusted
        for code, comp in alone.competences.items():
            assert int(scores.level[i, col[code]]) == comp.level
            assert int(scores.score[i, col[code]]) == comp.score


def test_a_certification_without_profile_is_scored_not_crashed():
    """No tested competence (found by the service's fuzzing): every challenge is ignored."""
    cert = Certification(challenges=[CertificationChallenge("c1", "1.1", status="ok")], profile={})
    result = score(cert, rules.load("pix-v2"))
    assert result.status == "rejected" and result.reproducibility_rate == 0
    assert result.comment == "REJECTED_DUE_TO_INSUFFICIENT_CORRECT_ANSWERS"
    assert dict(result.competences) == {}


def test_compare_counts_refused_certifications_and_goes_on(bank):
    from pixirt.simulation import compare

    proposed = rules.load("pix-v2").to_dict()
    proposed["id"] = "pix-v2-rr55"
    proposed["scoring"]["v2"]["reproducibility"]["minimum_to_be_certified"] = 55
    c = compare(
        "pix-v2",
        rules.RuleSet.from_dict(proposed),
        bank=bank,
        n=1000,
        seed=1,
        n_retest=0,
        n_bootstrap=100,
    )
    errors = dict(c.notes).get("scoring_errors", 0)
    assert errors >= 1  # candidate 732 under the current rules at least
    assert "error" in set(c.outcomes.index) | set(c.outcomes.columns)


def test_a_technical_abort_neutralizes_the_unanswered_challenges(bank):
    """Pix's auto-jury (process-auto-jury.js): a technical abort neutralizes what is left.

    9 correct answers, then a technical abort with 6 of 15 challenges unanswered: 9
    non-neutralized challenges are fewer than ceil(0.66 × 15) = 10, so Pix cancels the
    certification (too many neutralized); skipping them instead validated it.
    """
    from pixirt.cat import abort, next_challenge, record, result

    profile = Profile(
        {code: CompetenceProfile(3, 24, skills) for code, skills in _five_competences(bank).items()}
    )
    state = start(bank, rules.load("pix-v2"), profile=profile, seed=3)
    assert len(state.plan) == 15
    for _ in range(9):
        state = record(state, next_challenge(state).challenge_id, "ok")
    technical = result(abort(state, "technical"))
    assert (technical.status, technical.comment) == ("cancelled", "CANCELLED_DUE_TO_NEUTRALIZATION")
    assert technical.trusted is False and technical.reproducibility_rate == 100
    # a candidate who leaves: the 6 are skipped, counted wrong (RR 60)
    left = result(abort(state, "candidate"))
    assert left.reproducibility_rate == 60 and left.trusted is True


def _five_competences(bank):
    """Skills of levels 1–3 of five competences (a profile at level 3 everywhere)."""
    meta = bank.metadata
    out = {}
    for code in ("1.1", "1.2", "2.1", "3.1", "4.1"):
        part = meta[(meta["competence"] == code) & (meta["level"] <= 3)]
        out[code] = tuple(sorted(set(part["skill"])))
    return out


def test_the_simulator_finalizes_technical_aborts_as_the_engine(bank):
    from simulation_cases import incidents_at

    responder = incidents_at((0.0, 0.0, 0.0, 0.3, 0.0))  # technical aborts only
    frame = simulate(
        Population(), bank, rules.load("pix-v2"), 120, seed=6, responder=responder
    ).frame
    tech = frame[(frame["abort_reason"] == "technical") & (frame["status"] != "not_certifiable")]
    assert len(tech) > 10
    assert (tech["comment"] == "CANCELLED_DUE_TO_NEUTRALIZATION").any()
    for i in tech.index[:5]:
        _, res = replay_candidate(
            Population(), bank, rules.load("pix-v2"), int(i), seed=6, responder=responder
        )
        assert (res.status, res.comment, res.pix_score) == (
            frame.loc[i, "status"],
            _nan_to_none(frame.loc[i, "comment"]),
            frame.loc[i, "pix_score"],
        )


def test_v2_selection_does_not_filter_accessible_challenges(bank):
    """Pix's v2 selection draws among all operative challenges (certification-challenges-service.js)."""
    profiles, cands = _profiles(bank, 30, seed=9)
    accessible = bank.metadata["accessible"].to_numpy()
    position = {c: k for k, c in enumerate(bank.item_ids.tolist())}
    served_inaccessible = 0
    for i, p in enumerate(profiles):
        if not p.is_certifiable():
            continue
        index = int(cands.index[i])
        needs = start(
            bank,
            rules.load("pix-v2"),
            profile=p,
            candidate=Candidate("a", index, accessibility=True),
            seed=4,
        ).plan
        plain = start(
            bank, rules.load("pix-v2"), profile=p, candidate=Candidate("b", index), seed=4
        ).plan
        assert needs == plain
        served_inaccessible += sum(not accessible[position[c]] for c in needs)
    assert served_inaccessible > 0  # the case exists in the Pix-like bank
