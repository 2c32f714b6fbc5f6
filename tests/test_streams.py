"""Counter-based draws: pure functions of (seed, stream, candidate, step), well distributed."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from pixirt import _streams as streams


def test_same_counter_same_number_whatever_the_batch():
    cands = np.arange(1000)
    all_at_once = streams.uniform(42, "x", cands[:, None], np.arange(32)[None, :])
    for i in (0, 17, 999):
        np.testing.assert_array_equal(streams.uniform(42, "x", i, np.arange(32)), all_at_once[i])
    # chunked in any order
    perm = np.random.default_rng(0).permutation(1000)
    np.testing.assert_array_equal(
        streams.uniform(42, "x", perm[:, None], np.arange(32)), all_at_once[perm]
    )


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**64 - 1), cand=st.integers(0, 2**40), step=st.integers(0, 10**6))
def test_values_in_range_and_deterministic(seed, cand, step):
    u = streams.uniform(seed, "s", cand, step)
    assert 0.0 <= float(u) < 1.0
    assert float(u) == float(streams.uniform(seed, "s", cand, step))
    assert np.isfinite(streams.normal(seed, "s", cand, step))


def test_streams_seeds_and_counters_differ():
    base = streams.uniform(1, "a", np.arange(10_000))
    for other in (
        streams.uniform(2, "a", np.arange(10_000)),
        streams.uniform(1, "b", np.arange(10_000)),
        streams.uniform(1, "a", np.arange(10_000), 1),
        streams.uniform(1, "a", np.arange(1, 10_001)),
    ):
        assert abs(np.corrcoef(base, other)[0, 1]) < 0.05
        assert not np.array_equal(base, other)


def test_distribution_uniform_and_normal():
    u = streams.uniform(3, "dist", np.arange(200_000))
    assert stats.kstest(u, "uniform").pvalue > 1e-3
    # consecutive steps of one candidate and neighbouring candidates are uncorrelated
    grid = streams.uniform(3, "dist", np.arange(2000)[:, None], np.arange(100)[None, :])
    assert abs(np.corrcoef(grid[:, :-1].ravel(), grid[:, 1:].ravel())[0, 1]) < 0.01
    assert abs(np.corrcoef(grid[:-1].ravel(), grid[1:].ravel())[0, 1]) < 0.01
    z = streams.normal(3, "dist", np.arange(200_000))
    assert stats.kstest(z, "norm").pvalue > 1e-3
    assert z.mean() == pytest.approx(0, abs=0.01) and z.std() == pytest.approx(1, abs=0.01)


def test_stream_ids_stable():
    # the id of a name must never change between versions: results depend on it
    assert streams.stream_id("v3.pick") == int.from_bytes(
        __import__("hashlib").sha256(b"v3.pick").digest()[:8], "little"
    )


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**64 - 1),
    cand=st.integers(0, 2**40),
    steps=st.lists(st.integers(0, 2**40), min_size=1, max_size=40),
)
def test_small_and_vectorized_paths_agree(seed, cand, steps):
    # the plain-integer path (<= 32 values) and the numpy path give the same bits
    small = streams.bits(seed, "p", cand, np.array(steps[:32]))
    big = streams.bits(seed, "p", np.full(40, cand), np.array((steps * 40)[:40]))
    np.testing.assert_array_equal(small, big[: len(steps[:32])])
