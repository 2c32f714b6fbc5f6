"""The :class:`~pixirt.ResponseLog`: who answered which item, right or wrong, stored sparse.

A :class:`ResponseLog` holds only the answered cells, in compressed sparse rows by
person (CSR): ``indptr`` (int64, ``n_persons + 1``), ``indices`` (int32 item
positions) and ``answers`` (int8, 1 = correct, 0 = wrong). Thirty million answers take
about 150 MB. Person and item ids are kept as given (int64 when every id is an
integer, else strings) with their dense positions.

Pix answer statuses (``pix-rules.md`` §2.2): only ``ok`` is correct, ``ko`` is wrong;
``aband``, ``timedout``, ``focusedOut``, ``partially`` and ``unimplemented`` are wrong
under Pix's scoring rule (``statuses="wrong"``, the default) or not administered
(``statuses="missing"``, for calibration studies that should not read a skip as a
wrong answer).

Ordering. Persons and items are numbered in order of first appearance. Within a
person, answers keep the order of the input rows, so :meth:`ResponseLog.to_frame`
returns the input grouped by person (the input itself when already grouped).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._bank_columns import ids_as_given
from pixirt._response_values import (
    _MISSING,
    Keep,
    Statuses,
    _factorize_ids,
    _ids_array,
    _parse_correct,
)
from pixirt._validation import as_generator
from pixirt.exceptions import DataError, DataWarning


class LogSplit(NamedTuple):
    """Answers split in two logs over the same persons and items."""

    train: ResponseLog
    test: ResponseLog


@dataclass(frozen=True, slots=True)
class LogDescription:
    """What a response log holds, and what needs attention before calibrating it.

    Attributes
    ----------
    n_persons, n_items, n_answers
        Sizes.
    density
        ``n_answers / (n_persons × n_items)``.
    p_correct
        Share of correct answers.
    answers_per_person, answers_per_item
        ``min``, ``median``, ``mean`` and ``max``.
    items_unanswered, items_all_correct, items_all_wrong
        Item ids answered by nobody, always right, always wrong (they carry no
        information on difficulty and make ML estimates infinite).
    n_persons_unanswered, n_persons_all_correct, n_persons_all_wrong
        Person counts of the same kind.
    n_duplicates_dropped, n_missing_statuses
        Rows removed when the log was built (duplicates, statuses read as missing).
    """

    n_persons: int
    n_items: int
    n_answers: int
    density: float
    p_correct: float
    answers_per_person: dict[str, float]
    answers_per_item: dict[str, float]
    items_unanswered: list[Any] = field(default_factory=list)
    items_all_correct: list[Any] = field(default_factory=list)
    items_all_wrong: list[Any] = field(default_factory=list)
    n_persons_unanswered: int = 0
    n_persons_all_correct: int = 0
    n_persons_all_wrong: int = 0
    n_duplicates_dropped: int = 0
    n_missing_statuses: int = 0

    def __str__(self) -> str:
        def stats(d: dict[str, float]) -> str:
            return (
                f"min {d['min']:g}, median {d['median']:g}, mean {d['mean']:.2f}, max {d['max']:g}"
            )

        def ids(values: list[Any]) -> str:
            shown = ", ".join(map(str, values[:5]))
            return f"{len(values)}" + (
                f" ({shown}{', …' if len(values) > 5 else ''})" if values else ""
            )

        lines = [
            f"{self.n_persons:,} persons × {self.n_items:,} items, {self.n_answers:,} answers "
            f"(density {self.density:.4f}), {100 * self.p_correct:.1f}% correct",
            f"answers per person: {stats(self.answers_per_person)}",
            f"answers per item:   {stats(self.answers_per_item)}",
            f"items answered by nobody: {ids(self.items_unanswered)}",
            f"items always right: {ids(self.items_all_correct)}",
            f"items always wrong: {ids(self.items_all_wrong)}",
            f"persons with no answer: {self.n_persons_unanswered}, all right: "
            f"{self.n_persons_all_correct}, all wrong: {self.n_persons_all_wrong}",
        ]
        if self.n_duplicates_dropped:
            lines.append(f"duplicate answers dropped: {self.n_duplicates_dropped}")
        if self.n_missing_statuses:
            lines.append(f"answers read as missing (statuses='missing'): {self.n_missing_statuses}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(str(self)) + "</pre>"


def _stats(counts: npt.NDArray[np.int64]) -> dict[str, float]:
    if len(counts) == 0:
        return {"min": 0.0, "median": 0.0, "mean": 0.0, "max": 0.0}
    return {
        "min": float(counts.min()),
        "median": float(np.median(counts)),
        "mean": float(counts.mean()),
        "max": float(counts.max()),
    }


class ResponseLog:
    """Dichotomous answers of persons to items, held sparse (CSR by person).

    Build one with :func:`read_responses`, :meth:`from_frame` or :meth:`from_wide`.
    A log is immutable; its arrays are read-only.

    Attributes
    ----------
    indptr : numpy.ndarray
        int64, length ``n_persons + 1``: person ``p``'s answers are
        ``indices[indptr[p]:indptr[p + 1]]``.
    indices : numpy.ndarray
        int32 item positions of the answers.
    answers : numpy.ndarray
        int8 answers, 1 correct and 0 wrong.
    """

    __slots__ = ("_n_dups", "_n_missing", "answers", "indices", "indptr", "item_ids", "person_ids")

    def __init__(
        self,
        indptr: npt.ArrayLike,
        indices: npt.ArrayLike,
        answers: npt.ArrayLike,
        person_ids: npt.ArrayLike,
        item_ids: npt.ArrayLike,
        *,
        n_duplicates_dropped: int = 0,
        n_missing_statuses: int = 0,
    ) -> None:
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.indices = np.ascontiguousarray(indices, dtype=np.int32)
        self.answers = np.ascontiguousarray(answers, dtype=np.int8)
        self.person_ids = np.asarray(person_ids)
        self.item_ids = np.asarray(item_ids)
        n_p, n_i = len(self.person_ids), len(self.item_ids)
        if (
            self.indptr.shape != (n_p + 1,)
            or self.indptr[0] != 0
            or np.any(np.diff(self.indptr) < 0)
        ):
            raise DataError(
                "indptr must start at 0, be non-decreasing and have n_persons + 1 entries"
            )
        if self.indptr[-1] != len(self.indices) or len(self.indices) != len(self.answers):
            raise DataError("indptr[-1], indices and answers must agree in length")
        if len(self.indices) and (self.indices.min() < 0 or self.indices.max() >= n_i):
            raise DataError("item indices out of range")
        if len(self.answers) and not np.isin(self.answers, (0, 1)).all():
            raise DataError("answers must be 0 or 1")
        for arr in (self.indptr, self.indices, self.answers, self.person_ids, self.item_ids):
            arr.setflags(write=False)
        self._n_dups = int(n_duplicates_dropped)
        self._n_missing = int(n_missing_statuses)

    # ------------------------------------------------------------------ sizes
    @property
    def n_persons(self) -> int:
        """Number of persons."""
        return len(self.person_ids)

    @property
    def n_items(self) -> int:
        """Number of items."""
        return len(self.item_ids)

    @property
    def n_answers(self) -> int:
        """Number of answered cells."""
        return len(self.answers)

    @property
    def person_index(self) -> npt.NDArray[np.int64]:
        """Person position of each answer (expanded from ``indptr``)."""
        return np.repeat(np.arange(self.n_persons, dtype=np.int64), np.diff(self.indptr))

    def __repr__(self) -> str:
        return f"ResponseLog({self.n_persons:,} persons × {self.n_items:,} items, {self.n_answers:,} answers)"

    def __len__(self) -> int:
        return self.n_answers

    # ------------------------------------------------------------------ building
    @classmethod
    def from_frame(
        cls,
        df: pd.DataFrame,
        *,
        person: str = "person_id",
        item: str = "item_id",
        correct: str = "correct",
        statuses: Statuses = "wrong",
        keep: Keep = "first",
        path: str | None = None,
    ) -> ResponseLog:
        """Build a log from a long DataFrame, one row per answer.

        Parameters
        ----------
        df
            The answers.
        person, item, correct
            Column names.
        statuses
            How to read the Pix statuses ``aband``, ``timedout``, ``focusedOut``,
            ``partially`` and ``unimplemented``: ``"wrong"`` (Pix's scoring rule) or
            ``"missing"`` (not administered).
        keep
            Which of duplicate (person, item) answers to keep; the others are dropped
            and counted in a :class:`~pixirt.exceptions.DataWarning`.
        path
            Source file, named in errors.

        Returns
        -------
        ResponseLog
            The log.

        Raises
        ------
        DataError
            Missing column, unparsable or unknown answer value, missing or invalid id,
            naming the row (1-based, header excluded) and field.
        """
        if statuses not in ("wrong", "missing"):
            raise DataError(
                f"statuses must be 'wrong' or 'missing', got {statuses!r}", field="statuses"
            )
        if keep not in ("first", "last"):
            raise DataError(f"keep must be 'first' or 'last', got {keep!r}", field="keep")
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"expected a pandas DataFrame, got {type(df).__name__}", path=path)
        for col in (person, item, correct):
            if col not in df.columns:
                raise DataError(
                    f"missing column; columns are {list(map(str, df.columns))}",
                    path=path,
                    field=col,
                )
        if len(df) == 0:
            raise DataError("no answers (empty table)", path=path)
        codes = _parse_correct(df[correct], statuses=statuses, path=path, field=correct)
        p_codes, p_uniques = _factorize_ids(df[person], path=path, field=person)
        i_codes, i_uniques = _factorize_ids(df[item], path=path, field=item)
        keep_rows = codes != _MISSING
        n_missing = int((~keep_rows).sum())
        if n_missing:
            rows = np.flatnonzero(keep_rows)
            p_codes, i_codes, codes = p_codes[rows], i_codes[rows], codes[rows]
        key = p_codes.astype(np.int64) * max(len(i_uniques), 1) + i_codes
        dup = pd.Series(key).duplicated(keep=keep).to_numpy()
        n_dups = int(dup.sum())
        if n_dups:
            first_row = int(np.flatnonzero(dup)[0])
            warnings.warn(
                f"{path + ': ' if path else ''}{n_dups} duplicate (person, item) answers; kept the "
                f"{keep} of each (first dropped at person {p_uniques[p_codes[first_row]]!r}, "
                f"item {i_uniques[i_codes[first_row]]!r})",
                DataWarning,
                stacklevel=2,
            )
            sel = ~dup
            p_codes, i_codes, codes = p_codes[sel], i_codes[sel], codes[sel]
        order = np.argsort(p_codes, kind="stable")
        counts = np.bincount(p_codes, minlength=len(p_uniques))
        indptr = np.concatenate([[0], np.cumsum(counts)])
        return cls(
            indptr,
            i_codes[order].astype(np.int32),
            codes[order],
            _ids_array(p_uniques),
            _ids_array(i_uniques),
            n_duplicates_dropped=n_dups,
            n_missing_statuses=n_missing,
        )

    @classmethod
    def from_wide(
        cls,
        data: pd.DataFrame | npt.ArrayLike,
        *,
        statuses: Statuses = "wrong",
        path: str | None = None,
    ) -> ResponseLog:
        """Build a log from a persons × items table; blank/NaN means not administered.

        Parameters
        ----------
        data
            A DataFrame (index = person ids, columns = item ids) or a 2-D array (ids are
            then the positions 0, 1, ...). Values 0/1, booleans or Pix statuses.
        statuses
            As in :meth:`from_frame`.
        path
            Source file, named in errors.

        Returns
        -------
        ResponseLog
            The log, persons and items in table order.
        """
        if isinstance(data, pd.DataFrame):
            frame = data
        else:
            arr = np.asarray(data)
            if arr.ndim != 2:
                raise DataError(
                    f"expected a 2-D persons × items table, got {arr.ndim} dimension(s)", path=path
                )
            frame = pd.DataFrame(arr)
        n_p, n_i = frame.shape
        if n_p == 0 or n_i == 0:
            raise DataError("empty table", path=path)
        person_ids = ids_as_given(pd.Series(frame.index.to_numpy()), path=path, field="index")
        item_ids = ids_as_given(pd.Series(frame.columns.to_numpy()), path=path, field="columns")
        if len(set(person_ids.tolist())) != n_p:
            raise DataError("duplicate person ids in the index", path=path)
        if len(set(item_ids.tolist())) != n_i:
            raise DataError("duplicate item ids in the columns", path=path)
        cells = np.empty((n_p, n_i), dtype=np.int8)
        for j, col in enumerate(frame.columns):  # a loop over items, vectorized over persons
            try:
                cells[:, j] = _parse_correct(
                    frame[col], statuses=statuses, path=path, field=str(col), blank_is_missing=True
                )
            except DataError as exc:
                row = exc.row
                label = frame.index[int(row) - 1] if isinstance(row, int) else row
                raise DataError(
                    exc.message + f" (person {label!r})", path=path, row=row, field=str(col)
                ) from None
        mask = cells != _MISSING
        counts = mask.sum(axis=1)
        rows, cols = np.nonzero(mask)
        return cls(
            np.concatenate([[0], np.cumsum(counts)]),
            cols.astype(np.int32),
            cells[rows, cols],
            person_ids,
            item_ids,
            n_missing_statuses=0,
        )

    # ------------------------------------------------------------------ views
    def to_frame(self) -> pd.DataFrame:
        """Long format: ``person_id``, ``item_id``, ``correct`` (int8), grouped by person.

        Returns
        -------
        pandas.DataFrame
            One row per answer.
        """
        return pd.DataFrame(
            {
                "person_id": self.person_ids[self.person_index],
                "item_id": self.item_ids[self.indices],
                "correct": self.answers.copy(),
            }
        )

    def to_dense(self, *, max_cells: int = 50_000_000) -> npt.NDArray[np.float64]:
        """A dense persons × items float matrix with NaN for not administered (small data only).

        Raises
        ------
        DataError
            If the matrix would exceed ``max_cells`` cells.
        """
        cells = self.n_persons * self.n_items
        if cells > max_cells:
            raise DataError(
                f"a dense view would have {cells:,} cells (> max_cells={max_cells:,}); "
                "work on the sparse log or raise max_cells"
            )
        out = np.full((self.n_persons, self.n_items), np.nan)
        out[self.person_index, self.indices] = self.answers
        return out

    def item_stats(self) -> pd.DataFrame:
        """Per item: ``n_answers`` and ``p_correct`` (NaN when unanswered), indexed by ``item_id``."""
        n = np.bincount(self.indices, minlength=self.n_items)
        right = np.bincount(self.indices, weights=self.answers, minlength=self.n_items)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.where(n > 0, right / np.maximum(n, 1), np.nan)
        return pd.DataFrame(
            {"n_answers": n.astype(np.int64), "p_correct": p},
            index=pd.Index(self.item_ids, name="item_id"),
        )

    def person_stats(self) -> pd.DataFrame:
        """Per person: ``n_answers`` and ``n_correct``, indexed by ``person_id``."""
        n = np.diff(self.indptr)
        right = np.bincount(
            self.person_index, weights=self.answers, minlength=self.n_persons
        ).astype(np.int64)
        return pd.DataFrame(
            {"n_answers": n, "n_correct": right},
            index=pd.Index(self.person_ids, name="person_id"),
        )

    def describe(self) -> LogDescription:
        """Sizes, distributions and the items and persons that need attention.

        Returns
        -------
        LogDescription
            Printable summary (also rendered in Jupyter).
        """
        items = self.item_stats()
        persons = self.person_stats()
        n_i = items["n_answers"].to_numpy()
        right_i = np.rint(items["p_correct"].fillna(0).to_numpy() * n_i)
        n_p = persons["n_answers"].to_numpy()
        right_p = persons["n_correct"].to_numpy()
        ids = self.item_ids
        cells = self.n_persons * self.n_items
        return LogDescription(
            n_persons=self.n_persons,
            n_items=self.n_items,
            n_answers=self.n_answers,
            density=self.n_answers / cells if cells else 0.0,
            p_correct=float(self.answers.mean()) if self.n_answers else float("nan"),
            answers_per_person=_stats(n_p),
            answers_per_item=_stats(n_i),
            items_unanswered=ids[n_i == 0].tolist(),
            items_all_correct=ids[(n_i > 0) & (right_i == n_i)].tolist(),
            items_all_wrong=ids[(n_i > 0) & (right_i == 0)].tolist(),
            n_persons_unanswered=int((n_p == 0).sum()),
            n_persons_all_correct=int(((n_p > 0) & (right_p == n_p)).sum()),
            n_persons_all_wrong=int(((n_p > 0) & (right_p == 0)).sum()),
            n_duplicates_dropped=self._n_dups,
            n_missing_statuses=self._n_missing,
        )

    # ------------------------------------------------------------------ selections
    def subset(
        self,
        items: Sequence[Any] | npt.ArrayLike | None = None,
        persons: Sequence[Any] | npt.ArrayLike | None = None,
    ) -> ResponseLog:
        """A log restricted to the given items and/or persons, in the given order.

        Parameters
        ----------
        items, persons
            Ids to keep (None keeps all). Unknown ids raise :class:`DataError`.

        Returns
        -------
        ResponseLog
            The sub-log; persons or items left with no answer are kept.
        """
        p_pos = (
            np.arange(self.n_persons)
            if persons is None
            else _positions(self.person_ids, persons, "person")
        )
        i_pos = (
            np.arange(self.n_items) if items is None else _positions(self.item_ids, items, "item")
        )
        item_map = np.full(self.n_items, -1, dtype=np.int64)
        item_map[i_pos] = np.arange(len(i_pos))
        counts = np.diff(self.indptr)[p_pos]
        starts = self.indptr[:-1][p_pos]
        # answer positions of the selected persons, in the new person order
        offsets = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts)
        rows = np.arange(counts.sum(), dtype=np.int64) + offsets
        new_items = item_map[self.indices[rows]]
        keep = new_items >= 0
        owner = np.repeat(np.arange(len(p_pos)), counts)[keep]
        new_counts = np.bincount(owner, minlength=len(p_pos))
        return ResponseLog(
            np.concatenate([[0], np.cumsum(new_counts)]),
            new_items[keep],
            self.answers[rows][keep],
            self.person_ids[p_pos],
            self.item_ids[i_pos],
        )

    def split(self, fraction: float, seed: int | np.random.Generator | None = None) -> LogSplit:
        """Hold out a random share of the answers (for validation).

        Parameters
        ----------
        fraction
            Share of answers put in ``test``, in (0, 1).
        seed
            Seed or generator; the split is reproducible for a seed.

        Returns
        -------
        LogSplit
            ``(train, test)`` over the same persons and items (same ids and positions).
        """
        if not (0.0 < float(fraction) < 1.0):
            raise DataError(f"fraction must be in (0, 1), got {fraction!r}", field="fraction")
        rng = as_generator(seed)
        held = rng.random(self.n_answers) < fraction
        owner = self.person_index
        parts = []
        for mask in (~held, held):
            counts = np.bincount(owner[mask], minlength=self.n_persons)
            parts.append(
                ResponseLog(
                    np.concatenate([[0], np.cumsum(counts)]),
                    self.indices[mask],
                    self.answers[mask],
                    self.person_ids,
                    self.item_ids,
                )
            )
        return LogSplit(parts[0], parts[1])


def _positions(
    ids: npt.NDArray[Any], wanted: Sequence[Any] | npt.ArrayLike, what: str
) -> npt.NDArray[np.int64]:
    want = pd.Index(np.asarray(wanted))
    pos = pd.Index(ids).get_indexer(want)
    if (pos < 0).any():
        raise DataError(f"{what} {want[pos < 0][0]!r} is not in the log", field=f"{what}s")
    return np.asarray(pos, dtype=np.int64)
