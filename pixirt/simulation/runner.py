"""Whole certifications for simulated populations, vectorized across candidates.

:func:`simulate` draws candidates, their answers and incidents, and runs them through
the engine's own rules over arrays — nothing here selects, estimates or scores:

- **v3**: a chunk is a :class:`pixirt.cat.batch.SessionBatch` stepped together (pool
  rules, ranking, pick, EAP update) with the very draws the engine uses for the same
  ``(seed, candidate index, step)`` (:mod:`pixirt.streams`), then scored by
  :meth:`~pixirt.cat.batch.SessionBatch.results`;
- **v2**: the chunk's profiles are planned by :func:`pixirt.cat.v2.plan` and scored by
  :func:`pixirt.cat.v2.score_batch`; a certification Pix's scoring refuses (the sanity
  contract, a missing level rule, ...) is an ``error`` row with its reason in
  ``comment``: the run never stops on one candidate.

The engine (:mod:`pixirt.cat.engine`) runs a session as a batch of one of the same
functions, so any simulated candidate replays one by one through it
(:func:`replay_candidate`) with the identical challenges and result, and the results
are identical bit for bit whatever ``chunk_size``.

Outputs: :class:`SimulationResult` holds one row per candidate (a pandas DataFrame
with Arrow list columns for the challenges and statuses); with ``out`` it is written to
Parquet in fixed row groups, so the file is byte-identical for any ``chunk_size``. On a
Dask cluster (``client=``) the workers write the rows to a Parquet dataset instead
(:mod:`pixirt.simulation.distributed`), read back lazily.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import models
from pixirt.cat import engine, incidents
from pixirt.cat import v2 as v2_rules
from pixirt.cat.batch import SessionBatch
from pixirt.cat.engine import Runtime, build_runtime
from pixirt.cat.incidents import IssueReport, Resolutions
from pixirt.cat.profile import code_key
from pixirt.cat.scoring import score
from pixirt.cat.selection import check_test_length
from pixirt.cat.state import Candidate, CatState
from pixirt.cat.v2 import V2Profiles
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
_STATUS_NAMES = np.array([None, *incidents.STATUSES], dtype=object)  # by status code + 1
_V3_STATUS_NAMES = np.array([None, "ko", "ok"], dtype=object)  # by the batch's code + 1
_OK = incidents.STATUSES.index("ok")


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
    runtime = build_runtime(bank, rules)  # checks the bank against the rules first
    if rules.selection is not None:
        check_test_length(runtime.structure, rules.selection)
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


def _drawn_reports(
    responder: Responder, rules: RuleSet, seed: int, index: int, state: CatState
) -> list[IssueReport]:
    """The issue reports :func:`simulate` draws for one candidate, in its order."""
    codes = np.array(
        [[-1 if x is None else incidents.STATUSES.index(x) for x in state.statuses]],
        dtype=np.int64,
    ).reshape(1, -1)
    steps = np.arange(codes.shape[1])
    on_cell = responder.challenge_reports(seed, np.array([[index]]), steps[None, :], codes)[0]
    cats, subs = incidents.report_names(rules, list(responder.issue_rates))
    out = [
        IssueReport(cats[k], subs[k], state.asked[step])
        for step, k in enumerate(on_cell.tolist())
        if k >= 0
    ]
    per_session = responder.session_reports(seed, np.array([index]))[0]
    cats_s, subs_s = incidents.report_names(
        rules, list(responder.session_issue_rates), field="session_issue_rates"
    )
    out += [IssueReport(cats_s[k], subs_s[k]) for k in np.flatnonzero(per_session).tolist()]
    return out


# ====================================================================== chunks
def _true_ability(
    cands: Candidates,
    responder: Responder,
    competence_code: npt.NDArray[np.int64],
    runtime: Runtime,
) -> npt.NDArray[np.float64]:
    """True ability answering challenges of the bank competences ``competence_code``.

    ``competence_code`` is ``(n,)`` (one challenge per candidate row) or ``(n, width)``.
    """
    code = np.asarray(competence_code)
    rows = np.arange(len(cands)).reshape((-1,) + (1,) * (code.ndim - 1))
    if responder.ability == "general":
        theta = np.asarray(cands.theta, dtype=np.float64).reshape(rows.shape)
        return np.asarray(np.broadcast_to(theta, code.shape), dtype=np.float64)
    names = runtime.structure.competences
    col = np.array([cands.competences.index(names[int(k)]) for k in range(len(names))])
    return np.asarray(cands.competence_theta[rows, col[code]], dtype=np.float64)


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


def _run_v3(
    runtime: Runtime, cands: Candidates, responder: Responder, seed: int, *, fast: bool = True
) -> pd.DataFrame:
    """A chunk of v3 certifications: the engine's batch, stepped with drawn answers and incidents."""
    st = runtime.structure
    bank = runtime.bank
    idx = cands.index
    inc = responder.incidents(seed, idx)
    leaves = inc.abort_after >= 0  # the candidate leaves after `abort_after` answers
    batch = SessionBatch.start(runtime, idx, seed=seed, fast=fast)
    active = ~batch.over() & ~(leaves & (batch.n_answers >= inc.abort_after))
    while active.any():
        rows = np.flatnonzero(active)
        choice = batch.choose(rows)
        if (choice.chosen < 0).any():
            row = int(rows[choice.chosen < 0][0])
            raise DataError(
                f"the selection rules leave no challenge for a candidate after {int(batch.n_answers[row])} "
                "answers (Pix's AssessmentLackOfChallengesError): the bank is too small for these rules",
                field="bank",
            )
        chosen = choice.chosen
        step = batch.n_asked[rows]
        alert = responder.live_alerts(seed, idx[rows], step)
        theta = _true_ability(_subset(cands, rows), responder, st.competence[chosen], runtime)
        p = models.probability(theta, bank.a[chosen], bank.b[chosen], bank.c[chosen])
        ok = responder.answers(seed, idx[rows], step, p)
        batch.withdraw(rows[alert], chosen[alert])
        batch.record(rows[~alert], chosen[~alert], ok[~alert])
        active = ~batch.over() & ~(leaves & (batch.n_answers >= inc.abort_after))

    asked, status = batch.asked, batch.status
    # jury neutralizations, decided per asked step
    neutral = responder.neutralized(seed, idx[:, None], np.arange(asked.shape[1])[None, :]) & (
        status >= 0
    )
    aborted = leaves & ~batch.over()
    abort_reason = np.where(aborted, inc.abort_reason, "").astype(object)
    fraud, cancelled = _jury(cands, inc.fraud)
    res = batch.results(
        neutralized=neutral,
        abort_reason=abort_reason,
        fraud=fraud,
        cancelled=cancelled,
        ids=cands.candidate_ids,
    )
    cols = _base_frame(cands)
    ids = st.item_ids
    cols["challenges"] = _ragged(ids, asked, asked >= 0)
    cols["statuses"] = _ragged(_V3_STATUS_NAMES, status + 1, status >= -1)
    cols["neutralized"] = _ragged(ids, asked, neutral)
    cols["abort_reason"] = abort_reason.astype(str)
    # issue reports: Pix's v3 finalization resolves none, they only call for a human jury
    width = asked.shape[1]
    answered = status >= 0
    codes = np.where(answered, np.where(status == 1, _OK, incidents.STATUSES.index("ko")), -1)
    feats = np.where(asked >= 0, st.features[np.maximum(asked, 0)], 0)
    review, _, n_auto, reports = _issue_reports(
        runtime.rules,
        responder,
        seed,
        idx,
        np.arange(width),
        codes,
        feats,
        neutral,
        st.item_ids[np.maximum(asked, 0)],
    )
    cols["issue_reports"] = reports
    cols["n_auto_neutralized"] = n_auto
    cols["jury_review"] = review.review
    cols["fraud"] = fraud
    cols["status"] = res.status.astype(str)
    cols["comment"] = res.comment
    cols["pix_score"] = res.pix_score
    cols["n_answers"] = res.n_answers
    cols["capacity"] = res.capacity
    cols["error_rate"] = res.error_rate
    cols["mesh_index"] = res.mesh_index
    cols["global_level"] = np.where(pd.isna(res.global_level), "", res.global_level).astype(str)
    for code, lv in res.levels.items():
        cols[f"cert_level_{code}"] = lv
    return pd.DataFrame(cols)


def _jury(
    cands: Candidates, drawn_fraud: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Fraud and cancellation per candidate: the drawn incidents and the real jury decisions."""
    fraud = np.asarray(drawn_fraud, dtype=bool)
    if cands.fraud is not None:
        fraud = fraud | cands.fraud
    cancelled = (
        np.zeros(len(cands), dtype=bool) if cands.cancelled is None else cands.cancelled.copy()
    )
    return fraud, cancelled


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


def _v2_profiles(cands: Candidates, runtime: Runtime) -> V2Profiles:
    """The sampled profiles as :class:`~pixirt.cat.v2.V2Profiles` (columns in code order)."""
    assert cands.levels is not None and cands.pix is not None
    assert cands.validated is not None and cands.positioning_answers is not None
    st = runtime.structure
    order = sorted(range(len(cands.competences)), key=lambda k: code_key(cands.competences[k]))
    # the bank's skill codes → the sampled columns (every bank skill is a sampled column)
    column = {str(x): k for k, x in enumerate(cands.skill_names)}
    take = np.array([column[name] for name in st.skills], dtype=np.int64)
    return V2Profiles(
        competences=tuple(cands.competences[k] for k in order),
        level=np.asarray(cands.levels[:, order], dtype=np.int64),
        pix=np.asarray(cands.pix[:, order], dtype=np.int64),
        validated=cands.validated[:, take],
        answered=_BankSkills(cands.positioning_answers, take),
        extra_row=np.zeros(0, dtype=np.int64),
        extra_item=np.zeros(0, dtype=np.int64),
        index=np.asarray(cands.index, dtype=np.int64),
    )


def _run_v2(runtime: Runtime, cands: Candidates, responder: Responder, seed: int) -> pd.DataFrame:
    """A chunk of v2 certifications: the engine's batch planning and scoring, drawn answers."""
    rules = runtime.rules
    v2 = rules.v2
    st = runtime.structure
    bank = runtime.bank
    tables = runtime.v2_tables
    assert tables is not None
    idx = cands.index
    inc = responder.incidents(seed, idx)
    profiles = _v2_profiles(cands, runtime)
    fraud, cancelled = _jury(cands, inc.fraud)
    planned = v2_rules.plan(profiles, st, tables, v2, seed=seed)
    items, length = planned.items, planned.length
    width = items.shape[1]
    steps = np.arange(width)
    valid = steps[None, :] < length[:, None]
    pos = np.where(valid, items, 0)
    # answers: drawn at each planned challenge, the first ``abort_after`` given
    theta = _true_ability(cands, responder, st.competence[pos], runtime)
    p = models.probability(theta, bank.a[pos], bank.b[pos], bank.c[pos])
    ok = responder.answers(seed, idx[:, None], steps[None, :], p) & valid
    limit = inc.abort_after
    n_given = np.where(limit >= 0, np.minimum(limit, length), length)
    answered = steps[None, :] < n_given[:, None]
    neutral = answered & responder.neutralized(seed, idx[:, None], steps[None, :])
    feats = np.where(valid, st.features[pos], 0)
    status_code = np.where(
        answered, responder.statuses(seed, idx[:, None], steps[None, :], ok, feats), -1
    )
    review, n_reports, n_auto, reports = _issue_reports(
        rules, responder, seed, idx, steps, status_code, feats, neutral, st.item_ids[pos]
    )
    # the automatic jury's resolutions, as the policy says (the rows keep the raw answers)
    resolved, auto_neutral = (
        (review.status, review.neutralized) if n_reports.any() else (status_code, neutral)
    )
    aborted = (limit >= 0) & (limit < length)
    technical = aborted & (inc.abort_reason == "technical")
    skipped, left_neutralized = v2_rules.finalize(valid, answered, technical)
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
        correct=resolved == _OK,
        neutralized=auto_neutral | left_neutralized,
        skipped_automatically=skipped,
        qrocm_dep=tables.qrocm_dep[pos],
        fraud=fraud,
        cancelled=cancelled,
        technical_abort=technical,
        competences=profiles.competences,
        challenge_ids=_LazyIds(st.item_ids, items),
    )
    certifiable = planned.certifiable
    cols = _base_frame(cands)
    for k, code in enumerate(profiles.competences):
        cols[f"level_{code}"] = profiles.level[:, k].astype(cands.levels.dtype)  # type: ignore[union-attr]
        cols[f"pix_{code}"] = profiles.pix[:, k].astype(cands.pix.dtype)  # type: ignore[union-attr]
    cols["fraud"] = fraud
    ids = st.item_ids
    cols["challenges"] = _ragged(ids, pos, valid)
    cols["statuses"] = _ragged(_STATUS_NAMES, status_code + 1, valid)
    cols["neutralized"] = _ragged(ids, pos, neutral)  # the jury's (finalization's are implied)
    cols["abort_reason"] = np.where(aborted, inc.abort_reason, "").astype(str)
    cols["issue_reports"] = reports
    cols["n_auto_neutralized"] = n_auto
    cols["jury_review"] = review.review
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


def _issue_reports(
    rules: RuleSet,
    responder: Responder,
    seed: int,
    idx: npt.NDArray[np.int64],
    steps: npt.NDArray[np.int64],
    status: npt.NDArray[np.int64],
    feats: npt.NDArray[np.int64],
    neutral: npt.NDArray[np.bool_],
    cell_ids: npt.NDArray[np.object_],
) -> tuple[Resolutions, npt.NDArray[np.int64], npt.NDArray[np.int64], list[list[str]]]:
    """Draw the chunk's issue reports and resolve them with the rule set's policy.

    Returns the resolutions, the reports and the automatic neutralizations per
    candidate, and per candidate its reports as ``CATEGORY/SUBCATEGORY@challenge`` (no
    ``@`` for a report on no challenge; ``-`` for no subcategory), in the order resolved.
    """
    n = len(idx)
    on_cell = responder.challenge_reports(
        seed, idx[:, None], steps[None, : status.shape[1]], status
    )
    per_session = responder.session_reports(seed, idx)
    r_cell, c_cell = np.nonzero(on_cell >= 0)
    r_sess, k_sess = np.nonzero(per_session)
    cats_c, subs_c = incidents.report_names(rules, list(responder.issue_rates))
    cats_s, subs_s = incidents.report_names(
        rules, list(responder.session_issue_rates), field="session_issue_rates"
    )
    which = on_cell[r_cell, c_cell]
    res = incidents.resolve_with(
        rules,
        row=np.r_[r_cell, r_sess],
        cell=np.r_[c_cell, np.full(len(r_sess), -1)],
        category=np.r_[
            np.asarray(cats_c, dtype=object)[which] if len(which) else np.zeros(0, dtype=object),
            np.asarray(cats_s, dtype=object)[k_sess] if len(k_sess) else np.zeros(0, dtype=object),
        ],
        subcategory=np.r_[
            np.asarray(subs_c, dtype=object)[which] if len(which) else np.zeros(0, dtype=object),
            np.asarray(subs_s, dtype=object)[k_sess] if len(k_sess) else np.zeros(0, dtype=object),
        ],
        status=status,
        features=feats,
        neutralized=neutral,
    )
    rows = np.r_[r_cell, r_sess]
    n_reports = np.bincount(rows, minlength=n).astype(np.int64)
    auto = res.outcome == incidents.OUTCOMES.index("neutralized")
    n_auto = np.bincount(rows[auto], minlength=n).astype(np.int64)
    empty = np.zeros(0, dtype=object)
    cats = np.r_[
        np.asarray(cats_c, dtype=object)[which] if len(which) else empty,
        np.asarray(cats_s, dtype=object)[k_sess] if len(k_sess) else empty,
    ]
    subs = np.r_[
        np.asarray(subs_c, dtype=object)[which] if len(which) else empty,
        np.asarray(subs_s, dtype=object)[k_sess] if len(k_sess) else empty,
    ]
    subs = np.where(pd.isna(subs), "-", subs).astype(object)
    where = np.r_[
        ("@" + cell_ids[r_cell, c_cell].astype(object)) if len(r_cell) else empty,
        np.full(len(r_sess), "", dtype=object),
    ]
    labels = (cats + "/" + subs + where).astype(object) if len(rows) else empty
    order = np.argsort(rows, kind="stable")
    flat = labels[order].tolist()
    ends = np.cumsum(n_reports).tolist()
    per_row = [flat[lo:hi] for lo, hi in zip([0, *ends[:-1]], ends, strict=True)]
    return res, n_reports, n_auto, per_row


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
