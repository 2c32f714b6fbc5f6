"""The entry point :func:`compare`: the impact of a rule change, the same candidates under two rule sets.

:func:`compare` runs the same candidates under a baseline and a proposed rule set and
returns a :class:`~pixirt.simulation.Comparison`: who changes outcome, score and
certified levels, by how much, in which group, how well each rule set measures, and how
sure we are of each headline difference.

Same candidates, same draws
    Every draw of the simulator is keyed by ``(seed, candidate index, step)``
    (:mod:`pixirt._streams`), so two :func:`~pixirt.simulation.simulate` calls with
    the same population, seed and indices are *common random numbers*: the same
    candidates, the same true abilities and, step by step, the same answer draws. A
    difference between the two runs is the rule change's doing, not the luck of the
    draw. Past sessions (``past_sessions``) are rescored with their real answers
    (:func:`~pixirt.simulation.replay`); when the proposed rules change *which*
    challenges are asked, a rescoring cannot say what would have happened, and both rule
    sets re-run the past candidates in simulation instead, at the ability estimated from
    their real answers (:func:`~pixirt.simulation.counterfactual`, same seed).

What is compared (per candidate, then summed)
    Outcome (validated, rejected, cancelled, not certifiable), pix score and the level
    written on the certificate for each competence: the competence's level when the
    certification is validated, "no level" otherwise (not tested, uncertified, or the
    certification not validated). A candidate is *worse off* when the change costs them
    their certification, or, certified under both, lowers their score or one of their
    certified levels, and gains nothing on another count; *better off* symmetrically;
    *mixed* when both happen.

Uncertainty
    Every headline difference carries a percentile bootstrap interval: the candidates are
    resampled with replacement (``n_bootstrap`` times) *as pairs*, so the interval
    measures how much the difference would move with other candidates drawn from the same
    population, for the same rule change. For past sessions it says how much the
    difference depends on which sessions happened to be held. The percentile bootstrap
    needs a few affected candidates in the sample: a difference that rests on a handful
    of candidates gets a rough interval (and an interval of width 0 when none is
    affected).

Fairness
    For every pair of groups and for the pass rate, the mean score and the share of
    candidates worse off, the *gap* is the difference between the two groups' changes.
    A gap is flagged as unequal treatment when its interval, widened for the number of
    gaps examined (Bonferroni), excludes 0, the group it puts at a disadvantage is indeed
    hurt by the change, the gap at equal true ability (simulations) keeps its direction
    with its widened interval excluding 0, and — when the rules change the tests — it is
    larger than the noise floor, the gap a second sitting alone makes between the groups;
    one beyond chance that fails another condition is listed "to watch". In
    simulations the gap is also computed *at equal true ability* (the groups' changes are
    the group terms of a least-squares regression of each candidate's change on a linear
    spline of the true ability and the groups): a gap that vanishes there comes from the
    groups' different levels, not from the rules treating equally able candidates
    differently.

Measurement quality (simulations)
    Against the true ability: bias, RMSE and correlation of the score with the *true
    score* (the score the rules give the true ability, without measurement error), of the
    v3 capacity with the true ability; classification accuracy of the certified levels
    (share of competence levels equal to the true level: for v3 the level the rules give
    the true ability, for v2 the level an error-free positioning would give) and their
    consistency (share equal in a second, independent administration to the first
    ``n_retest`` candidates: same candidates, new answer draws), and the test-retest
    correlation of the score. For v3, challenge exposure and test overlap.

Examples
--------
>>> from pixirt import rules
>>> from pixirt.simulation import Population
>>> v3 = rules.load("pix-v3")
>>> same = compare(v3, v3, population=Population(), n=30, seed=1, n_bootstrap=100)
>>> same.headline()["changed"], same.headline()["pass_rate_difference"]
(0, 0.0)
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from pixirt import rules as rules_mod
from pixirt._item_bank import ItemBank
from pixirt._progress import ProgressArg, reporter
from pixirt.exceptions import DataError
from pixirt.rules import RuleSet
from pixirt.simulation._assumptions import _assumptions, _error_notes, _population_dict
from pixirt.simulation._comparison import Comparison, _analyse
from pixirt.simulation._comparison_inputs import _check_bootstrap, _load_rules
from pixirt.simulation._comparison_names import StageTick
from pixirt.simulation._past_sessions import _compare_past
from pixirt.simulation._population import ObservedPopulation, Population
from pixirt.simulation._responders import Responder
from pixirt.simulation._sides import _codes, _Shared, _Side, _side_from_frame, _truth
from pixirt.simulation._simulated_runs import (
    _retest_responder,
    _Run,
    _simulate_blocks,
    _simulate_on_cluster,
)

if TYPE_CHECKING:
    from pixirt.cat._certification import Certification


# ====================================================================== public entry point
def compare(
    baseline_rules: RuleSet | str | os.PathLike[str],
    proposed_rules: RuleSet | str | os.PathLike[str],
    *,
    population: Population | ObservedPopulation | None = None,
    past_sessions: str | os.PathLike[str] | Iterable[Certification] | None = None,
    bank: ItemBank | None = None,
    n: int | None = None,
    seed: int | None = None,
    responder: Responder | None = None,
    n_retest: int | None = None,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    workers: int = 1,
    progress: ProgressArg = False,
    client: Any = None,
    out: str | os.PathLike[str] | None = None,
) -> Comparison:
    """Apply two rule sets to the same candidates and compare everything the jury weighs.

    Parameters
    ----------
    baseline_rules, proposed_rules
        Rule sets, shipped names (``"pix-v3"``) or TOML paths.
    population
        Who the simulated candidates are (default: :class:`Population` ``()``, one group).
    past_sessions
        Real past sessions instead of a simulation: a JSON-lines file or an iterable of
        :class:`~pixirt.cat.Certification`. Rescored with their real answers, or
        re-run in simulation when the selection changes (see the module doc); ``n`` is
        then ignored.
    bank
        The challenges (default for simulations: :func:`~pixirt.simulation.pix_like_bank`
        ``(0)``). For past sessions, the bank they were taken on (v3 rescoring of abandoned
        tests and the counterfactual re-runs need it).
    n
        Simulated candidates (default 10,000; the size of an observed population).
    seed
        Seed of the simulation and of the bootstrap; None draws one (recorded in the result).
    responder
        Answering behaviour and incidents (default: the model, no incident).
    n_retest
        Candidates (the first ones) given a second, independent administration under each
        rule set to measure classification consistency; default ``min(n, 10_000)``, 0 to
        skip. Simulations only.
    n_bootstrap
        Bootstrap replicates (≥ 100).
    confidence_level
        Level of every interval (default 0.95).
    workers
        Processes for the simulation (results do not depend on it).
    progress
        ``True``: a progress line on stderr (when it is a terminal); a callable receives a
        :class:`pixirt.Progress` per step while simulating and resampling (stages
        ``baseline``, ``proposed``, ``retest_baseline``, ``retest_proposed``,
        ``bootstrap``...).
    client
        A :class:`distributed.Client`: the simulations run on its cluster, each written
        to a Parquet dataset under ``out``, and only the columns the comparison needs
        are read back. The numbers are identical to a local run's (extra
        ``[distributed]``).
    out
        With ``client``, required: the directory of the datasets ``baseline/``,
        ``proposed/`` (and ``retest_baseline/``, ``retest_proposed/`` for the second
        sittings), each as :func:`~pixirt.simulation.simulate` writes it.

    Returns
    -------
    Comparison
        The numbers, the figures and the report.

    Raises
    ------
    DataError
        Both or neither of a population and past sessions in a contradictory way, a bad
        size or seed.
    RuleError
        A rule set that cannot be loaded.
    """
    base_rules = _load_rules(baseline_rules, "baseline_rules")
    prop_rules = _load_rules(proposed_rules, "proposed_rules")
    n_bootstrap, confidence_level = _check_bootstrap(n_bootstrap, confidence_level)
    seed = _check_seed(seed)
    _check_where(workers, client, past_sessions, out)
    t0 = time.perf_counter()
    report_progress: StageTick = reporter(progress)
    diff = rules_mod.diff(base_rules, prop_rules)
    if past_sessions is not None:
        if population is not None:
            raise DataError(
                "give either a population to simulate or past sessions, not both",
                field="population",
            )
        return _compare_past(
            base_rules,
            prop_rules,
            diff,
            past_sessions,
            bank=bank,
            seed=seed,
            responder=responder,
            n_bootstrap=n_bootstrap,
            confidence_level=confidence_level,
            progress=report_progress,
            t0=t0,
        )
    from pixirt.simulation._bank import pix_like_bank

    population = population if population is not None else Population()
    bank = bank if bank is not None else pix_like_bank(0)
    n, n_retest = _sizes(population, n, n_retest)
    responder = responder if responder is not None else Responder()
    runs = _simulate_runs(
        (base_rules, prop_rules),
        population,
        bank,
        responder,
        (n, n_retest),
        seed,
        workers,
        (client, out),
        report_progress,
    )
    b, p, shared = _simulated_sides(
        runs, (base_rules, prop_rules), population, bank, seed, (n, n_retest)
    )
    return _analyse(
        b,
        p,
        shared,
        baseline_rules=base_rules,
        proposed_rules=prop_rules,
        source="simulation",
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence_level=confidence_level,
        notes=_error_notes(runs["baseline"].frame, runs["proposed"].frame),
        population=_population_dict(population),
        bank_hash=bank.hash,
        t0=t0,
        progress=report_progress,
        n_items=bank.n_items,
        assumptions=_assumptions(
            "synthetic",
            base_rules,
            prop_rules,
            bank=bank,
            population=_population_dict(population),
            responder=responder,
            seed=seed,
            n=n,
            n_retest=n_retest,
        ),
    )


# ====================================================================== arguments
def _check_seed(seed: int | None) -> int:
    """The seed, drawn when None."""
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise DataError(f"seed must be a non-negative int, got {seed!r}", field="seed")
    return int(seed)


def _check_where(
    workers: int,
    client: Any,
    past_sessions: str | os.PathLike[str] | Iterable[Certification] | None,
    out: str | os.PathLike[str] | None,
) -> None:
    """Where the simulations run: local processes, or a Dask cluster writing to ``out``."""
    if not isinstance(workers, int) or workers < 1:
        raise DataError(f"workers must be a positive int, got {workers!r}", field="workers")
    if client is not None:
        from pixirt._dask import check_client

        check_client(client)
        if past_sessions is not None:
            raise DataError(
                "past sessions are compared in this process; client= runs simulations",
                field="client",
            )
        if workers != 1:
            raise DataError(
                "workers sets local processes; with a Dask client the cluster's workers "
                "run the simulations",
                field="workers",
            )
        if out is None:
            raise DataError(
                "a comparison on a Dask cluster writes its simulations to Parquet datasets: "
                "give out= (a directory the client and every worker reach)",
                field="out",
            )
        if Path(out).exists() and not Path(out).is_dir():
            raise DataError(
                "out must be a directory (it receives the datasets baseline/, proposed/, ...)",
                path=str(out),
                field="out",
            )
    elif out is not None:
        raise DataError(
            "out keeps the datasets of a run on a Dask cluster: give client= too", field="out"
        )


def _sizes(
    population: Population | ObservedPopulation, n: int | None, n_retest: int | None
) -> tuple[int, int]:
    """The number of simulated candidates and of those sitting a second time."""
    if isinstance(population, ObservedPopulation):
        n = len(population) if n is None else n
    n = 10_000 if n is None else n
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise DataError(f"n must be an int >= 2, got {n!r}", field="n")
    n_retest = min(n, 10_000) if n_retest is None else n_retest
    if not isinstance(n_retest, int) or not (0 <= n_retest <= n):
        raise DataError(f"n_retest must be an int in 0..n, got {n_retest!r}", field="n_retest")
    return n, n_retest


# ====================================================================== simulations
def _simulate_runs(
    rule_sets: tuple[RuleSet, RuleSet],
    population: Population | ObservedPopulation,
    bank: ItemBank,
    responder: Responder,
    sizes: tuple[int, int],
    seed: int,
    workers: int,
    cluster: tuple[Any, str | os.PathLike[str] | None],
    report_progress: StageTick,
) -> dict[str, _Run]:
    """Both rule sets on the same candidates, and on the second sitting of the first ones."""
    base_rules, prop_rules = rule_sets
    n, n_retest = sizes
    client, out = cluster
    retest = _retest_responder(responder)
    runs: dict[str, _Run] = {}
    for key, rules, resp, size in (
        ("baseline", base_rules, responder, n),
        ("proposed", prop_rules, responder, n),
        ("retest_baseline", base_rules, retest, n_retest),
        ("retest_proposed", prop_rules, retest, n_retest),
    ):
        if size and client is not None:
            assert out is not None
            runs[key] = _simulate_on_cluster(
                client,
                Path(out) / key,
                population,
                bank,
                rules,
                size,
                seed,
                resp,
                key,
                report_progress,
            )
        elif size:
            runs[key] = _simulate_blocks(
                population, bank, rules, size, seed, resp, workers, key, report_progress
            )
    return runs


def _simulated_sides(
    runs: dict[str, _Run],
    rule_sets: tuple[RuleSet, RuleSet],
    population: Population | ObservedPopulation,
    bank: ItemBank,
    seed: int,
    sizes: tuple[int, int],
) -> tuple[_Side, _Side, _Shared]:
    """The two sides of the simulations (with their truth, retest and exposure) and what they share."""
    base_rules, prop_rules = rule_sets
    n, n_retest = sizes
    codes = _codes(runs["baseline"].frame, runs["proposed"].frame)
    theta = runs["baseline"].frame["true_theta"].to_numpy(dtype=np.float64)
    sides = []
    for key, rules in (("baseline", base_rules), ("proposed", prop_rules)):
        truth = _truth(rules, theta, codes, population, bank, n, seed)
        side = _side_from_frame(runs[key].frame, rules, codes, theta, truth=truth)
        if n_retest:
            again = _side_from_frame(runs[f"retest_{key}"].frame, rules, codes, theta[:n_retest])
            side = replace(
                side, retest_status=again.status, retest_cert=again.cert, retest_pix=again.pix
            )
        side = replace(side, exposure=runs[key].exposure)
        sides.append(side)
    group = runs["baseline"].frame["group"].astype(str).to_numpy(dtype=object)
    shared = _Shared(
        group=group,
        theta=theta,
        codes=codes,
        retest_rows=np.arange(n_retest) if n_retest else None,
    )
    return sides[0], sides[1], shared
