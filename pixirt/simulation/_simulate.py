"""Simulate whole certifications for simulated populations, vectorized across candidates.

:func:`simulate` draws candidates, their answers and incidents, and runs them through
the engine's own rules over arrays — nothing here selects, estimates or scores:

- **v3**: a chunk is a :class:`pixirt.cat._batch.SessionBatch` stepped together (pool
  rules, ranking, pick, EAP update) with the very draws the engine uses for the same
  ``(seed, candidate index, step)`` (:mod:`pixirt._streams`), then scored by
  :meth:`~pixirt.cat._batch.SessionBatch.results`;
- **v2**: the chunk's profiles are planned by :func:`pixirt.cat._v2_plan.plan` and scored by
  :func:`pixirt.cat._v2_batch_scoring.score_batch`; a certification Pix's scoring refuses (the sanity
  contract, a missing level rule, ...) is an ``error`` row with its reason in
  ``comment``: the run never stops on one candidate.

The engine (:mod:`pixirt.cat._engine`) runs a session as a batch of one of the same
functions, so any simulated candidate replays one by one through it
(:func:`replay_candidate`) with the identical challenges and result, and the results
are identical bit for bit whatever ``chunk_size``.

Outputs: :class:`SimulationResult` holds one row per candidate (a pandas DataFrame
with Arrow list columns for the challenges and statuses); with ``out`` it is written to
Parquet in fixed row groups, so the file is byte-identical for any ``chunk_size``. On a
Dask cluster (``client=``) the workers write the rows to a Parquet dataset instead
(:mod:`pixirt.simulation._distributed`), read back lazily.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pixirt import models
from pixirt._item_bank import ItemBank
from pixirt._progress import ProgressArg, Reporter, reporter
from pixirt.cat import _engine as engine
from pixirt.cat import _incidents as incidents
from pixirt.cat._engine import Runtime, build_runtime
from pixirt.cat._score_entry import score
from pixirt.cat._selection import check_test_length
from pixirt.cat._state import Candidate, CatState
from pixirt.exceptions import DataError
from pixirt.rules import RuleSet
from pixirt.simulation._candidate_rows import _true_ability
from pixirt.simulation._chunks import _chunks, _run_chunk, _run_chunk_task, _write_parquet
from pixirt.simulation._issue_reports import _drawn_reports
from pixirt.simulation._population import ObservedPopulation, Population
from pixirt.simulation._responders import Responder
from pixirt.simulation._results import SimulationResult


# ====================================================================== public API
def simulate(
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    n: int,
    *,
    seed: int = 0,
    out: str | os.PathLike[str] | None = None,
    chunk_size: int = 10_000,
    responder: Responder | None = None,
    start: int = 0,
    progress: ProgressArg = False,
    workers: int = 1,
    client: Any = None,
) -> SimulationResult:
    """Simulate ``n`` whole certifications (v2 or v3 per ``rules``).

    Parameters
    ----------
    population
        Who the candidates are.
    bank
        The challenges (the Pix-like bank by default in the CLI).
    rules
        The rule set (:func:`pixirt.rules.load`).
    n
        Number of candidates (indices ``start .. start + n − 1``).
    seed
        Seed of every draw (population, incidents, answers, the engine's picks).
    out
        Parquet file to write (atomically), or None. With ``client``, required: the
        directory of the Parquet dataset the workers write (one file per chunk; see
        :mod:`pixirt.simulation._distributed`).
    chunk_size
        Candidates stepped together; results do not depend on it.
    responder
        Answering behaviour and incidents (default: the model, no incident).
    start
        Index of the first candidate.
    progress
        ``True``: a progress line on stderr (when it is a terminal); a callable receives a
        :class:`pixirt.Progress` (stage ``"simulate"``, ``done`` of ``total=n``
        candidates) as chunks finish.
    workers
        Processes running chunks in parallel (results do not depend on it either).
    client
        A :class:`distributed.Client`: the chunks run as tasks on its cluster, each
        written by its worker to the dataset ``out``; the rows are identical bit for bit
        to a local run's, and the result reads them lazily (extra ``[distributed]``).

    Returns
    -------
    SimulationResult
        One row per candidate.
    """
    if not isinstance(n, int) or n <= 0:
        raise DataError(f"n must be a positive int, got {n!r}", field="n")
    if not isinstance(chunk_size, int) or chunk_size <= 0:
        raise DataError(
            f"chunk_size must be a positive int, got {chunk_size!r}", field="chunk_size"
        )
    if not isinstance(seed, int) or seed < 0:
        raise DataError(f"seed must be a non-negative int, got {seed!r}", field="seed")
    report = reporter(progress)
    responder = responder or Responder()
    runtime = build_runtime(bank, rules)  # checks the bank against the rules first
    if rules.selection is not None:
        check_test_length(runtime.structure, rules.selection)
    from pixirt._version import __version__

    if not isinstance(workers, int) or workers < 1:
        raise DataError(f"workers must be a positive int, got {workers!r}", field="workers")
    if client is not None:
        from pixirt.simulation._distributed import simulate_on_cluster

        return simulate_on_cluster(
            client,
            population,
            bank,
            rules,
            n,
            seed=seed,
            out=out,
            chunk_size=chunk_size,
            responder=responder,
            start=start,
            progress=report,
            workers=workers,
        )
    t0 = time.perf_counter()
    tasks = list(_chunks(start, n, chunk_size))
    frames = _run_tasks(
        runtime, (bank, rules, population, responder, seed), tasks, workers, report, start
    )
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    frame["rules_id"] = rules.id
    frame["rules_hash"] = rules.hash
    frame["bank_hash"] = bank.hash
    frame["pixirt_version"] = __version__
    path = _write_parquet(frame, Path(out)) if out is not None else None
    return SimulationResult(
        frame=frame,
        rules_id=rules.id,
        rules_hash=rules.hash,
        bank_hash=bank.hash,
        seed=seed,
        pixirt_version=__version__,
        path=path,
        seconds=time.perf_counter() - t0,
    )


def _run_tasks(
    runtime: Runtime,
    inputs: tuple[ItemBank, RuleSet, Population | ObservedPopulation, Responder, int],
    tasks: list[tuple[int, int]],
    workers: int,
    progress: Reporter,
    start: int,
) -> list[pd.DataFrame]:
    """The chunks' frames, run in this process or by ``workers`` processes, in order."""
    bank, rules, population, responder, seed = inputs
    n = sum(size for _, size in tasks)
    frames: list[pd.DataFrame] = []
    if workers == 1 or len(tasks) == 1:
        results: Iterator[pd.DataFrame] = (
            _run_chunk(runtime, population, responder, seed, lo, size) for lo, size in tasks
        )
    else:
        from concurrent.futures import ProcessPoolExecutor

        pool = ProcessPoolExecutor(max_workers=workers)
        results = pool.map(
            _run_chunk_task,
            [(bank, rules, population, responder, seed, lo, size) for lo, size in tasks],
        )
    try:
        for (lo, size), frame_part in zip(tasks, results, strict=True):
            frames.append(frame_part)
            progress("simulate", lo + size - start, n)
    finally:
        if workers > 1 and len(tasks) > 1:
            pool.shutdown(cancel_futures=True)
    return frames


def replay_candidate(
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    index: int,
    *,
    seed: int = 0,
    responder: Responder | None = None,
) -> tuple[CatState, Any]:
    """Run simulated candidate ``index`` one step at a time through :mod:`pixirt.cat._engine`.

    Returns the final engine state and its :class:`~pixirt.cat.CertificationResult`:
    the same challenges and result as the candidate's row of :func:`simulate`.
    """
    responder = responder or Responder()
    runtime = build_runtime(bank, rules)
    cands = population.sample(
        1, seed=seed, start=index, bank=bank if rules.algorithm == "v2" else None
    )
    inc = responder.incidents(seed, cands.index)
    profile = cands.profile(0) if rules.algorithm == "v2" else None
    cand = Candidate(f"c{index}", index)
    state = engine.start(bank, rules, profile=profile, candidate=cand, seed=seed)
    st = runtime.structure
    limit = int(inc.abort_after[0])
    while (choice := engine.next_challenge(state)) is not None:
        if limit >= 0 and state.n_answers >= limit:
            break
        step = len(state.asked)
        if rules.algorithm == "v3" and bool(responder.live_alerts(seed, index, step)):
            state = engine.flag_live_alert(state, choice.challenge_id)
            continue
        pos = int(st.positions([choice.challenge_id])[0])
        theta = _true_ability(cands, responder, st.competence[[pos]], runtime)[0]
        p = models.probability(theta, bank.a[pos], bank.b[pos], bank.c[pos])
        ok = responder.answers(seed, index, step, np.asarray(p))
        code = int(ok[()])
        if rules.algorithm == "v2":  # v2 draws answer statuses (v3 right or wrong only)
            code = int(responder.statuses(seed, index, step, ok, st.features[pos])[()])
        else:
            code = incidents.STATUSES.index("ok" if code else "ko")
        state = engine.record(state, choice.challenge_id, incidents.STATUSES[code])
    if limit >= 0 and engine.next_challenge(state) is not None:
        state = engine.abort(state, str(inc.abort_reason[0]))
    for step, cid in enumerate(state.asked):
        if state.statuses[step] is not None and bool(responder.neutralized(seed, index, step)):
            state = engine.neutralize(state, cid)
    cert = engine.certification(state)
    if bool(inc.fraud[0]):
        cert = replace(cert, fraud=True)
    if responder.reports_anything:
        cert = replace(cert, issue_reports=_drawn_reports(responder, rules, seed, index, state))
    return state, score(cert, rules, bank=bank)
