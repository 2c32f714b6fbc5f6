"""Populations: factor structure, groups, positioning profiles, chunk invariance, bad input."""

import json

import numpy as np
import pandas as pd
import pytest

from pixirt import DataError
from pixirt.cat import CompetenceProfile, Profile
from pixirt.simulation import Population, pix_like_bank


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


def test_factor_structure_and_groups():
    pop = Population(loading=0.7, groups={"school": (0.4, -0.5), "adult": (0.6, 0.5)})
    c = pop.sample(40_000, seed=3)
    share = np.mean(c.group == "school")
    assert share == pytest.approx(0.4, abs=0.01)
    school, adult = c.theta[c.group == "school"], c.theta[c.group == "adult"]
    assert school.mean() == pytest.approx(-0.5, abs=0.03) and adult.mean() == pytest.approx(
        0.5, abs=0.03
    )
    assert school.std() == pytest.approx(1.0, abs=0.03)
    # within a group: corr(theta_k, theta) = loading and sd(theta_k) = sd
    k = c.competence_theta[c.group == "adult"]
    r = [np.corrcoef(adult, k[:, j])[0, 1] for j in range(16)]
    assert np.allclose(r, 0.7, atol=0.02)
    assert np.allclose(k.std(axis=0), 1.0, atol=0.03)


def test_candidates_depend_only_on_seed_and_index(bank):
    pop = Population()
    whole = pop.sample(300, seed=5, bank=bank)
    part = pop.sample(100, seed=5, start=150, bank=bank)
    np.testing.assert_array_equal(part.theta, whole.theta[150:250])
    np.testing.assert_array_equal(part.competence_theta, whole.competence_theta[150:250])
    np.testing.assert_array_equal(part.levels, whole.levels[150:250])
    np.testing.assert_array_equal(part.answered, whole.answered[150:250])
    assert part.profile(3) == whole.profile(153)
    other = pop.sample(100, seed=6, start=150)
    assert not np.array_equal(other.theta, part.theta)


def test_positioning_follows_pix_rules(bank):
    pop = Population(positioning_noise=0.0, max_level=5, positioning_success=0.5)
    c = pop.sample(2000, seed=1, bank=bank)
    meta = bank.metadata
    skill_b = {s: bank.b[meta["skill"].to_numpy() == s].mean() for s in c.skill_names[:50]}
    pix_value = meta.drop_duplicates("skill").set_index("skill")["pix_value"]
    for row in (0, 1, 2, 500):
        profile = c.profile(row)
        for k, code in enumerate(c.competences):
            comp = profile.competences[code]
            # with no noise and success 0.5, a skill is validated iff the ability reaches its difficulty
            for s in comp.skills:
                if s in skill_b:
                    assert c.competence_theta[row, k] >= skill_b[s]
            total = float(pix_value.loc[list(comp.skills)].sum()) if comp.skills else 0.0
            assert comp.pix == min(int(np.floor(total + 1e-9)), 40)
            assert comp.level == min(int((total + 1e-9) // 8), 5)  # 3 × 8/3 is 8, not 7.999…
        # answered challenges validate a validated skill of the profile
        validated = {s for comp in profile.competences.values() for s in comp.skills}
        ids = bank.item_ids.tolist()
        for ch in profile.answered_challenges:
            assert meta["skill"].iloc[ids.index(ch)] in validated
    # higher ability, higher levels
    mean_level = c.levels.mean(axis=1)
    assert np.corrcoef(mean_level, c.theta)[0, 1] > 0.8
    assert c.levels.max() <= 5


def test_direct_share(bank):
    c = Population(direct_share=0.3).sample(1000, seed=2, bank=bank)
    share = (c.answered >= 0).sum() / c.validated.sum()
    assert share == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"groups": {"a": (0.5, 0.0), "b": (0.4, 0.0)}}, "groups"),
        ({"groups": {"a": (0.5,)}}, "groups.a"),
        ({"loading": 1.5}, "loading"),
        ({"loading": {"9.9": 0.5}}, "loading.9.9"),
        ({"sd": 0.0}, "sd"),
        ({"max_level": 9}, "max_level"),
    ],
)
def test_bad_population_names_the_field(kwargs, field):
    with pytest.raises(DataError) as info:
        Population(**kwargs)
    assert info.value.field == field


def test_profile_without_bank_is_an_error():
    with pytest.raises(DataError, match="without a bank"):
        Population().sample(3, seed=0).profile(0)


def test_profile_json_round_trip_and_certifiability():
    p = Profile(
        competences={
            "1.1": CompetenceProfile(4, 37, ("@a4", "@b3")),
            "2.1": CompetenceProfile(0, 3),
            "1.2": CompetenceProfile(1, 9),
        },
        answered_challenges=("ch1",),
    )
    back = Profile.from_dict(json.loads(json.dumps(p.to_dict())))
    assert back == p
    assert p.certifiable_competences() == ["1.1", "1.2"]
    assert not p.is_certifiable() and p.is_certifiable(min_competences=2)
    short = Profile.from_dict({"1.1": {"level": 4, "pix": 37}})
    assert short.competences["1.1"] == CompetenceProfile(4, 37)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"1.1": {"level": 4}}, "competences.1.1.pix"),
        ({"1.1": {"level": "4", "pix": 3}}, "competences.1.1.level"),
        ({"1.1": {"level": 9, "pix": 3}}, "competences.1.1.level"),
        ({"1.1": {"level": 1, "pix": 3, "color": "red"}}, "competences.1.1"),
        ({"competences": {}, "answered_challenges": "ch1"}, "answered_challenges"),
    ],
)
def test_bad_profiles_name_the_field(data, field):
    with pytest.raises(DataError) as info:
        Profile.from_dict(data)
    assert info.value.field == field


def _observed_frame(n=30):
    rng = np.random.default_rng(3)
    codes = [
        f"{a}.{b}"
        for a, b in [
            (1, 1),
            (1, 2),
            (1, 3),
            (2, 1),
            (2, 2),
            (2, 3),
            (2, 4),
            (3, 1),
            (3, 2),
            (3, 3),
            (3, 4),
            (4, 1),
            (4, 2),
            (4, 3),
            (5, 1),
            (5, 2),
        ]
    ]
    df = pd.DataFrame(
        {
            "candidate_id": [f"real{i}" for i in range(n)],
            "theta": rng.normal(0, 1, n),
            "group": ["a", "b"] * (n // 2),
        }
    )
    for code in codes:
        level = rng.integers(1, 5, n)
        df[f"level_{code}"] = level
        df[f"pix_{code}"] = level * 8 + rng.integers(0, 8, n)
    return df


def test_observed_population_runs_real_profiles(bank):
    from pixirt import rules
    from pixirt.simulation import simulate

    obs = Population.from_frame(_observed_frame())
    c = obs.sample(10, start=5, bank=bank)
    assert c.theta[0] == obs.frame["theta"].iloc[5]
    profile = c.profile(0)
    assert profile.competences["1.1"].level == obs.frame["level_1.1"].iloc[5]
    levels = {s[-1] for s in profile.competences["1.1"].skills}
    assert max(int(x) for x in levels) <= profile.competences["1.1"].level
    res = simulate(obs, bank, rules.load("pix-v2"), 30, seed=1)
    assert (
        list(res.frame["group"][:2]) == ["a", "b"]
        and res.frame["status"].isin(["validated", "rejected"]).all()
    )
    with pytest.raises(DataError, match="has 30 candidates"):
        obs.sample(5, start=28)


@pytest.mark.parametrize(
    ("change", "field", "row"),
    [
        ({"theta": [0.1, "x", 0.3]}, "theta", 2),
        ({"level_1.1": [1, 9, 2]}, "level_1.1", 2),
        ({"level_9.9": [1, 1, 1]}, "level_9.9", None),
    ],
)
def test_observed_population_bad_input(change, field, row):
    df = pd.DataFrame({"candidate_id": ["a", "b", "c"], "theta": [0.1, 0.2, 0.3]})
    for k, v in change.items():
        df[k] = v
    with pytest.raises(DataError) as info:
        Population.from_frame(df, path="profiles.csv")
    assert info.value.field == field and info.value.row == row and info.value.path == "profiles.csv"
    with pytest.raises(DataError, match="missing column"):
        Population.from_frame(df.drop(columns=["theta"]))
