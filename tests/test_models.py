"""IRT model functions against closed forms, finite differences and mirt's parameterization."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pixirt import models

finite = st.floats(-6, 6, allow_nan=False)
slopes = st.floats(0.2, 3.0)
guess = st.floats(0.0, 0.5)


def test_probability_closed_forms():
    assert models.probability(0.0, 1.0, 0.0) == pytest.approx(0.5)
    # at theta = b the 3PL is halfway between c and 1
    assert models.probability(1.3, 2.0, 1.3, 0.2) == pytest.approx(0.6)
    # logistic without 1.7: P(theta=1, a=1, b=0) = 1/(1+e^-1)
    assert models.probability(1.0, 1.0, 0.0) == pytest.approx(1 / (1 + np.exp(-1.0)))
    # no overflow far in the tails
    assert models.probability(-1e4, 3.0, 0.0) == 0.0
    assert models.probability(1e4, 3.0, 0.0) == 1.0


def test_information_2pl_peaks_at_b_with_a2_over_4():
    theta = np.linspace(-4, 4, 8001)
    a, b = 1.7, 0.35
    info = models.information(theta, a, b)
    assert theta[np.argmax(info)] == pytest.approx(b, abs=1e-3)
    assert info.max() == pytest.approx(a**2 / 4, rel=1e-6)


def test_information_3pl_formula_and_peak():
    a, b, c = 1.4, 0.5, 0.2
    theta = np.linspace(-4, 4, 2001)
    p = models.probability(theta, a, b, c)
    expected = a**2 * (p - c) ** 2 * (1 - p) / ((1 - c) ** 2 * p)
    np.testing.assert_allclose(models.information(theta, a, b, c), expected, rtol=1e-12)
    # Birnbaum: the 3PL peak is at b + log((1 + sqrt(1 + 8c)) / 2) / a
    peak = b + np.log((1 + np.sqrt(1 + 8 * c)) / 2) / a
    info = models.information(np.linspace(-4, 4, 80001), a, b, c)
    assert np.linspace(-4, 4, 80001)[np.argmax(info)] == pytest.approx(peak, abs=1e-3)


@settings(max_examples=200, deadline=None)
@given(theta=finite, a=slopes, b=finite, c=guess)
def test_information_is_fisher_information_by_finite_differences(theta, a, b, c):
    # Fisher information = P'(theta)^2 / (P (1 - P))
    h = 1e-5
    dp = (models.probability(theta + h, a, b, c) - models.probability(theta - h, a, b, c)) / (2 * h)
    p = models.probability(theta, a, b, c)
    if p * (1 - p) < 1e-10:
        return
    expected = dp**2 / (p * (1 - p))
    assert models.information(theta, a, b, c) == pytest.approx(expected, rel=1e-4, abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(theta=finite, a=slopes, b=finite, c=guess)
def test_log_likelihood_matches_log_probability(theta, a, b, c):
    p = float(models.probability(theta, a, b, c))
    assert models.log_likelihood(1, theta, a, b, c) == pytest.approx(np.log(p), rel=1e-9, abs=1e-12)
    if p < 1 - 1e-12:
        assert models.log_likelihood(0, theta, a, b, c) == pytest.approx(
            np.log1p(-p), rel=1e-6, abs=1e-12
        )


def test_log_likelihood_missing_contributes_zero_and_tails_finite():
    out = models.log_likelihood(np.array([1.0, 0.0, np.nan]), 0.0, 1.0, 0.0)
    assert out[2] == 0.0
    assert out[0] == pytest.approx(np.log(0.5))
    assert np.isfinite(models.log_likelihood(1, -500.0, 2.0, 0.0))  # log_expit, no log(0)


def test_broadcasting_gives_persons_by_items():
    theta = np.array([-1.0, 0.0, 1.0])
    a = np.array([1.0, 2.0])
    b = np.array([0.0, 0.5])
    p = models.probability(theta[:, None], a[None, :], b[None, :])
    assert p.shape == (3, 2)
    assert p[1, 0] == pytest.approx(0.5)


@settings(max_examples=100, deadline=None)
@given(a=slopes, b=finite, theta=finite)
def test_slope_intercept_round_trip_and_same_curve(a, b, theta):
    a1, d = models.to_slope_intercept(a, b)
    assert d == pytest.approx(-a * b)
    # mirt's curve 1/(1+exp(-(a1 theta + d))) is Pix's curve
    mirt_p = 1 / (1 + np.exp(-(a1 * theta + d)))
    assert models.probability(theta, a, b) == pytest.approx(mirt_p, rel=1e-9, abs=1e-12)
    a2, b2 = models.from_slope_intercept(a1, d)
    assert a2 == pytest.approx(a) and b2 == pytest.approx(b, abs=1e-12)
