"""One ``progress`` argument (``bool | Callable[[pixirt.Progress], None]``) across the
public functions, and the renamed keyword arguments (old names warn for one release)."""

from __future__ import annotations

import io
import warnings
from typing import Any

import numpy as np
import pytest

import pixirt
from pixirt import DataError, Progress, rules
from pixirt._progress import ProgressLine, reporter
from pixirt._renamed import renamed
from pixirt.calibration import binned_fit, calibrate, item_fit, plot_wright_map, score_persons
from pixirt.cat import EAP, AdaptiveTest, MaxInformation, MaxLength, sympson_hetter_parameters
from pixirt.cli._compare import ProgressBar
from pixirt.simulation import Population, compare, pix_like_bank, simulate, simulate_answers


@pytest.fixture(scope="module")
def small() -> tuple[Any, Any]:
    bank = pix_like_bank(seed=0)
    bank = bank.subset(bank.item_ids[:25])
    return bank, simulate_answers(bank, 300, answers_per_person=12, seed=1).log


# --------------------------------------------------------------------------- Progress
def test_progress_is_exported_and_frozen() -> None:
    p = pixirt.Progress("simulate", 5, 20)
    assert p.fraction == 0.25 and not p.finished and str(p) == "simulate: 5/20"
    assert Progress("bootstrap", 3, 3).finished and Progress("x", 4, None).fraction is None
    with pytest.raises(AttributeError):
        p.done = 6  # type: ignore[misc]


def test_calibrate_sends_progress_values(small: tuple[Any, Any]) -> None:
    _, log = small
    seen: list[Progress] = []
    calibrate(log, "Rasch", priors="default", progress=seen.append)
    assert seen and all(isinstance(p, Progress) for p in seen)
    assert seen[0].stage == "calibrate Rasch" and seen[0].total is None
    assert [p.done for p in seen] == sorted(p.done for p in seen)
    assert "loglik" in seen[-1].detail


def test_simulate_and_compare_send_progress_values() -> None:
    bank = pix_like_bank(seed=0)
    v3 = rules.load("pix-v3")
    seen: list[Progress] = []
    simulate(Population(), bank, v3, 60, chunk_size=25, progress=seen.append)
    assert [(p.stage, p.done, p.total) for p in seen] == [
        ("simulate", 25, 60),
        ("simulate", 50, 60),
        ("simulate", 60, 60),
    ]
    stages: list[Progress] = []
    compare(v3, v3, bank=bank, n=60, seed=1, n_retest=0, n_bootstrap=100, progress=stages.append)
    assert {p.stage for p in stages} >= {"baseline", "proposed", "bootstrap"}
    assert all(isinstance(p, Progress) and p.total for p in stages)


def test_progress_true_prints_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    term = Terminal()
    monkeypatch.setattr("sys.stderr", term)
    simulate(Population(), pix_like_bank(seed=0), rules.load("pix-v3"), 30, progress=True)
    assert term.getvalue().endswith("pixirt simulate: 30/30\n")
    pipe = io.StringIO()
    monkeypatch.setattr("sys.stderr", pipe)
    simulate(Population(), pix_like_bank(seed=0), rules.load("pix-v3"), 30, progress=True)
    assert pipe.getvalue() == ""


def test_progress_line_and_bar_read_progress() -> None:
    out = io.StringIO()
    line = ProgressLine(out, only_tty=False)
    line(Progress("calibrate 2PL", 1, None, "change 1e-2"))
    line.close()
    assert out.getvalue() == "\rpixirt calibrate 2PL: iteration 1  change 1e-2\n"
    bar_out = io.StringIO()
    bar = ProgressBar(bar_out)
    bar(Progress("baseline", 10, 10))
    assert bar_out.getvalue().startswith("current rules: 10 done in")


def test_bad_progress_is_refused(small: tuple[Any, Any]) -> None:
    _, log = small
    for call in (
        lambda: calibrate(log, "Rasch", progress="yes"),
        lambda: simulate(Population(), pix_like_bank(seed=0), rules.load("pix-v3"), 5, progress=3),
    ):
        with pytest.raises(DataError, match="'progress' parameter must be a bool or a callable"):
            call()


def test_old_progress_callables_still_work_with_a_warning() -> None:
    bank = pix_like_bank(seed=0)
    ticks: list[tuple[int, int]] = []
    with pytest.warns(DeprecationWarning, match="pixirt.Progress"):
        simulate(
            Population(), bank, rules.load("pix-v3"), 30, progress=lambda d, t: ticks.append((d, t))
        )
    assert ticks == [(30, 30)]
    stages: list[tuple[str, int, int]] = []
    with pytest.warns(DeprecationWarning, match="pixirt.Progress"):
        report = reporter(lambda s, d, t: stages.append((s, d, t)))
    report("bootstrap", 1, 2)
    assert stages == [("bootstrap", 1, 2)]


# --------------------------------------------------------------------------- renames
def test_renamed_keywords_warn_and_still_work(small: tuple[Any, Any]) -> None:
    bank, log = small
    with pytest.warns(DeprecationWarning, match="'n_boot' is renamed 'n_bootstrap'"):
        old = binned_fit(log, bank, reference="bootstrap", n_boot=5, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = binned_fit(log, bank, reference="bootstrap", n_bootstrap=5, seed=3)
    assert old.equals(new)
    with pytest.warns(DeprecationWarning, match="'n_boot' is renamed 'n_bootstrap'"):
        item_fit(log, bank, n_boot=5)
    scores = score_persons(log, bank)
    with pytest.warns(DeprecationWarning, match="'bins' is renamed 'n_bins'"):
        plot_wright_map(bank, scores, bins=10)
    test = AdaptiveTest(bank, MaxInformation(), EAP(), MaxLength(3))
    with pytest.warns(DeprecationWarning, match="'thetas' is renamed 'theta'"):
        old_k = sympson_hetter_parameters(test, thetas=np.zeros(5), n_iter=1)
    assert old_k == sympson_hetter_parameters(test, theta=np.zeros(5), n_iter=1)


def test_simulation_result_bins_renamed() -> None:
    res = simulate(Population(), pix_like_bank(seed=0), rules.load("pix-v3"), 40)
    with pytest.warns(DeprecationWarning, match="'bins' is renamed 'n_bins'"):
        old = res.score_distribution(bins=5)
    assert old.equals(res.score_distribution(n_bins=5))
    with pytest.warns(DeprecationWarning, match="'bins' is renamed 'n_bins'"):
        res.capacity_recovery(bins=3)


def test_both_names_is_an_error() -> None:
    @renamed(old="new")
    def f(*, new: int = 0) -> int:
        return new

    with pytest.raises(TypeError, match="both 'old'"):
        f(old=1, new=2)
    assert f(new=3) == 3


def test_capacity_model_n_candidates_renamed() -> None:
    from pixirt.cat import CapacityModel

    model = CapacityModel.from_rules(rules.load("pix-v3"))
    with pytest.warns(DeprecationWarning, match="'n_candidates' is renamed 'n'"):
        old = model.initial_state(n_candidates=3)
    assert old.capacity.shape == (3,) and model.initial_state(n=3).capacity.shape == (3,)
