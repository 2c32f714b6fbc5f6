"""Whole certifications for simulated populations, vectorized across candidates.

:func:`simulate` runs ``n`` certifications under a rule set with the engine's own
selection and scoring code (:mod:`pixirt.cat.selection`, :mod:`pixirt.cat.capacity`,
:mod:`pixirt.cat.scoring`): v3 candidates of a chunk step together (one numpy pass per
step for the whole chunk), drawing the very numbers the engine draws for the same
``(seed, candidate index, step)`` (:mod:`pixirt.streams`). Any simulated candidate can
therefore be replayed one by one through :mod:`pixirt.cat.engine`
(:func:`replay_candidate`) with the identical challenges and result, and the results
are identical bit for bit whatever ``chunk_size``.

Scoring: a complete v3 test without abort, fraud or neutralization is scored by a
vectorized copy of the v3 scoring (global score, mesh, competence levels, outcome);
every other session (aborts — with the degradation of abandoned tests —, fraud, jury
neutralizations, and all v2 sessions) goes through :func:`pixirt.cat.scoring.score`
itself. The test suite checks the vectorized path against ``score`` candidate by
candidate.

v2 sessions are planned per candidate by the engine (:mod:`pixirt.cat.engine`) —
profile-based selection is a few table look-ups per competence — and their answers
drawn in one pass.

Outputs: :class:`SimulationResult` holds one row per candidate (a pandas DataFrame
with Arrow list columns for the challenges and statuses); with ``out`` it is written to
Parquet in fixed row groups, so the file is byte-identical for any ``chunk_size``. On a
Dask cluster (``client=``) the workers write the rows to a Parquet dataset instead
(:mod:`pixirt.simulation.distributed`), read back lazily.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import models, streams
from pixirt.cat import engine, scale
from pixirt.cat import v2 as v2_rules
from pixirt.cat.capacity import (
    CapacityModel,
    CapacityState,
    limit_variation,
    probability,
    reward,
)
from pixirt.cat.engine import Runtime, build_runtime
from pixirt.cat.scoring import score
from pixirt.cat.selection import SelectionState, candidate_pool, pick_rank, rank_by_information
from pixirt.cat.state import Candidate, CatState
from pixirt.cat.v2 import V2Profiles, code_key
from pixirt.exceptions import DataError
from pixirt.item_bank import ItemBank
from pixirt.rules import RuleSet
from pixirt.simulation.population import (
    Candidates,
    ObservedPopulation,
    Population,
    PositioningAnswers,
)
from pixirt.simulation.responders import Responder

__all__ = ["SimulationResult", "replay_candidate", "simulate"]

_PICK_STRIDE = 64  # as pixirt.cat.engine: counters per step of the v3 pick
_ROW_GROUP = 65_536
_STATUS = {1: "ok", 0: "ko", -1: None}
_STATUS_NAMES = np.array([None, "ko", "ok"], dtype=object)  # by status code + 1


@dataclass(frozen=True, slots=True, eq=False, init=False, repr=False)
class SimulationResult:
    """Simulated certifications, one row per candidate.

    A local run holds its rows in memory; a run on a Dask cluster (``client=``) leaves
    them in its Parquet dataset (:mod:`pixirt.simulation.distributed`) and reads them
    lazily: ``frame`` loads the whole dataset on first use (then keeps it), while
    ``len()``, :meth:`select` and the summaries read only the columns they need.

    Attributes
    ----------
    frame
        Columns: ``candidate_id``, ``index``, ``group``, ``true_theta``, ``theta_<code>``
        (16), for v2 the profile ``level_<code>``/``pix_<code>``, ``challenges`` and
        ``statuses`` (lists; status None for a withdrawn challenge), ``neutralized``
        (list), ``abort_reason``, ``fraud``, ``status``, ``comment``, ``pix_score``,
        ``n_answers``, ``cert_level_<code>`` (certified levels; −1 uncertified, NaN
        none), for v3 ``capacity``, ``error_rate``, ``mesh_index``; and on every row
        ``rules_id``, ``rules_hash``, ``bank_hash``, ``pixirt_version``.
    rules_id, rules_hash, bank_hash, seed, pixirt_version
        Provenance.
    path
        The Parquet file written (local run with ``out``), the dataset directory (run on
        a cluster), or None.
    seconds
        Wall time of the run.
    """

    rules_id: str
    rules_hash: str
    bank_hash: str
    seed: int
    pixirt_version: str
    path: Path | None
    seconds: float
    _frame: pd.DataFrame | None
    _dataset: Any  # pixirt.simulation.distributed.Dataset | None

    def __init__(
        self,
        frame: pd.DataFrame | None,
        rules_id: str,
        rules_hash: str,
        bank_hash: str,
        seed: int,
        pixirt_version: str,
        path: Path | None = None,
        seconds: float = 0.0,
        *,
        dataset: Any = None,
    ) -> None:
        if frame is None and dataset is None:
            raise DataError("a SimulationResult needs a frame or a dataset", field="frame")
        values = {
            "rules_id": rules_id,
            "rules_hash": rules_hash,
            "bank_hash": bank_hash,
            "seed": seed,
            "pixirt_version": pixirt_version,
            "path": path,
            "seconds": seconds,
            "_frame": frame,
            "_dataset": dataset,
        }
        for name, value in values.items():
            object.__setattr__(self, name, value)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> SimulationResult:
        """Reopen the Parquet dataset of a run on a Dask cluster (read lazily)."""
        from pixirt.simulation.distributed import open_dataset

        return open_dataset(path).result()

    @property
    def frame(self) -> pd.DataFrame:
        """Every row and column (a dataset is read on first use, then kept)."""
        if self._frame is None:
            object.__setattr__(self, "_frame", self._dataset.read())
        assert self._frame is not None
        return self._frame

    def select(self, columns: list[str]) -> pd.DataFrame:
        """Only these columns (from a dataset, without reading the others)."""
        if self._frame is not None:
            return self._frame[list(columns)]
        frame: pd.DataFrame = self._dataset.read(columns)
        return frame

    def __len__(self) -> int:
        return len(self._frame) if self._frame is not None else int(self._dataset.n)

    def __repr__(self) -> str:
        where = f", path={str(self.path)!r}" if self.path is not None else ""
        return (
            f"SimulationResult({len(self):,} candidates, rules_id={self.rules_id!r}, "
            f"seed={self.seed}{where}, seconds={self.seconds:.1f})"
        )

    def outcome_rates(self, by: str | None = None) -> pd.DataFrame:
        """Share of each status (and comment), overall or by a column such as ``group``."""
        keys = ["status"] if by is None else [by, "status"]
        counts = self.select(keys).groupby(keys, dropna=False).size()
        if by is None:
            return (counts / counts.sum()).rename("share").to_frame()
        return (counts / counts.groupby(level=0).transform("sum")).rename("share").to_frame()

    def score_distribution(self, bins: int = 20) -> pd.DataFrame:
        """Counts of ``pix_score`` in equal-width bins, with mean and quantiles in the index name."""
        scores = self.select(["pix_score"])["pix_score"].to_numpy()
        counts, edges = np.histogram(scores, bins=bins)
        return pd.DataFrame({"low": edges[:-1], "high": edges[1:], "count": counts})

    def capacity_recovery(self, bins: int = 10) -> pd.DataFrame:
        """v3: bias and RMSE of the capacity against the true ability, by true-ability bin."""
        columns = self.frame.columns if self._frame is not None else self._dataset.columns
        if "capacity" not in columns:
            raise DataError("capacity recovery needs a v3 simulation", field="capacity")
        df = self.select(["abort_reason", "true_theta", "capacity"])
        df = df[df["abort_reason"] == ""]
        cut = pd.qcut(df["true_theta"], bins, duplicates="drop")
        err = df["capacity"] - df["true_theta"]
        grouped = err.groupby(cut, observed=True)
        out = pd.DataFrame(
            {
                "bias": grouped.mean(),
                "rmse": grouped.apply(lambda e: float(np.sqrt(np.mean(np.square(e))))),
                "n": grouped.size(),
            }
        )
        out.index.name = "true_theta_bin"
        return out

    def exposure(self) -> pd.Series:
        """Share of candidates who were served each challenge, most exposed first."""
        if self._frame is not None:
            served = self._frame["challenges"].explode().dropna()
            counts = served.value_counts()
        else:  # part by part: the challenge lists of all candidates are never held at once
            counts = self._dataset.list_counts("challenges").sort_values(
                ascending=False, kind="stable"
            )
        return (counts / len(self)).rename("exposure")


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
    progress: bool | Callable[[int, int], None] = False,
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
        :mod:`pixirt.simulation.distributed`).
    chunk_size
        Candidates stepped together; results do not depend on it.
    responder
        Answering behaviour and incidents (default: the model, no incident).
    start
        Index of the first candidate.
    progress
        Print progress on stderr (when it is a terminal), or a callable called as
        ``progress(done, n)`` as chunks finish.
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
    responder = responder or Responder()
    runtime = build_runtime(bank, rules)
    if rules.algorithm == "v3":
        cap_rules = rules.capacity
        assert cap_rules is not None
        if cap_rules.double_measures_until:
            raise DataError(
                "the vectorized simulator does not run historical double measures; "
                "replay such sessions through pixirt.cat.engine",
                field="capacity.double_measures_until",
            )
    from pixirt import __version__

    if not isinstance(workers, int) or workers < 1:
        raise DataError(f"workers must be a positive int, got {workers!r}", field="workers")
    if client is not None:
        from pixirt.simulation.distributed import simulate_on_cluster

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
            progress=progress,
            workers=workers,
        )
    t0 = time.perf_counter()
    frames: list[pd.DataFrame] = []
    show = progress is True and sys.stderr.isatty()
    tasks = list(_chunks(start, n, chunk_size))
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
            if callable(progress):
                progress(lo + size - start, n)
            if show:
                done = lo + size - start
                print(f"\rsimulated {done:,}/{n:,} candidates", end="", file=sys.stderr, flush=True)
    finally:
        if workers > 1 and len(tasks) > 1:
            pool.shutdown(cancel_futures=True)
    if show:
        print(file=sys.stderr)
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


def replay_candidate(
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    index: int,
    *,
    seed: int = 0,
    responder: Responder | None = None,
) -> tuple[CatState, Any]:
    """Run simulated candidate ``index`` one step at a time through :mod:`pixirt.cat.engine`.

    Returns the final engine state and its :class:`~pixirt.cat.scoring.CertificationResult`:
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
        ok = bool(responder.answers(seed, index, step, np.asarray(p))[()])
        state = engine.record(state, choice.challenge_id, "ok" if ok else "ko")
    if limit >= 0 and engine.next_challenge(state) is not None:
        state = engine.abort(state, str(inc.abort_reason[0]))
    for step, cid in enumerate(state.asked):
        if state.statuses[step] is not None and bool(responder.neutralized(seed, index, step)):
            state = engine.neutralize(state, cid)
    cert = engine.certification(state)
    if bool(inc.fraud[0]):
        cert = replace(cert, fraud=True)
    return state, score(cert, rules, bank=bank)


# ====================================================================== chunks
def _true_ability(
    cands: Candidates,
    responder: Responder,
    competence_code: npt.NDArray[np.int64],
    runtime: Runtime,
) -> npt.NDArray[np.float64]:
    """True ability answering a challenge of the bank competence ``competence_code`` (per row)."""
    if responder.ability == "general":
        return np.asarray(cands.theta, dtype=np.float64)
    names = runtime.structure.competences
    col = np.array([cands.competences.index(names[int(k)]) for k in range(len(names))])
    return np.asarray(
        cands.competence_theta[np.arange(len(cands)), col[competence_code]], dtype=np.float64
    )


_PROCESS_RUNTIMES: dict[tuple[str, str], Runtime] = {}  # a worker process's runtimes


def _run_chunk_task(
    args: tuple[ItemBank, RuleSet, Population | ObservedPopulation, Responder, int, int, int],
) -> pd.DataFrame:
    bank, rules, population, responder, seed, lo, n = args
    # each task brings its own unpickled bank: keep the runtime (and its shortlists) per
    # content hash, so a worker process builds them once, not once per chunk
    key = (bank.hash, rules.hash)
    runtime = _PROCESS_RUNTIMES.get(key)
    if runtime is None:
        if len(_PROCESS_RUNTIMES) >= 4:
            _PROCESS_RUNTIMES.clear()
        runtime = _PROCESS_RUNTIMES[key] = build_runtime(bank, rules)
    return _run_chunk(runtime, population, responder, seed, lo, n)


def _run_chunk(
    runtime: Runtime,
    population: Population | ObservedPopulation,
    responder: Responder,
    seed: int,
    lo: int,
    n: int,
) -> pd.DataFrame:
    v2 = runtime.rules.algorithm == "v2"
    cands = population.sample(n, seed=seed, start=lo, bank=runtime.bank if v2 else None)
    if v2:
        return _fixed_types(_run_v2(runtime, cands, responder, seed))
    return _fixed_types(_run_v3(runtime, cands, responder, seed))


def _fixed_types(frame: pd.DataFrame) -> pd.DataFrame:
    """Column types that do not depend on which candidates share a chunk.

    Left to inference, a chunk without any comment has an object column of None and one
    with a comment a string column, and a chunk whose certified levels are all whole
    numbers an int column: the frame would then depend on ``chunk_size``.
    """
    if "comment" in frame.columns:
        values = frame["comment"].to_numpy(dtype=object, copy=True)
        values[pd.isna(values)] = None
        frame["comment"] = pd.Series(values, index=frame.index, dtype=object)
    for col in frame.columns:
        if col.startswith("cert_level_"):
            frame[col] = frame[col].astype(np.float64)
    return frame


def _base_frame(cands: Candidates) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "candidate_id": [f"c{i}" for i in cands.index.tolist()],
        "index": cands.index,
        "group": cands.group.astype(str),
        "true_theta": cands.theta,
    }
    for k, code in enumerate(cands.competences):
        cols[f"theta_{code}"] = cands.competence_theta[:, k]
    return cols


def _take(sel: SelectionState, rows: npt.NDArray[np.intp]) -> SelectionState:
    return SelectionState(
        sel.excluded[rows],
        sel.answered_tubes[rows],
        sel.answered_skills[rows],
        sel.seen_competences[rows],
        sel.recent_competences[rows],
        sel.n_answers[rows],
    )


@dataclass(frozen=True, slots=True, eq=False)
class _Shortlist:
    """Per capacity cell, the few challenges of each competence that can rank in a top 5.

    For a cell ``[t0, t1)`` of capacities, a challenge's information is at most
    ``u = a² σ(a d) σ(−a d)`` with ``d`` its difficulty's distance to the cell (0 inside):
    the list keeps, per competence, the ``m`` challenges of largest ``u`` and the bound
    ``u`` of the next one. A top 5 found in the lists is exact when its 5th information
    exceeds the bound of every competence the rules still allow: no challenge left out
    can reach it (strictly, so no tie either). Otherwise the full ranking runs.

    ``upper`` and ``lower`` bound each listed challenge's information over the cell
    (``lower`` at the cell's far end): a challenge whose ``upper`` is below the ``top_n``-th
    largest ``lower`` of the pool cannot rank, and the compiled ranking skips its
    information; it visits the competences' lists in ``block_order`` (best first).

    With a historical minimum success rate ``r`` (``rate``), the lists rank only the
    challenges that can meet it somewhere in the cell (``P(success) ≥ r``, i.e. for a > 0
    a capacity at least ``τ = b + logit(r)/a``, taken with a margin): ``u`` bounds the
    information over the part of the cell where the challenge can pass, a challenge that
    cannot pass in the cell is not listed (and counts 0 in ``bound``), and ``lower`` is
    kept only for challenges that surely pass over the whole cell (−inf otherwise, so the
    compiled ranking never skips on the strength of a challenge the filter may drop).
    Whether a listed challenge meets the rate is then decided at the capacity by the
    engine's own expression.
    """

    lo: float
    width: float
    items: npt.NDArray[np.int64]
    bound: npt.NDArray[np.float64]
    upper: npt.NDArray[np.float64]
    lower: npt.NDArray[np.float64]
    block_order: npt.NDArray[np.int64]
    rate: float | None = None


def _information_bound(
    a: npt.NDArray[np.float64], distance: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """``a² σ(a d) σ(−a d)``: the information at distance ``d`` from the difficulty."""
    z = a * distance
    out: npt.NDArray[np.float64] = np.square(a) * np.exp(-z) / np.square(1.0 + np.exp(-z))
    return out


def _shortlist(
    runtime: Runtime, m: int = 8, width: float = 0.1, rate: float | None = None
) -> _Shortlist:
    """The shortlists of ``runtime``'s bank (kept with the bank), for a success rate or none."""
    model = runtime.model
    assert model is not None
    st = runtime.structure

    def build() -> _Shortlist:
        lo, hi = float(model.grid_min), float(model.grid_max)
        n_cells = math.ceil((hi - lo) / width) + 1
        t0 = lo + width * np.arange(n_cells)[:, None]
        t1 = t0 + width
        a = st.a[None, :]
        b = st.b[None, :]
        # the part of the cell where the challenge can meet the rate: [start, t1]
        start = np.broadcast_to(t0, (n_cells, st.n_items))
        surely = np.ones((n_cells, st.n_items), dtype=bool)  # meets it over the whole cell
        never = np.zeros((n_cells, st.n_items), dtype=bool)
        if rate is not None:
            positive = a > 0
            safe_a = np.where(positive, a, 1.0)
            tau = b + math.log(rate / (1.0 - rate)) / safe_a
            margin = 1e-6 * (1.0 + 1.0 / safe_a) + 1e-9 * np.abs(tau)
            # a <= 0 (never in Pix banks): the whole cell, never surely
            start = np.where(positive, np.maximum(t0, tau - margin), t0)
            never = positive & (tau - margin >= t1)
            surely = positive & (tau + margin <= t0)
        d = np.where(b < start, start - b, np.where(b > t1, b - t1, 0.0))
        u = _information_bound(a, d)
        u = u * (1.0 + 1e-9) + 1e-300  # never below the computed information
        u = np.where(never, 0.0, u)
        # information at the far end of the cell (widened a little), never above the computed one
        far = np.maximum(np.abs(b - t0), np.abs(b - t1)) + 1e-9
        low = _information_bound(a, far) * (1.0 - 1e-9)
        low = np.where(surely, low, -np.inf)
        n_comp = len(st.competences)
        items = np.full((n_cells, n_comp * m), -1, dtype=np.int64)
        bound = np.zeros((n_cells, n_comp))
        cells = np.arange(n_cells)
        for c in range(n_comp):  # 16 competences: a loop over lists, not candidates
            members = np.flatnonzero(st.competence == c)
            order = members[np.argsort(-u[:, members], axis=1, kind="stable")]
            k = min(m, len(members))
            block = order[:, :k]
            items[:, c * m : c * m + k] = np.where(u[cells[:, None], block] > 0, block, -1)
            if len(members) > m:
                bound[:, c] = u[cells, order[:, m]]
        cell = cells[:, None]
        listed = items >= 0
        upper = np.where(listed, u[cell, np.maximum(items, 0)], -np.inf)
        lower = np.where(listed, low[cell, np.maximum(items, 0)], -np.inf)
        block_order = np.argsort(-upper[:, ::m], axis=1, kind="stable").astype(np.int64)
        return _Shortlist(lo, width, items, bound, upper, lower, block_order, rate)

    which = "none" if rate is None else float(rate).hex()
    key = f"sim.shortlist/{m}/{width}/{model.grid_min}/{model.grid_max}/{which}"
    shortlist: _Shortlist = runtime.bank.derived(key, build)
    return shortlist


def _fast_path_applies(runtime: Runtime) -> bool:
    """Whether the shortlist ranking can serve these rules (else the engine's, every step).

    It serves the tube or skill rule, the passage and between-competences rules and the
    minimum success rate, without warm-up nor forced competences, when each tube (or
    skill) lies in one competence (what :class:`_Counts` relies on).
    """
    sel = runtime.rules.selection
    assert sel is not None
    st = runtime.structure
    if sel.forced_competences or sel.warm_up_length != 0:
        return False
    group = st.tube if sel.one_question_per_tube else st.skill
    if group is None:
        return False
    first = np.full(int(group.max()) + 1 if len(group) else 0, -1, dtype=np.int64)
    first[group] = st.competence
    return bool(np.all(first[group] == st.competence))


def _group(
    runtime: Runtime, sel: SelectionState
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The pool rule's groups: tubes (one question per tube) or skills (non-answered skills).

    Returns each challenge's group code and the ``(n, n_groups)`` answered groups.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    if sel_rules.one_question_per_tube:
        return st.tube, sel.answered_tubes
    assert st.skill is not None
    return st.skill, sel.answered_skills


def _rank(
    runtime: Runtime,
    sel: SelectionState,
    counts: _Counts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
    fast: bool,
) -> npt.NDArray[np.int64]:
    """The engine's ranking (``candidate_pool`` then ``rank_by_information``) for ``rows``.

    Rows whose top 5 the shortlists prove exact take the fast path (compiled when numba
    is installed, numpy otherwise: the same rankings); the others (and every row when
    ``fast`` is False) run the engine's own functions.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    top_n = sel_rules.top_n
    out = np.full((len(rows), top_n), -1, dtype=np.int64)
    todo = np.ones(len(rows), dtype=bool)
    if fast:
        sl = _shortlist(runtime)
        n_cells = sl.items.shape[0]
        top, proven = _shortlist_top(_kernels(), runtime, sel, counts, rows, capacity)
        proven &= (capacity >= sl.lo) & (capacity < sl.lo + sl.width * n_cells)
        out[proven] = top[proven]
        todo = ~proven
    if todo.any():
        sub = rows[todo]
        part = _take(sel, sub)
        pool = candidate_pool(st, part, sel_rules)
        empty = ~pool.any(axis=1)
        if empty.any():
            raise DataError(
                f"the selection rules leave no challenge for a candidate after {int(part.n_answers[empty][0])} "
                "answers (Pix's AssessmentLackOfChallengesError): the bank is too small for these rules",
                field="bank",
            )
        rate = None
        if sel_rules.minimum_success_rate:
            rate = np.array([sel_rules.minimum_success_rate_at(int(n)) for n in part.n_answers])
        out[todo] = rank_by_information(
            capacity[todo], st, pool, top_n=top_n, minimum_success_rate=rate
        )
    return out


_USE_KERNELS = True  # False: the numpy shortlist ranking even when numba is installed (tests)


def _kernels() -> ModuleType | None:
    """:mod:`pixirt.simulation._kernels` when numba is importable (and allowed), else None."""
    if not _USE_KERNELS:
        return None
    import importlib

    try:
        return importlib.import_module("pixirt.simulation._kernels")
    except ImportError:  # numba is not installed (pip install pixirt[fast])
        return None


_Hits = tuple[
    npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float64]
]


def _shortlist_top(
    kernels: ModuleType | None,
    runtime: Runtime,
    sel: SelectionState,
    counts: _Counts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """The top 5 of each row found in the shortlists, best first, and whether it is proven exact.

    Compiled (``kernels``) or numpy (None): the same rankings and proofs for capacities
    inside the cells (the caller drops the others).

    Without a minimum success rate (or a rate of 0, which every challenge meets): the top
    5 of the shortlisted pool, proven when its 5th information exceeds (strictly) the
    bound of every competence the rules allow. With a rate ``0 < r < 1`` the engine ranks
    the challenges meeting it first: the top 5 of the meeting hits of the rate's lists
    when there are five, proven against those lists' bounds; with fewer (``k``), when the
    lists hold every challenge that can meet the rate in the cell (bounds 0), those ``k``
    then the best ``5 − k`` hits of the plain lists not meeting it, proven against the
    plain bounds. Whether a challenge meets the rate is the engine's expression
    (``probability(θ, a, b) ≥ r``) on the hits. Anything else (a rate of 1 or more) is
    left unproven.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    if not sel_rules.minimum_success_rate:
        return _plain_top(kernels, runtime, sel, counts, rows, capacity)
    top_n = sel_rules.top_n
    k = len(rows)
    top = np.full((k, top_n), -1, dtype=np.int64)
    proven = np.zeros(k, dtype=bool)
    values, which = np.unique(sel.n_answers[rows], return_inverse=True)
    rate_of = np.array([sel_rules.minimum_success_rate_at(int(v)) for v in values])
    rates = rate_of[which.ravel()]
    distinct = np.unique(rates).tolist()
    for r in distinct:
        part = np.flatnonzero(rates == r) if len(distinct) > 1 else np.arange(k)
        if r == 0.0:
            t, p = _plain_top(kernels, runtime, sel, counts, rows[part], capacity[part])
        elif 0.0 < r < 1.0:
            t, p = _rate_top(kernels, runtime, sel, counts, rows[part], capacity[part], r)
        else:
            continue
        top[part], proven[part] = t, p
    return top, proven


def _cells(sl: _Shortlist, capacity: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
    n_cells = sl.items.shape[0]
    return np.clip(((capacity - sl.lo) / sl.width).astype(np.int64), 0, n_cells - 1)


def _plain_top(
    kernels: ModuleType | None,
    runtime: Runtime,
    sel: SelectionState,
    counts: _Counts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    st = runtime.structure
    sl = _shortlist(runtime)
    offsets, hit_row, hit_item, limit = _hits(kernels, runtime, sl, sel, counts, rows, capacity)
    info = reward(capacity[hit_row], st.a[hit_item], st.b[hit_item])
    top_n = _top_n(runtime)
    need = np.full(len(rows), top_n, dtype=np.int64)
    return _top(kernels, offsets, hit_row, hit_item, info, limit, need, top_n)


def _top_n(runtime: Runtime) -> int:
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    return sel_rules.top_n


def _keep(
    offsets: npt.NDArray[np.int64],
    hit_row: npt.NDArray[np.int64],
    hit_item: npt.NDArray[np.int64],
    keep: npt.NDArray[np.bool_],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The hits where ``keep`` (offsets recomputed)."""
    n_rows = len(offsets) - 1
    hit_row, hit_item = hit_row[keep], hit_item[keep]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(np.bincount(hit_row, minlength=n_rows), out=offsets[1:])
    return offsets, hit_row, hit_item


def _rate_top(
    kernels: ModuleType | None,
    runtime: Runtime,
    sel: SelectionState,
    counts: _Counts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
    rate: float,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    st = runtime.structure
    top_n = _top_n(runtime)
    k = len(rows)
    slr = _shortlist(runtime, rate=rate)
    offsets, hit_row, hit_item, limit = _hits(kernels, runtime, slr, sel, counts, rows, capacity)
    # rank_by_information's filter, element by element
    meets = probability(capacity[hit_row], st.a[hit_item], st.b[hit_item]) >= rate
    offsets, hit_row, hit_item = _keep(offsets, hit_row, hit_item, meets)
    info = reward(capacity[hit_row], st.a[hit_item], st.b[hit_item])
    need = np.full(k, top_n, dtype=np.int64)
    top, proven = _top(kernels, offsets, hit_row, hit_item, info, limit, need, top_n)
    n_meet = np.minimum(np.diff(offsets), top_n)
    # fewer than top_n meet it, and the lists hold all that can: those first, then the rest
    mixed = np.flatnonzero((n_meet < top_n) & (limit <= 0.0))
    if len(mixed):
        sub_rows, sub_cap = rows[mixed], capacity[mixed]
        sl = _shortlist(runtime)
        off2, row2, item2, lim2 = _hits(kernels, runtime, sl, sel, counts, sub_rows, sub_cap)
        fails = ~(probability(sub_cap[row2], st.a[item2], st.b[item2]) >= rate)
        off2, row2, item2 = _keep(off2, row2, item2, fails)
        info2 = reward(sub_cap[row2], st.a[item2], st.b[item2])
        first = n_meet[mixed]
        rest, proven2 = _top(kernels, off2, row2, item2, info2, lim2, top_n - first, top_n)
        col = np.arange(top_n)[None, :]
        shifted = np.take_along_axis(rest, np.maximum(col - first[:, None], 0), axis=1)
        top[mixed] = np.where(col < first[:, None], top[mixed], shifted)
        proven[mixed] = proven2
    return top, proven


def _hits(
    kernels: ModuleType | None,
    runtime: Runtime,
    sl: _Shortlist,
    sel: SelectionState,
    counts: _Counts,
    rows: npt.NDArray[np.intp],
    capacity: npt.NDArray[np.float64],
) -> _Hits:
    """The shortlist challenges in each row's pool, and its limit.

    Flat: row ``i``'s hits are ``hit_item[offsets[i]:offsets[i + 1]]`` (``hit_row`` local
    row numbers); ``limit`` is the largest bound of the competences the rules allow.
    Compiled: only the hits whose bounds let them reach the top ``top_n``; numpy: all.
    """
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    g = _cells(sl, capacity)
    if kernels is None:
        return _hits_numpy(runtime, sl, sel, counts, rows, g)
    group, answered_groups = _group(runtime, sel)
    offsets, hit_row, hit_item, limit = kernels.shortlist_hits(
        np.asarray(rows, dtype=np.int64),
        g,
        sl.items,
        sl.upper,
        sl.lower,
        sl.block_order,
        sl.bound,
        st.competence,
        group,
        sel.excluded,
        counts.alerted,
        answered_groups,
        sel.seen_competences,
        counts.avail_comp,
        counts.pool_comp,
        sel.recent_competences,
        sel_rules.challenges_between_same_competence,
        sel_rules.passage_by_all_competences,
        sel_rules.top_n,
    )
    return offsets, hit_row, hit_item, limit


def _top(
    kernels: ModuleType | None,
    offsets: npt.NDArray[np.int64],
    hit_row: npt.NDArray[np.int64],
    hit_item: npt.NDArray[np.int64],
    info: npt.NDArray[np.float64],
    limit: npt.NDArray[np.float64],
    need: npt.NDArray[np.int64],
    top_n: int,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Each row's best ``top_n`` hits (ties in bank order), and whether its first ``need`` are proven.

    Proven: that many hits, none other tied with the last of them, above ``limit``.
    """
    if kernels is not None:
        top, proven = kernels.top_of_hits(offsets, hit_item, info, limit, need, top_n)
        return top, proven
    k = len(offsets) - 1
    order = np.lexsort((hit_item, -info, hit_row))
    rank = np.arange(len(order)) - offsets[hit_row[order]]
    first = rank < top_n
    top = np.full((k, top_n), -1, dtype=np.int64)
    top[hit_row[order][first], rank[first]] = hit_item[order][first]
    enough = np.diff(offsets) >= need
    threshold = np.full(k, np.inf)
    threshold[enough] = info[order][(offsets[:-1] + need - 1)[enough]]
    ties = np.bincount(hit_row[info >= threshold[hit_row]], minlength=k)
    proven = enough & (ties == need) & (threshold > limit)
    return top, np.asarray(proven, dtype=bool)


def _hits_numpy(
    runtime: Runtime,
    sl: _Shortlist,
    sel: SelectionState,
    counts: _Counts,
    rows: npt.NDArray[np.intp],
    g: npt.NDArray[np.int64],
) -> _Hits:
    """:func:`_hits` in numpy: every shortlist challenge of the pool."""
    sel_rules = runtime.rules.selection
    assert sel_rules is not None
    st = runtime.structure
    group, answered_groups = _group(runtime, sel)
    k = len(rows)
    ar = np.arange(k)[:, None]
    cand = sl.items[g]
    valid = cand >= 0
    cpos = np.where(valid, cand, 0)
    comp_c = st.competence[cpos]
    n_comp = len(st.competences)
    seen = sel.seen_competences[rows]
    avail_comp = counts.avail_comp[rows] > 0
    passage: npt.NDArray[np.bool_] = np.zeros(k, dtype=bool)
    if sel_rules.passage_by_all_competences:
        passage = np.asarray((avail_comp & ~seen).any(axis=1), dtype=bool)
    in_pool = valid & ~sel.excluded[rows[:, None], cpos]
    by_group = ~answered_groups[rows[:, None], group[cpos]]
    by_comp = ~seen[ar, comp_c]
    in_pool &= np.where(passage[:, None], by_comp, by_group)
    allowed = np.where(passage[:, None], ~seen, True)
    n_recent = sel_rules.challenges_between_same_competence
    if n_recent > 0 and sel.recent_competences.shape[1]:
        recent = sel.recent_competences[rows][:, -n_recent:]
        recent_mask = np.zeros((k, n_comp + 1), dtype=bool)
        recent_mask[
            np.repeat(np.arange(k), recent.shape[1]),
            np.where(recent < 0, n_comp, recent).ravel(),
        ] = True
        recent_mask = recent_mask[:, :n_comp]
        pool_comp = counts.pool_comp[rows] > 0
        left = np.where(passage[:, None], avail_comp & ~seen, pool_comp)
        kept_any: npt.NDArray[np.bool_] = np.asarray((left & ~recent_mask).any(axis=1), dtype=bool)
        blocked = kept_any[:, None] & recent_mask
        in_pool &= ~blocked[ar, comp_c]
        allowed &= ~blocked
    hit_r, hit_c = np.nonzero(in_pool)
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(in_pool.sum(axis=1), out=offsets[1:])
    limit = np.where(allowed, sl.bound[g], 0.0).max(axis=1)
    return offsets, hit_r.astype(np.int64), cpos[hit_r, hit_c].astype(np.int64), limit


@dataclass(slots=True)
class _Counts:
    """Per candidate, the challenges still available, kept up to date as answers come.

    ``avail_group`` (per group of the pool rule: tube with one question per tube, skill
    otherwise) and ``avail_comp`` (per competence) count the challenges not excluded;
    ``pool_comp`` those not excluded whose group is not answered yet (the pool of the
    one-question-per-tube or non-answered-skills rule). They decide, without a pass over
    the whole bank, the "unless that leaves nothing" fallbacks of the passage and
    between-competences rules.

    ``alerted`` marks the candidates with exclusions beyond their answered challenges (live
    alerts). For the others the fast path's pool rules already drop every excluded
    challenge (its tube and skill are answered, and its competence seen), so the compiled
    ranking reads their ``(n_items,)`` exclusion row only for ``alerted`` candidates.
    """

    avail_group: npt.NDArray[np.int64]
    avail_comp: npt.NDArray[np.int64]
    pool_comp: npt.NDArray[np.int64]
    alerted: npt.NDArray[np.bool_]

    @classmethod
    def start(cls, st: Any, n: int, group: npt.NDArray[np.int64], n_groups: int) -> _Counts:
        per_group = np.bincount(group, minlength=n_groups).astype(np.int64)
        per_comp = np.bincount(st.competence, minlength=len(st.competences)).astype(np.int64)
        return cls(
            np.tile(per_group, (n, 1)),
            np.tile(per_comp, (n, 1)),
            np.tile(per_comp, (n, 1)),
            np.zeros(n, dtype=bool),
        )


def _run_v3(
    runtime: Runtime, cands: Candidates, responder: Responder, seed: int, *, fast: bool = True
) -> pd.DataFrame:
    rules = runtime.rules
    sel_rules = rules.selection
    model = runtime.model
    assert sel_rules is not None and model is not None
    st = runtime.structure
    bank = runtime.bank
    n = len(cands)
    idx = cands.index
    length = sel_rules.test_length
    inc = responder.incidents(seed, idx)
    limit = np.where(inc.abort_after >= 0, np.minimum(inc.abort_after, length), length)
    sel = SelectionState.start(st, n, recent=sel_rules.challenges_between_same_competence)
    fast = fast and _fast_path_applies(runtime)
    if sel_rules.one_question_per_tube or st.skill is None:
        group, n_groups = st.tube, len(st.tubes)
    else:
        group, n_groups = st.skill, len(st.skills)
    counts = _Counts.start(st, n, group, n_groups)
    cap = model.initial_state(n)  # updated in place by _capacity_step
    log_factor = (
        runtime.fast.log_factor
        if runtime.fast is not None and runtime.fast.log_factor is not None
        else model.log_likelihood_table(st.a, st.b)
    )
    width = length + 8
    asked = np.full((n, width), -1, dtype=np.int64)
    status = np.full((n, width), -2, dtype=np.int8)  # -2 unused, -1 alert, 0 ko, 1 ok
    n_asked = np.zeros(n, dtype=np.int64)
    n_ans = np.zeros(n, dtype=np.int64)
    active = limit > n_ans
    top_n = sel_rules.top_n
    while active.any():
        rows = np.flatnonzero(active)
        if n_asked.max() >= width:  # many live alerts: widen the tables
            asked = np.pad(asked, ((0, 0), (0, width)), constant_values=-1)
            status = np.pad(status, ((0, 0), (0, width)), constant_values=-2)
            width *= 2
        ranked = _rank(runtime, sel, counts, rows, cap.capacity[rows], fast)
        n_avail = (ranked >= 0).sum(axis=1)
        step = n_asked[rows]
        draws = streams.uniform(
            seed, "v3.pick", idx[rows][:, None], step[:, None] * _PICK_STRIDE + np.arange(top_n)
        )
        rank = pick_rank(draws, sel_rules.pick_probability, n_avail)
        chosen = ranked[np.arange(len(rows)), rank]
        asked[rows, step] = chosen
        alert = responder.live_alerts(seed, idx[rows], step)
        theta = _true_ability(_subset(cands, rows), responder, st.competence[chosen], runtime)
        p = models.probability(theta, bank.a[chosen], bank.b[chosen], bank.c[chosen])
        ok = responder.answers(seed, idx[rows], step, p)
        status[rows, step] = np.where(alert, -1, ok.astype(np.int8))
        for r, item in zip(rows[alert].tolist(), chosen[alert].tolist(), strict=True):
            # a validated live alert: the challenge and its skill leave the pool (rare: a loop over alerts)
            gone = np.zeros(st.n_items, dtype=bool)
            gone[item] = True
            if st.skill is not None:
                gone |= st.skill == st.skill[item]
            newly = gone & ~sel.excluded[r]
            n_comp = len(st.competences)
            n_groups = counts.avail_group.shape[1]
            counts.avail_group[r] -= np.bincount(group[newly], minlength=n_groups)
            counts.avail_comp[r] -= np.bincount(st.competence[newly], minlength=n_comp)
            answered_group = sel.answered_tubes if group is st.tube else sel.answered_skills
            open_group = newly & ~answered_group[r][group]
            counts.pool_comp[r] -= np.bincount(st.competence[open_group], minlength=n_comp)
            sel.excluded[r] |= gone
            counts.alerted[r] = True
        answered = rows[~alert]
        if len(answered):
            ch = chosen[~alert]
            # SelectionState.record, in place: the chosen challenges were in the pool (not excluded)
            sel.excluded[answered, ch] = True
            grp, comp = group[ch], st.competence[ch]
            counts.avail_group[answered, grp] -= 1
            counts.avail_comp[answered, comp] -= 1
            # the challenge leaves the pool, then its group is answered: the rest of it too
            counts.pool_comp[answered, comp] -= 1 + counts.avail_group[answered, grp]
            sel.answered_tubes[answered, st.tube[ch]] = True
            if st.skill is not None and sel.answered_skills.shape[1]:
                sel.answered_skills[answered, st.skill[ch]] = True
            warm = sel.n_answers[answered] >= sel_rules.warm_up_length
            sel.seen_competences[answered[warm], st.competence[ch][warm]] = True
            if sel.recent_competences.shape[1]:
                sel.recent_competences[answered] = np.concatenate(
                    [sel.recent_competences[answered, 1:], st.competence[ch][:, None]], axis=1
                )
            sel.n_answers[answered] += 1
            _capacity_step(model, log_factor, cap, answered, ch, ok[~alert])
            n_ans[answered] += 1
        n_asked[rows] += 1
        active = limit > n_ans

    # jury neutralizations, decided per asked step
    neutral = responder.neutralized(seed, idx[:, None], np.arange(asked.shape[1])[None, :]) & (
        status >= 0
    )
    aborted = inc.abort_after >= 0
    aborted &= n_ans < length
    clean = ~aborted & ~inc.fraud & ~neutral.any(axis=1)
    cols = _base_frame(cands)
    ids = st.item_ids
    cols["challenges"] = _ragged(ids, asked, asked >= 0)
    cols["statuses"] = _ragged(_STATUS_NAMES, status + 1, status >= -1)
    cols["neutralized"] = _ragged(ids, asked, neutral)
    cols["abort_reason"] = np.where(aborted, inc.abort_reason, "").astype(str)
    cols["fraud"] = inc.fraud
    v3 = rules.v3
    capacity = cap.capacity.copy()
    error_rate = cap.error_rate.copy()
    n_answers = n_ans.copy()
    decided = scale.outcomes(capacity, v3, n_answers=n_answers)
    pix, mesh = decided.pix_score.copy(), decided.mesh_index.copy()
    status_col = decided.outcome_names()
    comment = decided.comment_names()
    mesh_names = np.array([m.name for m in v3.meshes], dtype=object)
    global_level = mesh_names[decided.global_mesh]
    levels = {
        code: np.where(lv >= 0, lv, np.nan)
        for code in v3.competence_intervals
        for lv in [scale.competence_levels(capacity, v3, code).astype(np.float64)]
    }
    for i in np.flatnonzero(~clean):  # the exact scorer for every unusual session
        res = _score_exact(
            runtime, cands, int(i), asked[i], status[i], neutral[i], inc, bool(aborted[i])
        )
        capacity[i], error_rate[i] = res.capacity, res.error_rate
        pix[i], mesh[i] = res.pix_score, -1 if res.mesh_index is None else res.mesh_index
        status_col[i], comment[i], n_answers[i] = res.status, res.comment, res.n_answers
        global_level[i] = res.global_level
        for code in levels:
            lv = res.competences[code].level if code in res.competences else None
            levels[code][i] = np.nan if lv is None else lv
    cols["status"] = status_col.astype(str)
    cols["comment"] = comment
    cols["pix_score"] = pix.astype(np.int64)
    cols["n_answers"] = n_answers
    cols["capacity"] = capacity
    cols["error_rate"] = error_rate
    cols["mesh_index"] = mesh.astype(np.int64)
    cols["global_level"] = global_level.astype(str)
    for code, lv in levels.items():
        cols[f"cert_level_{code}"] = lv
    return pd.DataFrame(cols)


def _capacity_step(
    model: CapacityModel,
    log_factor: npt.NDArray[np.float64],
    cap: CapacityState,
    rows: npt.NDArray[np.intp],
    items: npt.NDArray[np.int64],
    ok: npt.NDArray[np.bool_],
) -> None:
    """``model.update`` of ``rows`` (one answer each), in place in ``cap``; the other rows keep theirs.

    The same numpy operations as :meth:`CapacityModel.update` on the rows concerned (its
    reductions are row by row, so a row's numbers do not depend on the others), with the
    answers' log-likelihood factors taken from ``log_factor`` (``(2, n_items, n_grid)``,
    :meth:`CapacityModel.log_likelihood_table`, equal to what ``update`` computes) and fewer
    temporaries: the same doubles, without a pass over the inactive rows.
    """
    everyone = len(rows) == cap.n_candidates
    grid = model.grid[None, :]
    ll = cap.log_likelihood if everyone else cap.log_likelihood[rows]
    ll += log_factor[ok.astype(np.intp), items]
    prev = cap.capacity[rows]
    # posterior(): log-likelihood + re-centred normal prior, normalised
    post = grid - prev[:, None]
    np.square(post, out=post)
    post /= 2.0 * model.prior_variance
    np.subtract(ll, post, out=post)
    post -= post.max(axis=1, keepdims=True)
    np.exp(post, out=post)
    post /= post.sum(axis=1, keepdims=True)
    raw = np.sum(post * grid, axis=1)
    v = np.full(len(rows), model.variation_percent)
    if model.variation_percent_until is not None:
        v = np.where(cap.n_answers[rows] <= model.variation_percent_until, v, 0.0)
    new = limit_variation(prev, raw, v)
    spread = grid - new[:, None]
    np.square(spread, out=spread)
    spread *= post
    var = np.sum(spread, axis=1)
    err = np.sqrt(np.maximum(var - model.correction, 0.0))
    if not everyone:
        cap.log_likelihood[rows] = ll
    cap.capacity[rows] = new
    cap.error_rate[rows] = err
    cap.raw_capacity[rows] = raw
    cap.n_answers[rows] += 1


def _ragged(
    names: npt.NDArray[np.object_], codes: npt.NDArray[Any], keep: npt.NDArray[np.bool_]
) -> list[list[Any]]:
    """Per row, ``names[codes[row][keep[row]]]`` as a list (one gather, then list slices)."""
    flat = names[codes[keep]].tolist()
    ends = np.cumsum(keep.sum(axis=1)).tolist()
    return [flat[lo:hi] for lo, hi in zip([0, *ends[:-1]], ends, strict=True)]


def _subset(cands: Candidates, rows: npt.NDArray[np.intp]) -> Candidates:
    return replace(
        cands,
        index=cands.index[rows],
        group=cands.group[rows],
        theta=cands.theta[rows],
        competence_theta=cands.competence_theta[rows],
    )


def _score_exact(
    runtime: Runtime,
    cands: Candidates,
    i: int,
    asked: npt.NDArray[np.int64],
    status: npt.NDArray[np.int8],
    neutral: npt.NDArray[np.bool_],
    inc: Any,
    aborted: bool,
) -> Any:
    st = runtime.structure
    keep = status >= -1
    ids = [str(st.item_ids[k]) for k in asked[keep]]
    state = CatState(
        algorithm=runtime.rules.algorithm,
        rules_id=runtime.rules.id,
        rules_hash=runtime.rules.hash,
        bank_hash=runtime.bank.hash,
        seed=0,
        candidate=Candidate(f"c{int(cands.index[i])}", int(cands.index[i])),
        profile=None,
        plan=(),
        asked=tuple(ids),
        statuses=tuple(_STATUS[int(s)] for s in status[keep]),
        neutralized=tuple(str(st.item_ids[k]) for k in asked[neutral]),
        abort_reason=str(inc.abort_reason[i]) if aborted else None,
        runtime=runtime,
    )
    cert = engine.certification(state)
    if bool(inc.fraud[i]):
        cert = replace(cert, fraud=True)
    return score(cert, runtime.rules, bank=runtime.bank)


# ---------------------------------------------------------------------- v2
def _v2_profiles(cands: Candidates, runtime: Runtime) -> V2Profiles:
    """The sampled profiles as :class:`~pixirt.cat.v2.V2Profiles` (columns in code order)."""
    assert cands.levels is not None and cands.pix is not None
    assert cands.validated is not None and cands.positioning_answers is not None
    st = runtime.structure
    order = sorted(range(len(cands.competences)), key=lambda k: code_key(cands.competences[k]))
    # the bank's skill codes → the sampled columns (every bank skill is a sampled column)
    column = {str(x): k for k, x in enumerate(cands.skill_names)}
    take = np.array([column[name] for name in st.skills], dtype=np.int64)
    n = len(cands)
    return V2Profiles(
        competences=tuple(cands.competences[k] for k in order),
        level=np.asarray(cands.levels[:, order], dtype=np.int64),
        pix=np.asarray(cands.pix[:, order], dtype=np.int64),
        validated=cands.validated[:, take],
        answered=_BankSkills(cands.positioning_answers, take),
        extra_row=np.zeros(0, dtype=np.int64),
        extra_item=np.zeros(0, dtype=np.int64),
        index=np.asarray(cands.index, dtype=np.int64),
        accessibility=np.zeros(n, dtype=bool),
    )


def _run_v2(runtime: Runtime, cands: Candidates, responder: Responder, seed: int) -> pd.DataFrame:
    """A chunk of v2 certifications: the engine's batch planning and scoring, drawn answers."""
    rules = runtime.rules
    v2 = rules.v2
    st = runtime.structure
    bank = runtime.bank
    tables = runtime.v2_tables
    assert tables is not None
    n = len(cands)
    idx = cands.index
    inc = responder.incidents(seed, idx)
    profiles = _v2_profiles(cands, runtime)
    planned = v2_rules.plan(profiles, st, tables, v2, seed=seed)
    items, length = planned.items, planned.length
    width = items.shape[1]
    steps = np.arange(width)
    valid = steps[None, :] < length[:, None]
    pos = np.where(valid, items, 0)
    # answers: drawn at each planned challenge, the first ``abort_after`` given
    theta = _true_ability_grid(cands, responder, st.competence[pos], runtime)
    p = models.probability(theta, bank.a[pos], bank.b[pos], bank.c[pos])
    ok = responder.answers(seed, idx[:, None], steps[None, :], p) & valid
    limit = inc.abort_after
    n_given = np.where(limit >= 0, np.minimum(limit, length), length)
    answered = steps[None, :] < n_given[:, None]
    neutral = answered & responder.neutralized(seed, idx[:, None], steps[None, :])
    aborted = (limit >= 0) & (limit < length)
    comp_col = np.full(len(st.competences), -1, dtype=np.int64)
    where = {c: k for k, c in enumerate(profiles.competences)}
    for k, code in enumerate(st.competences):
        comp_col[k] = where.get(code, -1)
    scores = v2_rules.score_batch(
        v2,
        level=profiles.level,
        pix=profiles.pix,
        competence=comp_col[st.competence[pos]],
        valid=valid,
        answered=answered,
        correct=ok & answered,
        neutralized=neutral,
        skipped_automatically=valid & ~answered,
        qrocm_dep=tables.qrocm_dep[pos],
        fraud=inc.fraud,
        cancelled=np.zeros(n, dtype=bool),
        technical_abort=aborted & (inc.abort_reason == "technical"),
        competences=profiles.competences,
        challenge_ids=_LazyIds(st.item_ids, items),
    )
    certifiable = planned.certifiable
    cols = _base_frame(cands)
    for k, code in enumerate(profiles.competences):
        cols[f"level_{code}"] = profiles.level[:, k].astype(cands.levels.dtype)  # type: ignore[union-attr]
        cols[f"pix_{code}"] = profiles.pix[:, k].astype(cands.pix.dtype)  # type: ignore[union-attr]
    cols["fraud"] = inc.fraud
    ids = st.item_ids
    status_code = np.where(answered, ok.astype(np.int8), -1)
    cols["challenges"] = _ragged(ids, pos, valid)
    cols["statuses"] = _ragged(_STATUS_NAMES, status_code + 1, valid)
    cols["neutralized"] = _ragged(ids, pos, neutral)
    cols["abort_reason"] = np.where(aborted, inc.abort_reason, "").astype(str)
    status = scores.outcome_names()
    comment = scores.comment_names()
    status[~certifiable] = "not_certifiable"
    comment[~certifiable] = None
    cols["status"] = status.astype(str)
    cols["comment"] = comment
    cols["pix_score"] = np.where(certifiable, scores.pix_score, 0).astype(np.int64)
    cols["n_answers"] = np.where(certifiable, n_given, 0).astype(np.int64)
    cols["reproducibility_rate"] = np.where(
        certifiable, scores.reproducibility_rate.astype(np.float64), np.nan
    )
    error = scores.outcome == v2_rules.OUTCOMES.index("error")
    for k, c in enumerate(profiles.competences):
        lv = np.where(scores.tested[:, k], scores.level[:, k], np.nan).astype(np.float64)
        lv[~certifiable | error] = np.nan
        cols[f"cert_level_{c}"] = lv
    order = [c for c in cols if not c.startswith("cert_level_")] + [
        f"cert_level_{c}" for c in cands.competences
    ]
    return pd.DataFrame({c: cols[c] for c in order})


class _BankSkills:
    """The sampled positioning answers asked by the bank's skill codes."""

    def __init__(self, answers: PositioningAnswers, take: npt.NDArray[np.int64]) -> None:
        self._answers, self._take = answers, take

    def __call__(
        self, rows: npt.NDArray[np.int64], skills: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        return self._answers(rows, self._take[skills])


class _LazyIds:
    """Per row, the challenge ids of a plan (read only for the rare refused certification)."""

    def __init__(self, ids: npt.NDArray[np.object_], items: npt.NDArray[np.int64]) -> None:
        self._ids, self._items = ids, items

    def __getitem__(self, row: int) -> list[str]:
        return [str(self._ids[i]) if i >= 0 else "" for i in self._items[row].tolist()]

    def __len__(self) -> int:
        return int(self._items.shape[0])


def _true_ability_grid(
    cands: Candidates,
    responder: Responder,
    competence_code: npt.NDArray[np.int64],
    runtime: Runtime,
) -> npt.NDArray[np.float64]:
    """:func:`_true_ability` for a ``(n, width)`` grid of bank competence codes."""
    if responder.ability == "general":
        return np.broadcast_to(
            np.asarray(cands.theta, dtype=np.float64)[:, None], competence_code.shape
        )
    names = runtime.structure.competences
    col = np.array([cands.competences.index(names[int(k)]) for k in range(len(names))])
    return np.asarray(
        cands.competence_theta[np.arange(len(cands))[:, None], col[competence_code]],
        dtype=np.float64,
    )


# ---------------------------------------------------------------------- output
def _write_parquet(frame: pd.DataFrame, path: Path) -> Path:
    """Write in fixed row groups (independent of chunking) through a temporary file, then rename."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pixirt.item_bank import _atomic_write

    table = pa.Table.from_pandas(frame, preserve_index=False)

    def write(tmp: Path) -> None:
        pq.write_table(table, tmp, row_group_size=_ROW_GROUP, compression="zstd")

    _atomic_write(path, write)
    return path


def _chunks(start: int, n: int, size: int) -> Iterator[tuple[int, int]]:
    for lo in range(start, start + n, size):
        yield lo, min(size, start + n - lo)
