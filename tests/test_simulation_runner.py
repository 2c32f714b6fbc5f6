"""The vectorized simulator: same numbers as the engine, chunk-invariant, plausible outcomes."""

import hashlib

import numpy as np
import pandas as pd
import pytest
from simulation_cases import INCIDENTS

from pixirt import DataError, rules
from pixirt.cat import _ranking as ranking
from pixirt.simulation import Population, Responder, pix_like_bank, replay_candidate, simulate


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def pop():
    return Population(groups={"school": (0.4, -0.3), "adult": (0.6, 0.2)})


def _none(x):
    return None if x is None or (isinstance(x, float) and np.isnan(x)) else x


def assert_same(row, state, res):
    assert list(state.asked) == list(row["challenges"])
    assert res.status == row["status"] and res.comment == _none(row["comment"])
    assert (res.pix_score or 0) == row["pix_score"]  # no score: 0 in a row
    assert res.n_answers == row["n_answers"]
    if res.algorithm == "v3":
        assert res.capacity == row["capacity"] and res.error_rate == row["error_rate"]
    for code, comp in res.competences.items():
        expected = row[f"cert_level_{code}"]
        assert (comp.level is None and np.isnan(expected)) or comp.level == expected


@pytest.mark.parametrize("responder", [Responder(), INCIDENTS], ids=["clean", "incidents"])
def test_v3_rows_replay_through_the_engine(bank, pop, responder):
    res = simulate(
        pop, bank, rules.load("pix-v3"), 600, seed=3, chunk_size=250, responder=responder
    )
    frame = res.frame
    # candidates from every chunk, and every unusual kind of session
    rows = {0, 249, 250, 599}
    for col in ("abort_reason",):
        rows |= set(np.flatnonzero(frame[col] != "")[:6].tolist())
    rows |= set(np.flatnonzero(frame["fraud"])[:3].tolist())
    rows |= set(np.flatnonzero(frame["neutralized"].map(len) > 0)[:3].tolist())
    rows |= set(np.flatnonzero(frame["statuses"].map(lambda s: None in s))[:3].tolist())
    if responder is INCIDENTS:
        assert len(rows) > 12  # the incidents did happen
    for i in sorted(rows):
        state, result = replay_candidate(
            pop, bank, rules.load("pix-v3"), i, seed=3, responder=responder
        )
        assert_same(frame.iloc[i], state, result)


def test_v2_rows_replay_through_the_engine(bank, pop):
    res = simulate(pop, bank, rules.load("pix-v2"), 120, seed=4, chunk_size=50, responder=INCIDENTS)
    frame = res.frame
    assert (frame["status"] != "not_certifiable").mean() > 0.9
    for i in (0, 49, 50, 119, *np.flatnonzero(frame["abort_reason"] != "")[:3].tolist()):
        if frame.iloc[i]["status"] == "not_certifiable":
            continue
        state, result = replay_candidate(
            pop, bank, rules.load("pix-v2"), i, seed=4, responder=INCIDENTS
        )
        assert list(state.plan) == frame.iloc[i]["challenges"]
        assert (
            result.status == frame.iloc[i]["status"]
            and result.pix_score == frame.iloc[i]["pix_score"]
        )
    # realistic v2: positioning validates what candidates master, so RR sits around 70
    assert 60 < frame["reproducibility_rate"].dropna().mean() < 85


def test_identical_parquet_for_any_chunk_size(bank, pop, tmp_path):
    r = rules.load("pix-v3")
    a = simulate(
        pop, bank, r, 1500, seed=7, chunk_size=1000, out=tmp_path / "a.parquet", responder=INCIDENTS
    )
    b = simulate(
        pop,
        bank,
        r,
        1500,
        seed=7,
        chunk_size=50_000,
        out=tmp_path / "b.parquet",
        responder=INCIDENTS,
    )
    pd.testing.assert_frame_equal(a.frame, b.frame)
    digest = [hashlib.sha256(p.read_bytes()).hexdigest() for p in (a.path, b.path)]
    assert digest[0] == digest[1]
    back = pd.read_parquet(a.path)
    assert (
        len(back) == 1500
        and set(back["rules_hash"]) == {r.hash}
        and set(back["bank_hash"]) == {bank.hash}
    )
    assert isinstance(back["challenges"].iloc[0], np.ndarray | list)  # an Arrow list column


@pytest.mark.parametrize(("rule_id", "n"), [("pix-v3", 300), ("pix-v2", 60)])
def test_frame_types_do_not_depend_on_chunks(bank, pop, rule_id, n):
    """Chunks of 7 (many with no comment at all, or whole-number levels only) vs one chunk."""
    r = rules.load(rule_id)
    small = simulate(pop, bank, r, n, seed=8, chunk_size=7, responder=INCIDENTS).frame
    whole = simulate(pop, bank, r, n, seed=8, chunk_size=n, responder=INCIDENTS).frame
    pd.testing.assert_frame_equal(small, whole)  # dtypes included
    assert small["comment"].dtype == object
    assert all(small[c].dtype == np.float64 for c in small.columns if c.startswith("cert_level_"))


def test_v3_capacity_recovers_true_ability(bank):
    res = simulate(Population(), bank, rules.load("pix-v3"), 1500, seed=9, chunk_size=1500)
    f = res.frame
    r = np.corrcoef(f["true_theta"], f["capacity"])[0, 1]
    rmse = float(np.sqrt(np.mean((f["capacity"] - f["true_theta"]) ** 2)))
    assert r > 0.95 and rmse < 0.35
    rec = res.capacity_recovery(n_bins=5)
    middle = rec["bias"].iloc[1:-1]
    assert np.all(np.abs(middle) < 0.15)  # bias near zero in the middle of the scale
    assert res.exposure().iloc[0] <= 1.0


def test_groups_and_summaries(bank, pop):
    res = simulate(pop, bank, rules.load("pix-v3"), 800, seed=2)
    by_group = res.frame.groupby("group")["pix_score"].mean()
    assert by_group["adult"] > by_group["school"]
    rates = res.outcome_rates(by="group")
    assert np.allclose(rates.groupby(level=0)["share"].sum(), 1.0)
    assert res.score_distribution(n_bins=10)["count"].sum() == 800


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"slip": 1.2}, "slip"),
        ({"slip": 0.6, "guess": 0.5}, "slip"),
        ({"abandon_after": (5, 2)}, "abandon_after"),
    ],
)
def test_bad_responder(kwargs, field):
    with pytest.raises(DataError) as info:
        Responder(**kwargs)
    assert info.value.field == field


def test_bad_simulate_arguments(bank, pop):
    with pytest.raises(DataError, match="n must be"):
        simulate(pop, bank, rules.load("pix-v3"), 0)
    with pytest.raises(DataError, match="chunk_size"):
        simulate(pop, bank, rules.load("pix-v3"), 10, chunk_size=0)


def test_shortlist_fast_path_equals_the_engine_ranking(bank):
    # the same chunk with the proven-shortlist ranking and with the engine's full ranking
    from pixirt.cat._engine import build_runtime
    from pixirt.simulation._v3_chunk import _run_v3

    rt = build_runtime(bank, rules.load("pix-v3"))
    cands = Population(sd=1.5).sample(400, seed=12)
    fast = _run_v3(rt, cands, INCIDENTS, 12, fast=True)
    full = _run_v3(rt, cands, INCIDENTS, 12, fast=False)
    pd.testing.assert_frame_equal(fast, full)


def test_workers_give_identical_results(bank, pop):
    r = rules.load("pix-v3")
    one = simulate(pop, bank, r, 600, seed=5, chunk_size=200, responder=INCIDENTS)
    two = simulate(pop, bank, r, 600, seed=5, chunk_size=200, responder=INCIDENTS, workers=2)
    pd.testing.assert_frame_equal(one.frame, two.frame)


def test_outcomes_on_a_tiny_bank_match_exact_enumeration():
    """Simulated score frequencies equal the exact distribution, enumerated over every pick and answer."""
    from dataclasses import replace as dc_replace

    from pixirt import ItemBank
    from pixirt.cat import Candidate
    from pixirt.cat import _engine as engine
    from pixirt.cat._selection import pick_probabilities

    d = rules.load("pix-v3").to_dict()
    d["id"] = "tiny"
    d["selection"].update(test_length=3, top_n=3, challenges_between_same_competence=0)
    d["scoring"]["v3"]["minimum_answers"] = 3
    tiny_rules = rules.RuleSet.from_dict(d)
    bank = ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"q{i}" for i in range(6)],
                "a": [1.2, 0.8, 1.5, 1.0, 2.0, 0.6],
                "b": [-2.0, -1.0, -0.5, 0.0, 0.5, 1.5],
                "competence": ["1.1", "1.1", "1.2", "1.2", "2.1", "2.1"],
                "tube": [f"@t{i}" for i in range(6)],
                "skill": [f"@t{i}1" for i in range(6)],
            }
        )
    )
    theta = 0.3
    pop = Population(mean=theta, sd=1e-9)

    # exact distribution: branch on each ranked challenge (pick probabilities) and each answer
    exact: dict[int, float] = {}
    start = engine.start(bank, tiny_rules, candidate=Candidate("x", 0), seed=0)

    def walk(state, prob):
        choice = engine.next_challenge(state)
        if choice is None:
            score = engine.result(state).pix_score
            exact[score] = exact.get(score, 0.0) + prob
            return
        picks = pick_probabilities(tiny_rules.selection.pick_probability, len(choice.ranked))
        for cid, pick in zip(choice.ranked, picks, strict=True):
            pos = bank.index_of([cid])[0]
            p_ok = float(1 / (1 + np.exp(-bank.a[pos] * (theta - bank.b[pos]))))
            for status, p in (("ok", p_ok), ("ko", 1 - p_ok)):
                nxt = engine.rebuild(
                    dc_replace(state, asked=(*state.asked, cid), statuses=(*state.statuses, status))
                )
                walk(nxt, prob * pick * p)

    walk(start, 1.0)
    assert sum(exact.values()) == pytest.approx(1.0)
    n = 6000
    sim = simulate(pop, bank, tiny_rules, n, seed=21, chunk_size=3000)
    observed = sim.frame["pix_score"].value_counts().to_dict()
    assert len(exact) >= 8  # a rich distribution: many (pick, answer) paths
    assert set(observed) <= set(exact)
    for score, p in exact.items():
        sd = np.sqrt(p * (1 - p) / n)
        assert abs(observed.get(score, 0) / n - p) <= 4.5 * sd + 1e-9, (
            score,
            p,
            observed.get(score, 0) / n,
        )


def _v3_variant(tube: bool, rate: bool):
    """pix-v3 with only one of pix-v3-2023's selection options (skill rule, success rates)."""
    d = rules.load("pix-v3").to_dict()
    d["id"] = f"pix-v3-tube{int(tube)}-rate{int(rate)}"
    d["selection"]["one_question_per_tube"] = tube
    if rate:
        d["selection"]["minimum_success_rate"] = rules.load("pix-v3-2023").to_dict()["selection"][
            "minimum_success_rate"
        ]
    return rules.RuleSet.from_dict(d)


RULE_VARIANTS = {
    "pix-v3-2023": lambda: rules.load("pix-v3-2023"),
    "skills-only": lambda: _v3_variant(tube=False, rate=False),
    "rate-only": lambda: _v3_variant(tube=True, rate=True),
}


@pytest.mark.parametrize("variant", sorted(RULE_VARIANTS))
def test_shortlist_fast_path_with_skills_and_success_rates(bank, variant):
    """The shortlist ranking serves the non-answered skills rule and the minimum success
    rate: the same chunk (incidents included) as the engine's full ranking."""
    from pixirt.cat._engine import build_runtime
    from pixirt.simulation._v3_chunk import _run_v3

    rt = build_runtime(bank, RULE_VARIANTS[variant]())
    assert ranking.fast_path_applies(rt)
    cands = Population(sd=1.5).sample(300, seed=14)
    fast = _run_v3(rt, cands, INCIDENTS, 5, fast=True)
    full = _run_v3(rt, cands, INCIDENTS, 5, fast=False)
    pd.testing.assert_frame_equal(fast, full)


@pytest.mark.parametrize("variant", ["pix-v3-2023", "skills-only"])
def test_v3_2023_rows_replay_through_the_engine(bank, pop, variant):
    rule_set = RULE_VARIANTS[variant]()
    res = simulate(pop, bank, rule_set, 300, seed=4, chunk_size=120, responder=INCIDENTS)
    frame = res.frame
    rows = {0, 119, 120, 299}
    rows |= set(np.flatnonzero(frame["abort_reason"] != "")[:3].tolist())
    rows |= set(np.flatnonzero(frame["statuses"].map(lambda s: None in s))[:4].tolist())
    rows |= set(np.flatnonzero(frame["true_theta"] < -1.5)[:2].tolist())
    assert len(rows) > 8
    for i in sorted(rows):
        state, result = replay_candidate(pop, bank, rule_set, i, seed=4, responder=INCIDENTS)
        assert_same(frame.iloc[i], state, result)
