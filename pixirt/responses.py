"""Response logs: who answered which item, right or wrong, stored sparse.

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

import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._validation import as_generator
from pixirt.exceptions import DataError, DataWarning
from pixirt.item_bank import _ids_as_given

__all__ = [
    "CORRECT_STATUSES",
    "PIX_STATUSES",
    "LogDescription",
    "LogSplit",
    "ResponseLog",
    "read_responses",
]

Statuses = Literal["wrong", "missing"]
Keep = Literal["first", "last"]

#: Pix answer statuses (AnswerStatus.js). Only ``ok`` is correct.
PIX_STATUSES = ("ok", "ko", "aband", "timedout", "focusedOut", "partially", "unimplemented")
CORRECT_STATUSES = frozenset({"ok"})
_WRONG_STATUSES = frozenset({"ko"})
_SKIP_STATUSES = frozenset({"aband", "timedout", "focusedOut", "partially", "unimplemented"})
_TEXT_TRUE = frozenset({"1", "true", "True", "TRUE", "1.0"})
_TEXT_FALSE = frozenset({"0", "false", "False", "FALSE", "0.0"})
_MISSING = np.int8(-1)


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
        person_ids = _ids_as_given(pd.Series(frame.index.to_numpy()), path=path, field="index")
        item_ids = _ids_as_given(pd.Series(frame.columns.to_numpy()), path=path, field="columns")
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


def _factorize_ids(
    values: pd.Series, *, path: str | None, field: str
) -> tuple[npt.NDArray[np.int64], Any]:
    """Validate ids and number them in order of first appearance.

    Categorical columns (as read from CSV through Arrow dictionaries) are validated on
    their categories and factorized on their integer codes: no Python object per row.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        cat = values.cat
        missing = cat.codes.to_numpy() < 0
        if missing.any():
            raise DataError(
                "missing id", path=path, row=int(np.flatnonzero(missing)[0]) + 1, field=field
            )
        try:
            _ids_as_given(pd.Series(cat.categories.to_numpy()), path=path, field=field)
        except DataError as exc:  # report the first row holding the bad category
            bad = cat.categories[int(exc.row) - 1] if isinstance(exc.row, int) else None
            row = (
                int(np.flatnonzero((values == bad).to_numpy())[0]) + 1 if bad is not None else None
            )
            raise DataError(exc.message, path=path, row=row, field=field) from None
        cat_codes, cat_uniques = pd.factorize(values, sort=False)
        return np.asarray(cat_codes, dtype=np.int64), np.asarray(cat_uniques)
    ids = _ids_as_given(values, path=path, field=field)
    codes, uniques = pd.factorize(ids, sort=False)
    return np.asarray(codes, dtype=np.int64), uniques


def _ids_array(uniques: Any) -> npt.NDArray[Any]:
    arr = np.asarray(uniques)
    return arr.astype(np.int64) if arr.dtype.kind in "iu" else arr.astype(object)


def _parse_correct(
    values: pd.Series,
    *,
    statuses: Statuses,
    path: str | None,
    field: str,
    blank_is_missing: bool = False,
) -> npt.NDArray[np.int8]:
    """Answers as int8: 1 correct, 0 wrong, -1 not administered. Vectorized over unique values."""
    skip_code = np.int8(0) if statuses == "wrong" else _MISSING
    dtype = values.dtype
    if pd.api.types.is_bool_dtype(dtype) and not isinstance(dtype, pd.CategoricalDtype):
        if values.isna().any():
            return _finish_numeric(
                np.asarray(values.astype("float64").to_numpy(), dtype=np.float64),
                path,
                field,
                blank_is_missing,
            )
        return values.to_numpy(dtype=np.int8)
    if pd.api.types.is_numeric_dtype(dtype):
        return _finish_numeric(
            values.to_numpy(dtype=np.float64, na_value=np.nan), path, field, blank_is_missing
        )
    if isinstance(dtype, pd.CategoricalDtype):
        cats = pd.Series(values.cat.categories.to_numpy(dtype=object), dtype=object)
        cat_codes = values.cat.codes.to_numpy()
        if len(cats) == 0 or (cat_codes < 0).any():
            if blank_is_missing:
                table = _parse_correct(
                    cats, statuses=statuses, path=path, field=field, blank_is_missing=True
                )
                return np.where(cat_codes >= 0, table[np.maximum(cat_codes, 0)], _MISSING).astype(
                    np.int8
                )
            raise DataError(
                "missing value",
                path=path,
                row=int(np.flatnonzero(cat_codes < 0)[0]) + 1,
                field=field,
            )
        try:
            table = _parse_correct(
                cats, statuses=statuses, path=path, field=field, blank_is_missing=blank_is_missing
            )
        except DataError as exc:
            k = int(exc.row) - 1 if isinstance(exc.row, int) else 0
            row = int(np.flatnonzero(cat_codes == k)[0]) + 1
            raise DataError(exc.message, path=path, row=row, field=field) from None
        return table[cat_codes]
    obj = values.astype(object)
    try:
        codes, uniques = pd.factorize(obj, use_na_sentinel=True)
    except TypeError:  # unhashable cells (lists, dicts): find the first one for the message
        for row, v in enumerate(obj.to_numpy()):
            try:
                hash(v)
            except TypeError:
                raise DataError(
                    f"expected 0/1, a boolean or a Pix status, got {type(v).__name__} {v!r}",
                    path=path,
                    row=row + 1,
                    field=field,
                ) from None
        raise
    table = np.empty(len(uniques), dtype=np.int8)
    bad: dict[int, str] = {}
    for k, v in enumerate(uniques):  # loop over distinct values, not answers
        if isinstance(v, bool | np.bool_):
            table[k] = np.int8(bool(v))
        elif isinstance(v, int | np.integer | float | np.floating) and not isinstance(v, bool):
            if v in (0, 1):
                table[k] = np.int8(int(v))
            elif isinstance(v, float) and np.isnan(v) and blank_is_missing:
                table[k] = _MISSING
            else:
                bad[k] = f"expected 0/1, a boolean or a Pix status (ok, ko, ...), got {v!r}"
        elif isinstance(v, str):
            s = v.strip()
            if s in CORRECT_STATUSES or s in _TEXT_TRUE:
                table[k] = 1
            elif s in _WRONG_STATUSES or s in _TEXT_FALSE:
                table[k] = 0
            elif s in _SKIP_STATUSES:
                table[k] = skip_code
            elif s == "" and blank_is_missing:
                table[k] = _MISSING
            elif s == "":
                bad[k] = "missing value"
            else:
                bad[k] = (
                    f"unknown answer {v!r}: expected 0/1, true/false or a Pix status "
                    f"({', '.join(PIX_STATUSES)})"
                )
        else:
            bad[k] = f"expected 0/1, a boolean or a Pix status, got {type(v).__name__} {v!r}"
    if bad:
        bad_rows = np.flatnonzero(np.isin(codes, list(bad)))
        row = int(bad_rows[0])
        raise DataError(bad[int(codes[row])], path=path, row=row + 1, field=field)
    out = np.where(codes >= 0, table[np.maximum(codes, 0)] if len(table) else 0, _MISSING).astype(
        np.int8
    )
    if not blank_is_missing and (codes < 0).any():
        row = int(np.flatnonzero(codes < 0)[0])
        raise DataError("missing value", path=path, row=row + 1, field=field)
    return out


def _finish_numeric(
    arr: npt.NDArray[np.float64], path: str | None, field: str, blank_is_missing: bool
) -> npt.NDArray[np.int8]:
    nan = np.isnan(arr)
    bad = ~nan & (arr != 0) & (arr != 1)
    if not blank_is_missing:
        bad |= nan
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        got = (
            "missing value"
            if nan[row]
            else f"expected 0/1, a boolean or a Pix status, got {arr[row]!r}"
        )
        raise DataError(got, path=path, row=row + 1, field=field)
    out = (
        arr.astype(np.int8, copy=False)
        if not nan.any()
        else np.where(nan, _MISSING, arr).astype(np.int8)
    )
    return out


def read_responses(
    path: str | os.PathLike[str],
    *,
    person: str = "person_id",
    item: str = "item_id",
    correct: str = "correct",
    statuses: Statuses = "wrong",
    keep: Keep = "first",
) -> ResponseLog:
    """Read a long-format response log from CSV or Parquet.

    Parameters
    ----------
    path
        A ``.csv`` (optionally ``.csv.gz``) or ``.parquet`` file with one row per answer.
    person, item, correct
        Column names.
    statuses
        ``"wrong"`` or ``"missing"``: how to read Pix's skip-like statuses.
    keep
        Which duplicate (person, item) answer to keep.

    Returns
    -------
    ResponseLog
        The log. Integer-looking ids (no leading zeros) are read as int64, others as
        strings.

    Raises
    ------
    DataError
        Missing or empty file, missing column, bad value, naming file, row and field.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> d = tempfile.mkdtemp(); f = os.path.join(d, "answers.csv")
    >>> pd.DataFrame({"person_id": ["a", "a", "b"], "item_id": [1, 2, 1],
    ...               "correct": ["ok", "ko", "aband"]}).to_csv(f, index=False)
    >>> read_responses(f)
    ResponseLog(2 persons × 2 items, 3 answers)
    """
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise DataError("no such file", path=where)
    if p.stat().st_size == 0:
        raise DataError("empty file", path=where)
    name = p.name.lower()
    if name.endswith(".parquet"):
        import pyarrow.parquet as pq

        try:
            schema = pq.read_schema(p)
        except Exception as exc:  # pyarrow raises several types for bad files
            raise DataError(f"cannot read Parquet: {exc}", path=where) from None
        for col in (person, item, correct):
            if col not in schema.names:
                raise DataError(
                    f"missing column; columns are {schema.names}", path=where, field=col
                )
        import pyarrow as pa

        wanted = [person, item, correct]
        strings = [
            c
            for c in wanted
            if pa.types.is_string(schema.field(c).type)
            or pa.types.is_large_string(schema.field(c).type)
        ]
        try:
            df = pq.read_table(p, columns=wanted, read_dictionary=strings).to_pandas()
        except Exception as exc:  # pyarrow raises several types for bad files
            raise DataError(f"cannot read Parquet: {exc}", path=where) from None
    elif name.endswith((".csv", ".csv.gz", ".txt")):
        df = _read_csv(p, (person, item, correct))
    else:
        raise DataError(f"unknown format {p.suffix!r}: use .csv or .parquet", path=where)
    return ResponseLog.from_frame(
        df, person=person, item=item, correct=correct, statuses=statuses, keep=keep, path=where
    )


def _read_csv(p: Path, columns: tuple[str, str, str]) -> pd.DataFrame:
    """Read the three columns through Arrow, dictionary-encoded: one int32 code per row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    where = str(p)
    try:
        with pacsv.open_csv(p) as reader:
            names = reader.schema.names
    except (pa.ArrowInvalid, StopIteration) as exc:
        if "Empty CSV file" in str(exc) or isinstance(exc, StopIteration):
            raise DataError("empty file", path=where) from None
        raise DataError(f"malformed CSV: {exc}", path=where) from None
    for col in columns:
        if col not in names:
            raise DataError(f"missing column; columns are {names}", path=where, field=col)
    try:
        table = pacsv.read_csv(
            p,
            convert_options=pacsv.ConvertOptions(
                include_columns=list(columns),
                column_types=dict.fromkeys(columns, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        raise DataError(f"malformed CSV: {exc}", path=where) from None
    if table.num_rows == 0:
        raise DataError("no answers (header only)", path=where)
    out = {}
    for col in columns:
        encoded = pc.dictionary_encode(table.column(col).combine_chunks())
        series = encoded.to_pandas()
        if col != columns[2]:
            series = _int_ids_if_all_int(series)
        out[col] = series
    return pd.DataFrame(out)


def _int_ids_if_all_int(ids: pd.Series) -> pd.Series:
    """Ids read as text become int64 when every one is a canonical integer (no leading zeros)."""
    cats = pd.Series(ids.cat.categories.to_numpy(dtype=object), dtype=object)
    canonical = cats.str.fullmatch(r"-?(0|[1-9][0-9]{0,17})")
    if len(cats) and bool(canonical.all()):
        return ids.cat.rename_categories(cats.astype(np.int64).tolist())
    return ids
