"""Answers in partitions of persons, for calibration on a Dask cluster (or here, part by part).

:func:`~pixirt.calibration.calibrate` with ``client=`` (or with a file, directory, glob
or ``dask.dataframe`` source) runs on :func:`partitioned` data:

1. **Read.** One Dask task per partition reads it (a Parquet or CSV file, a partition of
   a ``dask.dataframe``, or a block of persons of a :class:`~pixirt.ResponseLog`
   carried in the task itself) into a log, and returns its item ids and a 64-bit hash
   of each person id. Here the item ids are joined (sorted; the log's own order for a
   ``ResponseLog``) and a person found in two partitions is an error naming both.
2. **Design.** One task per partition maps its items to the joined ids and builds the
   E-step design (:mod:`pixirt.calibration._design`); the worker keeps it in memory for the
   whole run. Only per-item answer counts come back.
3. **Iterations.** Each E-step is one task per partition returning the expected wrong
   and right answers per item and quadrature node (float64) and the log-likelihood;
   they are added on the workers by a binary tree of fixed shape (partition 0 + 1,
   2 + 3, ...), so the sum — and the estimates — do not depend on which worker ran
   what. The M-step runs in the client's process. The final pass for the standard
   errors is summed the same way.

Every task is a pure function of its inputs: a worker lost mid-run takes its designs
with it, and Dask recomputes them (reading the partition again) on the others.
"""

from __future__ import annotations

import glob as _glob
import itertools
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._response_log import ResponseLog
from pixirt._response_reading import read_responses
from pixirt._response_values import Keep, Statuses
from pixirt.calibration._design import Design, build_design
from pixirt.calibration._estep import EStep, add_esteps, e_step
from pixirt.calibration._information import Derivatives, Pass, add_passes, final_pass
from pixirt.calibration._state import Layout, State
from pixirt.exceptions import DataError

__all__ = ["Partitioned", "ResponseSource", "partitioned"]

_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".txt")
FloatArray = npt.NDArray[np.float64]
_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class ResponseSource:
    """A response log read in partitions of persons, with its reading options.

    Parameters
    ----------
    data
        A Parquet or CSV file, a directory of them (searched recursively), a glob
        (``"answers/part-*.parquet"``), a ``dask.dataframe`` with one row per answer, or
        a :class:`~pixirt.ResponseLog` (split into blocks of persons).
    person, item, correct, statuses, keep
        As :func:`~pixirt.read_responses`.
    partitions
        For a ``ResponseLog``: blocks of persons (default: two per Dask worker, or 1
        without a client). Files and ``dask.dataframe`` partitions are taken as they are:
        one partition per file or per dataframe partition.
    """

    data: Any
    person: str = "person_id"
    item: str = "item_id"
    correct: str = "correct"
    statuses: Statuses = "wrong"
    keep: Keep = "first"
    partitions: int | None = None

    def __post_init__(self) -> None:
        for name in ("person", "item", "correct"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise DataError(
                    f"The {name!r} column name must be a non-empty str. Got {value!r} instead.",
                    field=name,
                )
        if self.statuses not in ("wrong", "missing"):
            raise DataError(
                f"statuses must be 'wrong' or 'missing', got {self.statuses!r}", field="statuses"
            )
        if self.keep not in ("first", "last"):
            raise DataError(f"keep must be 'first' or 'last', got {self.keep!r}", field="keep")
        if self.partitions is not None and (
            isinstance(self.partitions, bool)
            or not isinstance(self.partitions, int)
            or self.partitions < 1
        ):
            raise DataError(
                f"partitions must be None or a positive int, got {self.partitions!r}",
                field="partitions",
            )


# ----------------------------------------------------------------------- worker functions
# Module-level, pure functions of their arguments: what Dask runs (and reruns) on workers.


def _read_file(path: str, src: ResponseSource) -> ResponseLog:
    return read_responses(
        path,
        person=src.person,
        item=src.item,
        correct=src.correct,
        statuses=src.statuses,
        keep=src.keep,
    )


def _read_frame(frame: pd.DataFrame, src: ResponseSource, where: str) -> ResponseLog | None:
    if len(frame) == 0:
        return None  # dask dataframes often have empty partitions
    return ResponseLog.from_frame(
        frame.reset_index(drop=True),
        person=src.person,
        item=src.item,
        correct=src.correct,
        statuses=src.statuses,
        keep=src.keep,
        path=where,
    )


def _identity(log: ResponseLog) -> ResponseLog:
    return log


def _person_hashes(ids: npt.NDArray[Any]) -> npt.NDArray[np.uint64]:
    text = pd.Series(ids).astype(str).to_numpy(dtype=object)
    return np.asarray(pd.util.hash_array(text, categorize=False), dtype=np.uint64)


def _describe(log: ResponseLog | None) -> tuple[npt.NDArray[Any], npt.NDArray[np.uint64]]:
    """The partition's item ids and its persons' hashes."""
    if log is None or log.n_answers == 0:
        return np.array([], dtype=object), np.array([], dtype=np.uint64)
    return np.asarray(log.item_ids), _person_hashes(log.person_ids)


def _person_with_hash(log: ResponseLog, h: int) -> Any:
    hit = np.flatnonzero(_person_hashes(log.person_ids) == np.uint64(h))
    return log.person_ids[hit[0]].item() if len(hit) else None


@dataclass(frozen=True, slots=True)
class _Part:
    """What a worker keeps of a partition: its E-step design."""

    design: Design


@dataclass(frozen=True, slots=True)
class _PartInfo:
    n_answers: npt.NDArray[np.int64]  # per joined item
    n_right: npt.NDArray[np.int64]
    k_hist: npt.NDArray[np.int64]  # persons by number of answers
    n_persons: int
    group_counts: npt.NDArray[np.int64] | None = None  # persons with answers per group


def _build_part(
    log: ResponseLog | None,
    item_ids: npt.NDArray[Any],
    as_text: bool,
    n_quad: int,
    theta_range: tuple[float, float],
    groups: pd.Series | None = None,
) -> _Part:
    if log is None or log.n_answers == 0:
        empty = ResponseLog(np.zeros(1, dtype=np.int64), [], [], np.array([]), item_ids)
        none = None if groups is None else np.zeros(0, dtype=np.int64)
        return _Part(build_design(empty, n_quad, theta_range, none))
    codes = None
    if groups is not None:
        found = groups.reindex(pd.Index(log.person_ids))
        answered = np.diff(log.indptr) > 0
        missing = found.isna().to_numpy() & answered
        if missing.any():
            raise DataError(
                f"{int(missing.sum())} person(s) with answers have no group, e.g. "
                f"{log.person_ids[int(np.flatnonzero(missing)[0])]!r}",
                field="groups",
            )
        codes = found.fillna(0).to_numpy(dtype=np.int64)
    local = np.asarray(log.item_ids)
    if as_text:
        local = local.astype(str).astype(object)
    where = pd.Index(item_ids).get_indexer(pd.Index(local))
    assert (where >= 0).all()  # the joined ids hold every partition's
    joined = ResponseLog(
        log.indptr, where[log.indices], log.answers, log.person_ids, item_ids
    )  # same answers, items numbered as the joined ids
    return _Part(build_design(joined, n_quad, theta_range, codes))


def _part_info(part: _Part) -> _PartInfo:
    d = part.design
    items = d.codes >> 1
    right = d.codes & 1
    return _PartInfo(
        n_answers=np.bincount(items, minlength=d.n_items).astype(np.int64),
        n_right=np.bincount(items, weights=right, minlength=d.n_items).astype(np.int64),
        k_hist=np.bincount(np.diff(d.indptr)).astype(np.int64),
        n_persons=d.n_persons,
        group_counts=None if d.group is None else np.bincount(d.group).astype(np.int64),
    )


def _part_e_step(part: _Part, s: State) -> EStep:
    return e_step(part.design, s)


def _part_final_pass(
    part: _Part,
    s: State,
    layout: Layout,
    der: Derivatives,
    method: Literal["full", "items"],
) -> Pass:
    return final_pass(part.design, s, layout, der, method)


# ----------------------------------------------------------------------- executors


class _Executor:
    """Runs the per-partition functions: on Dask workers, or here one after another."""

    def map(self, fn: Callable[..., Any], parts: Sequence[Any], *args: Any) -> list[Any]:
        raise NotImplementedError

    def tree_sum(self, values: list[Any], add: Callable[[Any, Any], Any]) -> Any:
        raise NotImplementedError

    def gather(self, values: list[Any]) -> list[Any]:
        raise NotImplementedError

    def close(self, values: list[Any]) -> None:
        """Forget the partitions at the end of the run."""


def _pairwise(values: list[_T], add: Callable[[_T, _T], _T]) -> list[_T]:
    out = [add(values[i], values[i + 1]) for i in range(0, len(values) - 1, 2)]
    if len(values) % 2:
        out.append(values[-1])
    return out


class _Here(_Executor):
    def map(self, fn: Callable[..., Any], parts: Sequence[Any], *args: Any) -> list[Any]:
        return [fn(p, *args) for p in parts]

    def tree_sum(self, values: list[Any], add: Callable[[Any, Any], Any]) -> Any:
        while len(values) > 1:
            values = _pairwise(values, add)
        return values[0]

    def gather(self, values: list[Any]) -> list[Any]:
        return list(values)


class _OnDask(_Executor):
    def __init__(self, client: Any) -> None:
        self.client = client

    def map(self, fn: Callable[..., Any], parts: Sequence[Any], *args: Any) -> list[Any]:
        shared = [self.client.scatter(a, broadcast=True) if _large(a) else a for a in args]
        return [self.client.submit(fn, p, *shared, pure=False) for p in parts]

    def tree_sum(self, values: list[Any], add: Callable[[Any, Any], Any]) -> Any:
        while len(values) > 1:
            values = _pairwise(values, lambda x, y: self.client.submit(add, x, y, pure=False))
        return values[0].result()

    def gather(self, values: list[Any]) -> list[Any]:
        return list(self.client.gather(values))

    def close(self, values: list[Any]) -> None:
        self.client.cancel(values)


def _large(value: Any) -> bool:
    return isinstance(value, Derivatives)


# ----------------------------------------------------------------------- the data


@dataclass(eq=False)
class Partitioned:
    """Answers held as partitions of persons (on Dask workers, or here): the EM's data.

    Attributes
    ----------
    stats
        Per joined item: ``n_answers`` and ``p_correct``, indexed by ``item_id``.
    n_partitions
        Partitions holding answers.
    bytes_per_e_step
        Float64 bytes one partition sends back per E-step (the expected counts).
    """

    stats: pd.DataFrame
    theta: FloatArray
    n_items: int
    n_quad: int
    n_persons: int
    n_partitions: int
    bytes_per_e_step: int
    _executor: _Executor
    _parts: list[Any]
    _k_hist: npt.NDArray[np.int64]
    group_counts: npt.NDArray[np.int64] | None = None

    def e_step(self, s: State) -> EStep:
        """The E-step sums over every partition (tree-added in a fixed order)."""
        out = self._executor.tree_sum(self._executor.map(_part_e_step, self._parts, s), add_esteps)
        assert isinstance(out, EStep)
        return out

    def final_pass(
        self,
        s: State,
        layout: Layout,
        der: Derivatives,
        method: Literal["full", "items"],
    ) -> Pass:
        """The final pass (E-step and SE accumulators) summed over every partition."""
        out = self._executor.tree_sum(
            self._executor.map(_part_final_pass, self._parts, s, layout, der, method),
            add_passes,
        )
        assert isinstance(out, Pass)
        return out

    def k_hist(self) -> npt.NDArray[np.int64]:
        """Persons by number of answers."""
        return self._k_hist

    def close(self) -> None:
        """Release the partitions (on the workers)."""
        self._executor.close(self._parts)
        self._parts = []


def partitioned(
    source: Any,
    client: Any = None,
    *,
    n_quad: int = 61,
    theta_range: tuple[float, float] = (-6.0, 6.0),
    groups: pd.Series | None = None,
) -> Partitioned:
    """Read ``source`` in partitions of persons (on ``client``'s workers if given).

    Parameters
    ----------
    source
        A :class:`ResponseSource`, or what its ``data`` accepts.
    client
        A ``dask.distributed`` Client, or None to hold the partitions here.
    n_quad, theta_range
        The quadrature of the E-step designs.
    groups
        Multiple-group calibration: each person's group code (0: the reference),
        indexed by person id; each partition maps its persons (a person with answers
        and no group is an error naming them).

    Returns
    -------
    Partitioned
        The data :func:`~pixirt.calibration.calibrate` iterates over.

    Raises
    ------
    DataError
        Unknown source type, no file found, a bad file (naming it, the row and field),
        a person in two partitions (naming both), or no answer at all.
    """
    src = source if isinstance(source, ResponseSource) else ResponseSource(source)
    executor: _Executor
    if client is not None:
        from pixirt._dask import check_client

        executor = _OnDask(check_client(client))
    else:
        executor = _Here()
    logs, places, fixed_items = _read(src, client, executor)
    described = executor.gather(executor.map(_describe, logs))
    item_ids, as_text = _join_items([d[0] for d in described], fixed_items)
    if len(item_ids) == 0:
        raise DataError("the source has no answers", field="log")
    _check_persons(described, places, logs, executor, src)
    parts = executor.map(_build_part, logs, item_ids, as_text, n_quad, theta_range, groups)
    del logs  # the designs keep what they need; Dask keeps how to read them again
    infos: list[_PartInfo] = executor.gather(executor.map(_part_info, parts))
    n_ans = np.sum([i.n_answers for i in infos], axis=0)
    n_right = np.sum([i.n_right for i in infos], axis=0)
    width = max(len(i.k_hist) for i in infos)
    k_hist = np.sum([np.pad(i.k_hist, (0, width - len(i.k_hist))) for i in infos], axis=0)
    group_counts = None
    if groups is not None:
        size = max([1, *(len(c) for i in infos if (c := i.group_counts) is not None)])
        group_counts = np.sum(
            [np.pad(c, (0, size - len(c))) for i in infos if (c := i.group_counts) is not None],
            axis=0,
        ).astype(np.int64)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(n_ans > 0, n_right / np.maximum(n_ans, 1), np.nan)
    stats = pd.DataFrame(
        {"n_answers": n_ans.astype(np.int64), "p_correct": p},
        index=pd.Index(item_ids, name="item_id"),
    )
    return Partitioned(
        stats=stats,
        theta=np.linspace(theta_range[0], theta_range[1], n_quad),
        n_items=len(item_ids),
        n_quad=n_quad,
        n_persons=int(sum(i.n_persons for i in infos)),
        n_partitions=sum(1 for i in infos if i.n_persons),
        bytes_per_e_step=8 * (2 * len(item_ids) * n_quad + n_quad + 1),
        _executor=executor,
        _parts=parts,
        _k_hist=k_hist.astype(np.int64),
        group_counts=group_counts,
    )


def _read(
    src: ResponseSource, client: Any, executor: _Executor
) -> tuple[list[Any], list[str], npt.NDArray[Any] | None]:
    """One log per partition (futures on Dask), where each came from, fixed item order."""
    data = src.data
    if isinstance(data, ResponseLog):
        if data.n_answers == 0:
            raise DataError("the log has no answers", field="log")
        n_workers = len(client.scheduler_info()["workers"]) if client is not None else 1
        k = src.partitions or (2 * max(n_workers, 1) if client is not None else 1)
        k = max(1, min(k, data.n_persons))
        bounds = np.linspace(0, data.n_persons, k + 1).round().astype(np.int64)
        pieces = [_block(data, int(a), int(b)) for a, b in itertools.pairwise(bounds)]
        places = [f"persons {a:,}–{b - 1:,} of the log" for a, b in itertools.pairwise(bounds)]
        with warnings.catch_warnings():  # the blocks travel in the tasks, so they can be rerun
            warnings.filterwarnings("ignore", message=".*[Ll]arge object.*")
            warnings.filterwarnings("ignore", message=".*graph.*large.*")
            return executor.map(_identity, pieces), places, np.asarray(data.item_ids)
    if _is_dask_frame(data):
        delayed = data.to_delayed()
        places = [f"partition {i} of the dask dataframe" for i in range(len(delayed))]
        if client is not None:
            frames = client.compute(delayed)
            logs = [
                client.submit(_read_frame, f, src, w, pure=False)
                for f, w in zip(frames, places, strict=True)
            ]
            return logs, places, None
        return (
            [_read_frame(d.compute(), src, w) for d, w in zip(delayed, places, strict=True)],
            places,
            None,
        )
    if isinstance(data, str | os.PathLike):
        files = _files(data)
        return executor.map(_read_file, files, src), files, None
    raise DataError(
        "the answers must be a ResponseLog, a ResponseSource, a Parquet/CSV file, directory or "
        f"glob, or a dask.dataframe. Got {type(data).__name__} instead.",
        field="log",
    )


def _block(log: ResponseLog, p0: int, p1: int) -> ResponseLog:
    a0, a1 = int(log.indptr[p0]), int(log.indptr[p1])
    return ResponseLog(
        log.indptr[p0 : p1 + 1] - a0,
        log.indices[a0:a1],
        log.answers[a0:a1],
        log.person_ids[p0:p1],
        log.item_ids,
    )


def _is_dask_frame(data: Any) -> bool:
    module = type(data).__module__ or ""
    return (
        module.startswith("dask") and hasattr(data, "to_delayed") and hasattr(data, "npartitions")
    )


def _files(data: str | os.PathLike[str]) -> list[str]:
    text = os.fspath(data)
    if "://" in text:
        raise DataError(
            "only local or shared file-system paths are read directly; for an object store "
            "pass a dask.dataframe (dask.dataframe.read_parquet('s3://...'))",
            path=text,
        )
    if any(ch in text for ch in "*?["):
        found = sorted(_glob.glob(text, recursive=True))
    elif Path(text).is_dir():
        found = sorted(str(p) for p in Path(text).rglob("*") if p.is_file())
    elif Path(text).is_file():
        found = [text]
    else:
        raise DataError("no such file or directory", path=text)
    files = [f for f in found if f.lower().endswith(_SUFFIXES)]
    if not files:
        raise DataError(
            f"no Parquet or CSV file found (suffixes {', '.join(_SUFFIXES)})", path=text
        )
    return files


def _join_items(
    per_part: list[npt.NDArray[Any]], fixed: npt.NDArray[Any] | None
) -> tuple[npt.NDArray[Any], bool]:
    """The joined item ids (the log's order, or sorted) and whether they are text."""
    if fixed is not None:
        return fixed, False
    present = [ids for ids in per_part if len(ids)]
    if not present:
        return np.array([], dtype=object), False
    numeric = all(np.issubdtype(ids.dtype, np.integer) for ids in present)
    if numeric:
        return np.unique(np.concatenate([ids.astype(np.int64) for ids in present])), False
    text = [ids.astype(str) for ids in present]
    return np.unique(np.concatenate(text)).astype(object), True


def _check_persons(
    described: list[tuple[npt.NDArray[Any], npt.NDArray[np.uint64]]],
    places: list[str],
    logs: list[Any],
    executor: _Executor,
    src: ResponseSource,
) -> None:
    """A person whose answers lie in two partitions would count as two persons: refuse."""
    hashes = [d[1] for d in described]
    if sum(len(h) for h in hashes) == 0:
        return
    all_h = np.concatenate(hashes)
    owner = np.repeat(np.arange(len(hashes)), [len(h) for h in hashes])
    order = np.argsort(all_h, kind="stable")
    sorted_h, sorted_o = all_h[order], owner[order]
    twice = np.flatnonzero(sorted_h[1:] == sorted_h[:-1])
    for i in twice[:20].tolist():  # a 64-bit hash collision is checked, not assumed
        h, pa, pb = int(sorted_h[i]), int(sorted_o[i]), int(sorted_o[i + 1])
        ida, idb = executor.gather(
            [
                executor.map(_person_with_hash, [logs[pa]], h)[0],
                executor.map(_person_with_hash, [logs[pb]], h)[0],
            ]
        )
        if str(ida) == str(idb):
            raise DataError(
                f"person {ida!r} has answers in two partitions ({places[pa]} and {places[pb]}): "
                "each person's answers must lie in one partition (write the dataset partitioned "
                f"by person, e.g. dask.dataframe's shuffle(on={src.person!r}))",
                path=places[pb],
                field=src.person,
            )
