"""The v3 ranking and capacity step of pixirt.cat (ranking, batch): compiled = numpy = the engine, bit for bit.

- the shortlist ranking: the compiled kernels (numba, optional) and the numpy path give
  the same proven rows and rankings, and a proven ranking is the engine's own
  (``candidate_pool`` + ``rank_by_information``), on many random selection states,
  capacities (cell edges and outside the grid included), rule variants (the tube or the
  non-answered skills rule, with or without pix-v3-2023's minimum success rates) and a
  bank full of ties; the success-rate lists' bounds hold;
- the in-place capacity step equals ``CapacityModel.update`` on any subset of rows;
- whole chunks are identical with and without the kernels.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hst
from simulation_cases import INCIDENTS

from pixirt import ItemBank, rules
from pixirt.cat import SelectionState, candidate_pool, rank_by_information
from pixirt.cat import _ranking as ranking
from pixirt.cat._capacity import probability, reward
from pixirt.cat._engine import build_runtime
from pixirt.rules import RuleSet
from pixirt.simulation import Population, pix_like_bank
from pixirt.simulation._v3_chunk import _run_v3

V3 = rules.load("pix-v3")
V3_2023 = rules.load("pix-v3-2023")
HAVE_NUMBA = ranking.kernels() is not None


def _rules(
    passage: bool = True,
    recent: int = 2,
    top_n: int = 5,
    tube: bool = True,
    rate: bool = False,
) -> RuleSet:
    """pix-v3 with other selection options (``rate``: pix-v3-2023's minimum success rates)."""
    d = V3.to_dict()
    d["id"] = f"v3-p{int(passage)}-r{recent}-t{top_n}-tube{int(tube)}-rate{int(rate)}"
    d["selection"].update(
        passage_by_all_competences=passage,
        challenges_between_same_competence=recent,
        top_n=top_n,
        one_question_per_tube=tube,
        minimum_success_rate=V3_2023.to_dict()["selection"]["minimum_success_rate"] if rate else [],
    )
    return RuleSet.from_dict(d)


def _tie_bank() -> ItemBank:
    """Few distinct (a, b) pairs repeated across competences and tubes: many exact ties.

    Eight challenges per competence: all in the shortlists, so rankings with ties inside
    the top are proven (and ties at its edge are not).
    """
    rng = np.random.default_rng(5)
    n = 96
    pairs = np.array([[1.0, -1.0], [1.5, 0.0], [2.0, 0.5], [0.8, 1.2], [1.2, -2.0], [1.7, 0.3]])
    ab = pairs[rng.integers(0, len(pairs), n)]
    comp = rng.permutation(np.repeat(np.arange(12), 8))
    tube = comp * 10 + rng.integers(0, 4, n)
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"t{i}" for i in range(n)],
                "a": ab[:, 0],
                "b": ab[:, 1],
                "competence": [f"{c // 4 + 1}.{c % 4 + 1}" for c in comp],
                "tube": [f"@tube{t}" for t in tube],
                "skill": [f"@tube{t}{i % 3}" for i, t in enumerate(tube)],
            }
        )
    )


@pytest.fixture(scope="module")
def pix_bank() -> ItemBank:
    return pix_like_bank(seed=0)


@pytest.fixture(scope="module")
def tie_bank() -> ItemBank:
    return _tie_bank()


def _random_state(runtime, n: int, rng: np.random.Generator):
    """Selection states as answers leave them (plus stray exclusions), consistent counts."""
    st = runtime.structure
    sel_rules = runtime.rules.selection
    n_comp = len(st.competences)
    sel = SelectionState.start(st, n, recent=sel_rules.challenges_between_same_competence)
    for r in range(n):
        # answer a few challenges in a random set of competences (all of them, sometimes)
        n_seen = n_comp if rng.random() < 0.3 else int(rng.integers(0, n_comp + 1))
        comps = rng.permutation(n_comp)[:n_seen]
        answered: list[int] = []
        for c in comps:
            members = np.flatnonzero(st.competence == c)
            answered += rng.choice(
                members, size=min(len(members), int(rng.integers(1, 4))), replace=False
            ).tolist()
        rng.shuffle(answered)
        answered = answered[: int(rng.integers(0, 33))]
        for item in answered:
            sel.excluded[r, item] = True
            sel.answered_tubes[r, st.tube[item]] = True
            sel.answered_skills[r, st.skill[item]] = True
            sel.seen_competences[r, st.competence[item]] = True
        if sel.recent_competences.shape[1]:
            last = [int(st.competence[i]) for i in answered[-sel.recent_competences.shape[1] :]]
            width = sel.recent_competences.shape[1]
            sel.recent_competences[r] = ([-1] * width + last)[-width:]
        sel.n_answers[r] = len(answered)
        # stray exclusions (live alerts), sometimes a whole competence
        sel.excluded[r, rng.random(st.n_items) < 0.05] = True
        if rng.random() < 0.1:
            sel.excluded[r, st.competence == rng.integers(0, n_comp)] = True
    if sel_rules.one_question_per_tube:
        group, answered_groups = st.tube, sel.answered_tubes
    else:
        group, answered_groups = st.skill, sel.answered_skills
    n_groups = answered_groups.shape[1]
    counts = ranking.AvailableCounts.start(
        st, np.zeros((n, st.n_items), dtype=bool), group, n_groups
    )
    open_ = ~sel.excluded
    answered_only = answered_groups[:, group] & sel.seen_competences[:, st.competence]
    counts.alerted[:] = (sel.excluded & ~answered_only).any(axis=1)
    for r in range(n):
        counts.avail_group[r] = np.bincount(group[open_[r]], minlength=n_groups)
        counts.avail_comp[r] = np.bincount(st.competence[open_[r]], minlength=n_comp)
        pooled = open_[r] & ~answered_groups[r][group]
        counts.pool_comp[r] = np.bincount(st.competence[pooled], minlength=n_comp)
    return sel, counts


def _capacities(runtime, n: int, rng: np.random.Generator) -> np.ndarray:
    sl = ranking.shortlist(runtime)
    cap = rng.uniform(-4.0, 4.0, n)
    edges = sl.lo + sl.width * rng.integers(0, sl.items.shape[0] + 1, n)
    pick = rng.random(n)
    cap = np.where(pick < 0.15, edges, cap)  # exactly on a cell edge
    cap = np.where((pick >= 0.15) & (pick < 0.2), np.nextafter(edges, -np.inf), cap)
    cap = np.where((pick >= 0.2) & (pick < 0.25), rng.uniform(-12, 12, n), cap)  # off the grid
    return cap


def _check_ranking(runtime, seed: int, n: int = 60, min_proven: float | None = None) -> None:
    rng = np.random.default_rng(seed)
    sel, counts = _random_state(runtime, n, rng)
    capacity = _capacities(runtime, n, rng)
    rows = np.arange(n)
    sl = ranking.shortlist(runtime)
    top_np, proven_np = ranking.shortlist_top(None, runtime, sel, counts, rows, capacity)
    # the proven rankings are the engine's
    st = runtime.structure
    sel_rules = runtime.rules.selection
    pool = candidate_pool(st, sel, sel_rules)
    rate = None
    if sel_rules.minimum_success_rate:
        rate = np.array([sel_rules.minimum_success_rate_at(int(k)) for k in sel.n_answers])
    engine_top = rank_by_information(
        capacity, st, pool, top_n=sel_rules.top_n, minimum_success_rate=rate
    )
    in_cells = (capacity >= sl.lo) & (capacity < sl.lo + sl.width * sl.items.shape[0])
    ok = proven_np & in_cells
    np.testing.assert_array_equal(top_np[ok], engine_top[ok])
    if min_proven is not None:
        assert ok.sum() >= min_proven * in_cells.sum()
    if HAVE_NUMBA:
        kernels = ranking.kernels()
        top_c, proven_c = ranking.shortlist_top(kernels, runtime, sel, counts, rows, capacity)
        # (off the cells the bounds do not hold: _rank never trusts either path there)
        np.testing.assert_array_equal(proven_c & in_cells, ok)
        np.testing.assert_array_equal(top_c[ok], top_np[ok])
    # and _rank (whichever path) always returns the engine's ranking
    ranked = ranking.rank(runtime, sel, counts, rows, capacity, True)
    np.testing.assert_array_equal(ranked, engine_top)


@settings(max_examples=25, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1))
def test_shortlist_ranking_on_the_pix_like_bank(pix_bank, seed):
    _check_ranking(build_runtime(pix_bank, V3), seed)


@settings(max_examples=25, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1))
def test_shortlist_ranking_pix_v3_2023(pix_bank, seed):
    """Non-answered skills rule and minimum success rates (pix-v3-2023)."""
    _check_ranking(build_runtime(pix_bank, V3_2023), seed)


@pytest.mark.parametrize(
    "variant",
    [
        {"passage": False},
        {"recent": 0},
        {"recent": 3, "top_n": 3},
        {"passage": False, "recent": 1, "top_n": 1},
        {"tube": False},
        {"rate": True},
        {"tube": False, "rate": True, "passage": False},
        {"tube": False, "rate": True, "top_n": 3},
        {"rate": True, "recent": 0, "top_n": 1},
    ],
)
@pytest.mark.parametrize("bank_name", ["pix", "ties"])
def test_shortlist_ranking_rule_variants_and_ties(pix_bank, tie_bank, variant, bank_name):
    bank = pix_bank if bank_name == "pix" else tie_bank
    runtime = build_runtime(bank, _rules(**variant))
    for seed in range(4):
        _check_ranking(runtime, seed)


def test_shortlist_ranking_with_ties(tie_bank):
    runtime = build_runtime(tie_bank, V3)
    for seed in range(10):
        _check_ranking(runtime, 100 + seed)


def test_shortlist_ranking_proves_most_pix_v3_2023_rows(pix_bank):
    """The success-rate proofs hold for most rows, the "fewer than 5 meet the rate" ones
    included (low capacities at the start of a test), and give the engine's ranking."""
    runtime = build_runtime(pix_bank, V3_2023)
    st = runtime.structure
    for seed in range(3):
        _check_ranking(runtime, seed, n=200, min_proven=0.9)
    n = 300
    rng = np.random.default_rng(7)
    sel, counts = _random_state(runtime, n, rng)
    capacity = rng.uniform(-4.5, -1.5, n)
    sel.n_answers[: n // 2] = rng.integers(0, 8, n // 2)  # rate 0.8
    rows = np.arange(n)
    engine_top = rank_by_information(
        capacity,
        st,
        candidate_pool(st, sel, V3_2023.selection),
        minimum_success_rate=[
            V3_2023.selection.minimum_success_rate_at(int(k)) for k in sel.n_answers
        ],
    )
    rate = np.array([V3_2023.selection.minimum_success_rate_at(int(k)) for k in sel.n_answers])
    p = probability(capacity[:, None], st.a[engine_top], st.b[engine_top])
    mixed = ((p >= rate[:, None]).any(axis=1)) & ((p < rate[:, None]).any(axis=1)) & (rate > 0)
    for kernels in [None, ranking.kernels()] if HAVE_NUMBA else [None]:
        top, proven = ranking.shortlist_top(kernels, runtime, sel, counts, rows, capacity)
        np.testing.assert_array_equal(top[proven], engine_top[proven])
        assert (proven & mixed).sum() > 10
        assert proven.mean() > 0.9


def test_success_rate_lists_emptied_by_exclusions(pix_bank):
    """Rows whose rate lists are all excluded (live alerts) while other challenges of the
    cell can still meet the rate: never proven from the plain lists alone."""
    runtime = build_runtime(pix_bank, V3_2023)
    st = runtime.structure
    n = 120
    rng = np.random.default_rng(11)
    sel, counts = _random_state(runtime, n, rng)
    capacity = rng.uniform(-2.0, 3.0, n)
    sel.n_answers[:] = rng.integers(0, 16, n)
    rate = np.array([V3_2023.selection.minimum_success_rate_at(int(k)) for k in sel.n_answers])
    for r in range(n):
        sl = ranking.shortlist(runtime, rate=float(rate[r]))
        items = sl.items[ranking.cells(sl, capacity[r : r + 1])[0]]
        gone = items[items >= 0]
        newly = ~sel.excluded[r, gone]
        sel.excluded[r, gone] = True
        counts.alerted[r] = True
        np.subtract.at(counts.avail_comp[r], st.competence[gone[newly]], 1)
        open_ = newly & ~sel.answered_skills[r, st.skill[gone]]
        np.subtract.at(counts.pool_comp[r], st.competence[gone[open_]], 1)
        np.subtract.at(counts.avail_group[r], st.skill[gone[newly]], 1)
    engine_top = rank_by_information(
        capacity,
        st,
        candidate_pool(st, sel, V3_2023.selection),
        minimum_success_rate=rate,
    )
    rows = np.arange(n)
    for kernels in [None, ranking.kernels()] if HAVE_NUMBA else [None]:
        top, proven = ranking.shortlist_top(kernels, runtime, sel, counts, rows, capacity)
        np.testing.assert_array_equal(top[proven], engine_top[proven])


@pytest.mark.parametrize("rate", [0.8, 0.7, 0.5, 0.3])
@pytest.mark.parametrize("bank_name", ["pix", "ties"])
def test_success_rate_shortlist_bounds(pix_bank, tie_bank, bank_name, rate):
    """At capacities across the cells, every challenge meeting the rate (the engine's
    expression) has an information within its list's bounds, or below its competence's
    bound when not listed; a finite lower bound means it surely meets the rate."""
    runtime = build_runtime(pix_bank if bank_name == "pix" else tie_bank, V3)
    st = runtime.structure
    sl = ranking.shortlist(runtime, rate=rate)
    assert sl.rate == rate
    rng = np.random.default_rng(3)
    n_cells = sl.items.shape[0]
    g = rng.integers(0, n_cells, 400)
    theta = sl.lo + sl.width * (g + rng.random(400))
    theta[:40] = sl.lo + sl.width * g[:40]  # cell edges
    theta = np.minimum(theta, np.nextafter(sl.lo + sl.width * (g + 1), -np.inf))
    p = probability(theta[:, None], st.a[None, :], st.b[None, :])
    info = reward(theta[:, None], st.a[None, :], st.b[None, :])
    meets = p >= rate
    per = sl.items.shape[1] // len(st.competences)
    for i in range(len(theta)):
        items = sl.items[g[i]]
        listed = items >= 0
        pos = items[listed]
        assert np.all(~meets[i, pos] | (info[i, pos] <= sl.upper[g[i]][listed]))
        low = sl.lower[g[i]][listed]
        sure = np.isfinite(low)
        assert np.all(meets[i, pos[sure]]) and np.all(info[i, pos[sure]] >= low[sure])
        out = np.ones(st.n_items, dtype=bool)
        out[pos] = False
        out &= meets[i]
        assert np.all(info[i, out] <= sl.bound[g[i], st.competence[out]])
    assert per * len(st.competences) == sl.items.shape[1]


@pytest.mark.parametrize("rate", [None, 0.8, 0.5])
@pytest.mark.parametrize("bank_name", ["pix", "ties"])
def test_shortlist_layout(pix_bank, tie_bank, bank_name, rate):
    """What the kernel relies on: block c lists competence c by non-increasing upper bound,
    and lower <= upper (the bounds themselves are checked by the rankings above)."""
    runtime = build_runtime(pix_bank if bank_name == "pix" else tie_bank, V3)
    sl = ranking.shortlist(runtime, rate=rate)
    st = runtime.structure
    n_comp = len(st.competences)
    per = sl.items.shape[1] // n_comp
    assert per * n_comp == sl.items.shape[1]
    for c in range(n_comp):
        block = sl.items[:, c * per : (c + 1) * per]
        listed = block >= 0
        assert np.all(st.competence[block[listed]] == c)
        assert np.all(listed[:, :-1] | ~listed[:, 1:])  # the -1s at the end
        up = sl.upper[:, c * per : (c + 1) * per]
        assert np.all(up[:, :-1] >= up[:, 1:])
    listed = sl.items >= 0
    assert np.all(sl.lower[listed] <= sl.upper[listed])
    assert np.all(sl.upper[listed] > 0)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed (the fast extra)")
def test_kernels_skip_only_what_cannot_rank(pix_bank):
    """The hits the compiled path keeps: pool challenges of the shortlist, far fewer than
    the shortlisted pool, holding its top 5 whenever that top is proven."""
    runtime = build_runtime(pix_bank, V3)
    rng = np.random.default_rng(1)
    n = 200
    sel, counts = _random_state(runtime, n, rng)
    capacity = rng.uniform(-3, 3, n)
    rows = np.arange(n)
    sl = ranking.shortlist(runtime)
    g = ((capacity - sl.lo) / sl.width).astype(np.int64)
    kernels = ranking.kernels()
    st = runtime.structure
    offsets, hit_row, hit_item, _ = kernels.shortlist_hits(
        rows, g, sl.items, sl.upper, sl.lower, sl.block_order, sl.bound,
        st.competence, st.tube, sel.excluded, counts.alerted, sel.answered_tubes,
        sel.seen_competences,
        counts.avail_comp, counts.pool_comp, sel.recent_competences, 2, True, 5,
    )  # fmt: skip
    pool = candidate_pool(st, sel, V3.selection)
    top, proven = ranking.shortlist_top(None, runtime, sel, counts, rows, capacity)
    n_pooled = 0
    for i in range(n):
        hits = hit_item[offsets[i] : offsets[i + 1]]
        listed = sl.items[g[i]][sl.items[g[i]] >= 0]
        pooled = listed[pool[i, listed]]
        n_pooled += len(pooled)
        assert set(hits.tolist()) <= set(pooled.tolist())
        assert np.all(hit_row[offsets[i] : offsets[i + 1]] == i)
        if proven[i]:
            assert set(top[i].tolist()) <= set(hits.tolist())
    assert proven.mean() > 0.9
    assert len(hit_item) < 0.5 * n_pooled


@settings(max_examples=40, deadline=None)
@given(seed=hst.integers(0, 2**32 - 1), share=hst.floats(0.0, 1.0))
def test_capacity_step_equals_model_update(pix_bank, seed, share):
    runtime = build_runtime(pix_bank, V3)
    model = runtime.model
    st = runtime.structure
    rng = np.random.default_rng(seed)
    n = 50
    state = model.initial_state(n, rng.uniform(-4, 4, n))
    for _ in range(int(rng.integers(0, 5))):  # some history, with a variation cap
        state = model.update(
            state, rng.uniform(0.5, 3, n), rng.normal(0, 2, n), rng.random(n) < 0.5
        )
    on = rng.random(n) < share
    rows = np.flatnonzero(on)
    items = rng.integers(0, st.n_items, len(rows))
    ok = rng.random(len(rows)) < 0.6
    a = np.ones(n)
    b = np.zeros(n)
    correct = np.zeros(n, dtype=bool)
    a[rows], b[rows], correct[rows] = st.a[items], st.b[items], ok
    expected = model.update(state, a, b, correct, active=on)
    got = model.initial_state(n)
    for name in ("capacity", "error_rate", "raw_capacity", "log_likelihood", "n_answers"):
        getattr(got, name)[...] = getattr(state, name)
    table = model.log_likelihood_table(st.a, st.b)
    model.update_rows(got, rows, table[ok.astype(np.intp), items])
    for name in ("capacity", "error_rate", "raw_capacity", "log_likelihood", "n_answers"):
        x, y = getattr(got, name), getattr(expected, name)
        assert x.tobytes() == y.tobytes(), name


@pytest.mark.parametrize("rule_set", [V3, V3_2023], ids=["pix-v3", "pix-v3-2023"])
@pytest.mark.parametrize("path", ["numpy", "no-numba", "compiled"])
def test_chunks_are_identical_with_and_without_kernels(pix_bank, monkeypatch, path, rule_set):
    """The numpy shortlist ranking (no numba) and the compiled one give the same chunk."""
    runtime = build_runtime(pix_bank, rule_set)
    cands = Population(sd=1.5).sample(300, seed=21)
    full = _run_v3(runtime, cands, INCIDENTS, 8, fast=False)
    if path == "numpy":
        monkeypatch.setattr(ranking, "USE_KERNELS", False)
    elif path == "no-numba":  # as if numba were not installed
        monkeypatch.setitem(sys.modules, "pixirt.cat._kernels", None)
    assert (ranking.kernels() is not None) == (path == "compiled" and HAVE_NUMBA)
    fast = _run_v3(runtime, cands, INCIDENTS, 8, fast=True)
    pd.testing.assert_frame_equal(fast, full)


@pytest.mark.skipif(not HAVE_NUMBA, reason="numba not installed")
def test_kernels_compile_without_a_writable_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read-only install (numba cannot cache) still compiles the kernels, uncached."""
    import importlib.util

    import numba

    real = numba.njit

    def njit_without_cache(*args: object, **kwargs: object) -> object:
        if kwargs.get("cache"):
            raise RuntimeError("cannot cache function: no locator available for file")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", njit_without_cache)
    spec = importlib.util.find_spec("pixirt.cat._kernels")
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)  # a new copy, not the cached module
    assert isinstance(fresh.shortlist_hits, numba.core.registry.CPUDispatcher)
    assert isinstance(fresh.top_of_hits, numba.core.registry.CPUDispatcher)
