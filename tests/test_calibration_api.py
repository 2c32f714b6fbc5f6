"""The calibrate() contract: arguments, errors, warnings, results, priors, SEs and the CLI."""

from __future__ import annotations

import argparse
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

import pixirt
from pixirt import ItemBank, models
from pixirt.calibration import (
    CalibrationError,
    CalibrationResult,
    ConvergenceWarning,
    Priors,
    calibrate,
)
from pixirt.cli._calibrate import add_calibrate_parser
from pixirt.exceptions import DataError, DegenerateItemWarning
from pixirt.simulation import simulate_answers

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def lsat7() -> pixirt.ResponseLog:
    return pixirt.read_responses(DATA / "lsat7" / "lsat7_long.csv")


@pytest.fixture(scope="module")
def lsat7_fit(lsat7: pixirt.ResponseLog) -> CalibrationResult:
    return calibrate(lsat7, "2PL", progress=False, seed=5)


def _small_bank(n_items: int = 8, seed: int = 0, c: float = 0.0) -> ItemBank:
    rng = np.random.default_rng(seed)
    return ItemBank.from_frame(
        pd.DataFrame(
            {
                "item_id": [f"i{j}" for j in range(n_items)],
                "a": np.exp(rng.normal(0.2, 0.3, n_items)),
                "b": rng.normal(0, 1, n_items),
                "c": c,
            }
        )
    )


# --------------------------------------------------------------------------- arguments


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"model": "4PL"}, "model"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"tol": 0.0}, "tol"),
        ({"tol": "small"}, "tol"),
        ({"n_quad": 3}, "n_quad"),
        ({"theta_range": (3, -3)}, "theta_range"),
        ({"theta_range": 6}, "theta_range"),
        ({"priors": "strong"}, "priors"),
        ({"priors": {"b": 1}}, "priors"),
        ({"fixed": "bank.csv"}, "fixed"),
        ({"seed": -1}, "seed"),
        ({"progress": "yes"}, "progress"),
        ({"accelerate": "fast"}, "accelerate"),
        ({"se": "bootstrap"}, "se"),
    ],
)
def test_bad_arguments_name_the_field(
    lsat7: pixirt.ResponseLog, kwargs: dict[str, object], field: str
) -> None:
    with pytest.raises(DataError) as info:
        calibrate(lsat7, **{"progress": False, **kwargs})  # type: ignore[arg-type]
    assert info.value.field == field
    assert field in str(info.value)


def test_log_must_be_a_response_log() -> None:
    with pytest.raises(DataError, match="ResponseLog") as info:
        calibrate(pd.DataFrame({"person_id": [1], "item_id": [1], "correct": [1]}))  # type: ignore[arg-type]
    assert info.value.field == "log"


def test_client_must_be_a_dask_client(lsat7: pixirt.ResponseLog) -> None:
    with pytest.raises(DataError, match=r"dask\.distributed Client") as err:
        calibrate(lsat7, client=object(), progress=False)
    assert err.value.field == "client"


def test_items_without_information_are_refused_under_ml_but_fine_with_priors() -> None:
    sim = simulate_answers(_small_bank(), 500, answers_per_person=8, seed=1)
    frame = sim.log.to_frame()
    frame.loc[frame["item_id"] == "i3", "correct"] = 1
    log = pixirt.ResponseLog.from_frame(frame)
    with pytest.raises(DataError, match="'i3'") as info:
        calibrate(log, "2PL", progress=False)
    assert info.value.field == "log" and "priors='default'" in str(info.value)
    result = calibrate(log, "2PL", priors="default", progress=False)
    b = result.to_frame().loc["i3", "b"]
    assert np.isfinite(b) and b < -1.5
    assert result.log_prior < 0


def test_items_never_answered_are_refused() -> None:
    sim = simulate_answers(_small_bank(), 300, answers_per_person=8, seed=2)
    log = pixirt.ResponseLog(
        sim.log.indptr,
        sim.log.indices,
        sim.log.answers,
        sim.log.person_ids,
        [*sim.log.item_ids, "ghost"],
    )
    with pytest.raises(DataError, match="'ghost'"):
        calibrate(log, "Rasch", progress=False)


def test_reversed_item_is_refused_by_the_engine_bank() -> None:
    """Issue 18: the fit returns (``result.problems``); the engine's bank is refused."""
    sim = simulate_answers(_small_bank(10, 3), 2_000, answers_per_person=10, seed=1)
    frame = sim.log.to_frame()
    rows = frame["item_id"] == "i0"
    frame.loc[rows, "correct"] = 1 - frame.loc[rows, "correct"]
    with pytest.warns(DegenerateItemWarning, match="'i0'"):
        result = calibrate(pixirt.ResponseLog.from_frame(frame), "2PL", progress=False)
    with pytest.raises(CalibrationError, match=r"non-positive discrimination: 'i0'"):
        result.engine_bank()


def test_diverging_item_is_refused_by_the_engine_bank() -> None:
    """Six answers that Guttman-separate the persons: the ML slope runs off to infinity."""
    sim = simulate_answers(_small_bank(10, 3), 2_000, answers_per_person=10, seed=1)
    frame = sim.log.to_frame()
    totals = frame.groupby("person_id")["correct"].sum()
    first = totals.iloc[:6]
    extra = pd.DataFrame(
        {
            "person_id": first.index,
            "item_id": "sep",
            "correct": (first > totals.median()).astype(int).to_numpy(),
        }
    )
    log = pixirt.ResponseLog.from_frame(pd.concat([frame, extra], ignore_index=True))
    with pytest.warns(DegenerateItemWarning, match="'sep'"):
        result = calibrate(log, "2PL", progress=False)
    with pytest.raises(CalibrationError, match="'sep'"):
        result.engine_bank()
    assert calibrate(log, "2PL", priors="default", progress=False).converged


def test_max_iter_gives_a_convergence_warning_with_the_last_change(
    lsat7: pixirt.ResponseLog,
) -> None:
    with pytest.warns(
        ConvergenceWarning, match=r"last largest parameter change was [0-9.e-]+"
    ) as record:
        result = calibrate(lsat7, "2PL", max_iter=2, tol=1e-12, progress=False)
    assert not result.converged and result.n_iter == 2
    assert f"{result.last_change:.3g}" in str(record[0].message)
    assert result.last_change >= 1e-12
    assert "NO" in result.summary().as_text()


def test_converged_fit_does_not_warn(lsat7: pixirt.ResponseLog) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = calibrate(lsat7, "Rasch", progress=False)
    assert result.converged and result.last_change < result.tol


def test_all_items_fixed_evaluates_the_likelihood(
    lsat7: pixirt.ResponseLog, lsat7_fit: CalibrationResult
) -> None:
    again = calibrate(lsat7, "2PL", fixed=lsat7_fit.bank, fixed_scale="hold", progress=False)
    assert again.n_parameters == 0 and again.n_fixed == 5 and again.converged
    assert again.loglik == pytest.approx(lsat7_fit.loglik, abs=1e-9)
    np.testing.assert_array_equal(again.bank.a, lsat7_fit.bank.a)
    # issue 18: the population's mean and variance estimated given the items; at the
    # MML estimates the posterior moments match the N(0, 1) prior, so they stay there
    scale = calibrate(lsat7, "2PL", fixed=lsat7_fit.bank, tol=1e-8, progress=False)
    assert scale.n_parameters == 2 and scale.converged
    assert scale.latent_mean == pytest.approx(0.0, abs=2e-3)
    assert scale.latent_variance == pytest.approx(1.0, abs=5e-3)
    assert scale.loglik >= again.loglik - 1e-9
    np.testing.assert_array_equal(scale.bank.a, lsat7_fit.bank.a)


def test_fixed_bank_sharing_no_item_is_refused(lsat7: pixirt.ResponseLog) -> None:
    with pytest.raises(DataError, match="no item of the log") as info:
        calibrate(lsat7, fixed=_small_bank(), progress=False)
    assert info.value.field == "fixed"


# --------------------------------------------------------------------------- results


def test_result_fields_and_json_round_trip(lsat7_fit: CalibrationResult) -> None:
    r = lsat7_fit
    assert r.model == "2PL" and r.n_persons == 1000 and r.n_items == 5 and r.n_answers == 5000
    assert r.aic == pytest.approx(-2 * r.loglik + 2 * r.n_parameters)
    assert r.bic == pytest.approx(-2 * r.loglik + r.n_parameters * np.log(1000))
    assert r.history[-1] <= r.loglik + 1e-6 and len(r.history) == r.n_iter
    assert r.seed == 5 and r.version == pixirt.__version__ and r.seconds > 0
    assert r.bank.model == "2PL" and r.priors == Priors()
    payload = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    back = CalibrationResult.from_dict(payload)
    assert back == r
    assert back.bank.hash == r.bank.hash
    with pytest.raises(DataError) as info:
        CalibrationResult.from_dict({**payload, "format": "other"})
    assert info.value.field == "format"
    broken = dict(payload)
    del broken["loglik"]
    with pytest.raises(DataError) as info:
        CalibrationResult.from_dict(broken)
    assert info.value.field == "loglik"


def test_summary_text_and_html(lsat7_fit: CalibrationResult) -> None:
    text = lsat7_fit.summary().as_text()
    assert "2PL" in text and f"{lsat7_fit.loglik:,.4f}" in text and "Louis, full" in text
    assert str(lsat7_fit.summary()) == text
    page = lsat7_fit._repr_html_()
    assert page.startswith("<div>") and "<table" in page and "log-likelihood" in page
    assert "CalibrationResult(2PL" in repr(lsat7_fit)
    assert list(lsat7_fit.to_frame().index) == list(lsat7_fit.bank.item_ids)


def test_progress_is_silent_off_a_terminal(
    lsat7: pixirt.ResponseLog, capsys: pytest.CaptureFixture[str]
) -> None:
    calibrate(lsat7, "Rasch", progress=True)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_progress_line_on_a_terminal(
    lsat7: pixirt.ResponseLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    result = calibrate(lsat7, "2PL", progress=True)
    text = term.getvalue()
    assert "iteration" in text and "change" in text and "loglik" in text and text.endswith("\n")
    term_quiet = Terminal()
    monkeypatch.setattr("sys.stderr", term_quiet)
    calibrate(lsat7, "2PL", progress=False)
    assert term_quiet.getvalue() == ""
    assert result.converged


# --------------------------------------------------------------------------- priors


def test_priors_resolution_and_validation() -> None:
    assert Priors.resolve(None, "2PL").is_empty
    assert Priors.resolve(None, "3PL") == Priors(c_beta=(5.0, 17.0))
    assert Priors.resolve("default", "Rasch") == Priors(b_normal=(0.0, 3.0))
    assert Priors.resolve("default", "2PL") == Priors(a_lognormal=(0.0, 0.5), b_normal=(0.0, 3.0))
    assert Priors.resolve(Priors(c_beta=(2, 8)), "2PL").is_empty
    assert Priors.resolve(Priors(), "3PL").is_empty  # explicit: pure ML even for the 3PL
    p = Priors(a_lognormal=(0.1, 0.4), b_normal=(0, 2), c_beta=(4, 16))
    assert Priors.from_dict(json.loads(json.dumps(p.to_dict()))) == p
    assert "Beta(4, 16)" in str(p) and str(Priors()).startswith("none")
    for bad, field in (
        ({"b_normal": (0.0, -1.0)}, "b_normal"),
        ({"a_lognormal": (0.0,)}, "a_lognormal"),
        ({"c_beta": (0.0, 5.0)}, "c_beta"),
    ):
        with pytest.raises(DataError) as info:
            Priors(**bad)  # type: ignore[arg-type]
        assert info.value.field == field


# --------------------------------------------------------------------------- standard errors


def _log_posterior(
    dense: np.ndarray, model: str, p: np.ndarray, n_items: int, priors: Priors
) -> float:
    """Marginal log-likelihood (+ log-prior) written independently, on mirt's grid."""
    theta = np.linspace(-6, 6, 61)
    j = n_items
    variance = 1.0
    c = np.zeros(j)
    if model == "Rasch":
        a, d, variance = np.ones(j), p[:j], p[j]
    elif model == "1PL":
        a, d = np.full(j, p[0]), p[1:]
    elif model == "2PL":
        a, d = p[:j], p[j:]
    else:
        a, d, c = p[:j], p[j : 2 * j], 1 / (1 + np.exp(-p[2 * j :]))
    b = -d / a
    log_w = -0.5 * theta**2 / variance
    log_w -= logsumexp(log_w)
    ll = np.zeros((dense.shape[0], len(theta)))
    for i in range(j):
        seen = ~np.isnan(dense[:, i])
        ll[seen] += models.log_likelihood(dense[seen, i][:, None], theta[None, :], a[i], b[i], c[i])
    total = float(logsumexp(ll + log_w, axis=1).sum())
    if priors.a_lognormal is not None and model != "Rasch":
        mu, s = priors.a_lognormal
        la = np.log(a[:1] if model == "1PL" else a)
        total += float(np.sum(-la - (la - mu) ** 2 / (2 * s * s)))
    if priors.b_normal is not None:
        mu, s = priors.b_normal
        total += float(np.sum(-((b - mu) ** 2) / (2 * s * s)))
    if priors.c_beta is not None:
        al, be = priors.c_beta
        total += float(np.sum((al - 1) * np.log(c) + (be - 1) * np.log1p(-c)))
    return total


@pytest.mark.parametrize(
    ("model", "priors"),
    [("1PL", None), ("3PL", None), ("2PL", "default"), ("Rasch", "default")],
)
def test_louis_standard_errors_match_the_numerical_hessian(model: str, priors: str | None) -> None:
    """Full Louis SEs equal the inverse of a finite-difference Hessian of the log-posterior (to 1e-3)."""
    n_items = 5
    bank = _small_bank(n_items, seed=4, c=0.15 if model == "3PL" else 0.0)
    sim = simulate_answers(bank, 800, answers_per_person=4, seed=6)
    result = calibrate(sim.log, model, tol=1e-10, progress=False, priors=priors, se="full")
    est = result.to_frame().loc[bank.item_ids]
    a, b, c = (est[k].to_numpy() for k in ("a", "b", "c"))
    d = -a * b
    if model == "Rasch":
        x = np.r_[d, result.latent_variance]
    elif model == "1PL":
        x = np.r_[a[0], d]
    elif model == "2PL":
        x = np.r_[a, d]
    else:
        x = np.r_[a, d, np.log(c / (1 - c))]
    dense = sim.log.subset(items=bank.item_ids).to_dense()
    h = 1e-4
    n = len(x)
    eye = np.eye(n) * h
    f = lambda v: _log_posterior(dense, model, v, n_items, result.priors)  # noqa: E731
    grad = np.array([(f(x + eye[i]) - f(x - eye[i])) / (2 * h) for i in range(n)])
    assert np.abs(grad).max() < 1e-3  # the estimate is the maximum
    hess = np.empty((n, n))
    for i in range(n):
        for k in range(i, n):
            hess[i, k] = hess[k, i] = (
                f(x + eye[i] + eye[k])
                - f(x + eye[i] - eye[k])
                - f(x - eye[i] + eye[k])
                + f(x - eye[i] - eye[k])
            ) / (4 * h * h)
    cov = np.linalg.inv(-hess)
    k = np.arange(n_items)
    if model == "Rasch":
        np.testing.assert_allclose(est["se_b"], np.sqrt(cov[k, k]), rtol=1e-3)
        assert result.latent_variance_se == pytest.approx(np.sqrt(cov[-1, -1]), rel=1e-3)
        return
    ia = np.zeros(n_items, dtype=int) if model == "1PL" else k
    id_ = 1 + k if model == "1PL" else n_items + k
    db_da, db_dd = d / a**2, -1 / a
    se_b = np.sqrt(
        db_da**2 * cov[ia, ia] + 2 * db_da * db_dd * cov[ia, id_] + db_dd**2 * cov[id_, id_]
    )
    np.testing.assert_allclose(est["se_a"], np.sqrt(cov[ia, ia]), rtol=1e-3)
    np.testing.assert_allclose(est["se_b"], se_b, rtol=1e-3)
    if model == "3PL":
        ig = 2 * n_items + k
        np.testing.assert_allclose(est["se_c"], c * (1 - c) * np.sqrt(cov[ig, ig]), rtol=1e-3)


def test_se_none_leaves_standard_errors_missing(lsat7: pixirt.ResponseLog) -> None:
    result = calibrate(lsat7, "2PL", progress=False, se="none")
    assert result.se_method == "none"
    assert result.to_frame()[["se_a", "se_b", "se_c"]].isna().all().all()


# --------------------------------------------------------------------------- CLI


def _run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pixirt")
    sub = parser.add_subparsers(dest="command", required=True)
    add_calibrate_parser(sub)
    args = parser.parse_args(argv)
    return int(args.func(args))


def test_cli_calibrates_and_writes_the_bank(
    tmp_path: Path, lsat7: pixirt.ResponseLog, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bank.csv"
    result_path = tmp_path / "result.json"
    answers = str(DATA / "lsat7" / "lsat7_long.csv")
    status = _run_cli(
        ["calibrate", answers, "--model", "2PL", "--out", str(out), "--result", str(result_path)]
    )
    assert status == 0
    printed = capsys.readouterr().out
    assert "log-likelihood" in printed and "wrote 5 items" in printed
    bank = ItemBank.read(out)
    direct = calibrate(lsat7, "2PL", progress=False)
    np.testing.assert_allclose(bank.a, direct.bank.a, rtol=1e-12)
    assert bank.model == "2PL"
    stored = CalibrationResult.from_dict(json.loads(result_path.read_text()))
    assert stored.bank == bank
    # --fixed: everything fixed at the bank just written
    again = tmp_path / "again.json"
    status = _run_cli(["calibrate", answers, "--out", str(again), "--fixed", str(out), "--quiet"])
    assert status == 0 and capsys.readouterr().out == ""
    np.testing.assert_array_equal(ItemBank.read(again).b, bank.b)


def test_cli_reports_non_convergence_with_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = tmp_path / "answers.csv"
    pd.DataFrame(
        {
            "person_id": ["p1", "p1", "p2", "p2", "p3", "p3", "p4", "p4"],
            "item_id": ["x", "y"] * 4,
            "correct": ["ok", "ko", "ko", "aband", "ok", "ok", "ko", "ok"],
        }
    ).to_csv(answers, index=False)
    status = _run_cli(
        [
            "calibrate",
            str(answers),
            "--model",
            "Rasch",
            "--out",
            str(tmp_path / "b.csv"),
            "--max-iter",
            "1",
            "--tol",
            "1e-12",
            "--statuses",
            "missing",
            "--quiet",
        ]
    )
    assert status == 1
    assert "warning" in capsys.readouterr().err
    bank = ItemBank.read(tmp_path / "b.csv")
    assert bank.model == "Rasch" and list(bank.to_frame()["n_answers"]) == [4, 3]


# --------------------------------------------------------------------------- E-step paths


@pytest.mark.parametrize(("model", "se"), [("Rasch", "full"), ("1PL", "items"), ("2PL", "items")])
def test_dense_and_sparse_e_steps_agree(
    monkeypatch: pytest.MonkeyPatch, model: str, se: str
) -> None:
    """Dense chunks (BLAS) and sparse chunks (CSR products) compute the same sums."""
    sim = simulate_answers(_small_bank(40, 9), 3_000, answers_per_person=20, seed=10)  # density 0.5
    dense = calibrate(sim.log, model, tol=1e-8, progress=False, se=se)  # type: ignore[arg-type]
    monkeypatch.setattr("pixirt.calibration._design._DENSE_MIN_DENSITY", 2.0)  # never dense
    sparse = calibrate(sim.log, model, tol=1e-8, progress=False, se=se)  # type: ignore[arg-type]
    assert dense.loglik == pytest.approx(sparse.loglik, abs=1e-8)
    one, two = dense.to_frame(), sparse.to_frame()
    for col in ("a", "b"):
        np.testing.assert_allclose(one[col], two[col], rtol=1e-8, atol=1e-10)
    # the sparse item-block SEs average per-answer scores in float32: 1e-6 is ample
    for col in ("se_a", "se_b"):
        np.testing.assert_allclose(one[col], two[col], rtol=1e-6)
    assert dense.latent_variance == pytest.approx(sparse.latent_variance, rel=1e-10)


def test_cli_refuses_a_bank_with_degenerate_items(tmp_path: Path) -> None:
    """Issue 18: ``--out`` (the engine's bank) is refused as before; ``--result`` holds them."""
    sim = simulate_answers(_small_bank(10, 3), 2_000, answers_per_person=10, seed=1)
    frame = sim.log.to_frame()
    rows = frame["item_id"] == "i0"
    frame.loc[rows, "correct"] = 1 - frame.loc[rows, "correct"]
    answers = tmp_path / "answers.csv"
    frame.to_csv(answers, index=False)
    out, result_path = tmp_path / "bank.csv", tmp_path / "result.json"
    argv = ["calibrate", str(answers), "--out", str(out), "--result", str(result_path), "--quiet"]
    with pytest.raises(CalibrationError, match=r"non-positive discrimination: 'i0'"):
        _run_cli(argv)
    assert not out.exists()
    stored = CalibrationResult.from_dict(json.loads(result_path.read_text()))
    assert list(stored.problems["item_id"]) == ["i0"]
