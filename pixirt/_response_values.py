"""Response values: Pix statuses, correctness and ids as given (:class:`pixirt.ResponseLog`)."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._bank_columns import ids_as_given
from pixirt.exceptions import DataError

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
            ids_as_given(pd.Series(cat.categories.to_numpy()), path=path, field=field)
        except DataError as exc:  # report the first row holding the bad category
            bad = cat.categories[int(exc.row) - 1] if isinstance(exc.row, int) else None
            row = (
                int(np.flatnonzero((values == bad).to_numpy())[0]) + 1 if bad is not None else None
            )
            raise DataError(exc.message, path=path, row=row, field=field) from None
        cat_codes, cat_uniques = pd.factorize(values, sort=False)
        return np.asarray(cat_codes, dtype=np.int64), np.asarray(cat_uniques)
    ids = ids_as_given(values, path=path, field=field)
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
        return _parse_categorical(
            values, statuses=statuses, path=path, field=field, blank_is_missing=blank_is_missing
        )
    return _parse_objects(
        values, skip_code=skip_code, path=path, field=field, blank_is_missing=blank_is_missing
    )


def _parse_categorical(
    values: pd.Series,
    *,
    statuses: Statuses,
    path: str | None,
    field: str,
    blank_is_missing: bool,
) -> npt.NDArray[np.int8]:
    """:func:`_parse_correct` of a categorical column: its categories parsed once."""
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


def _parse_objects(
    values: pd.Series,
    *,
    skip_code: np.int8,
    path: str | None,
    field: str,
    blank_is_missing: bool,
) -> npt.NDArray[np.int8]:
    """:func:`_parse_correct` of a column of objects (strings, numbers, booleans): each distinct value once."""
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
