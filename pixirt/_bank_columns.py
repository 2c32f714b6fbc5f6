"""The columns of an item bank: standard, scale and mirt columns, ids, codes and their parsing (:class:`pixirt.ItemBank`)."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._json import decode_float, json_value
from pixirt.exceptions import DataError

FloatArray = npt.NDArray[np.float64]


PARAMETER_COLUMNS = ("a", "b", "c")


STANDARD_COLUMNS = ("item_id", "a", "b", "c", "se_a", "se_b", "se_c", "n_answers", "p_correct")


_FLOAT_COLUMNS = ("a", "b", "c", "se_a", "se_b", "se_c", "p_correct")


#: Metadata columns that always hold codes (kept as strings when read from CSV).
CODE_COLUMNS = frozenset(
    {"competence", "area", "tube", "skill", "type", "locale", "competence_id", "tube_id"}
)


_CSV_MAGIC = "# pixirt-item-bank "  # the scale line of old CSV banks (still read)


#: Columns carrying the bank's scale in its CSV (the same value on every row).
SCALE_COLUMNS = ("irt_model", "latent_mean", "latent_variance")


#: mirt's coefficient columns (``coef(mod, simplify = TRUE)$items``).
MIRT_COLUMNS = ("a1", "d", "g", "u")


_INT_RE = re.compile(r"^[+-]?(0|[1-9][0-9]*)$")


def ids_as_given(values: pd.Series, *, path: str | None, field: str) -> npt.NDArray[Any]:
    """Ids as a numpy array: int64 when every id is an integer, else object strings."""
    if len(values) == 0:
        return np.asarray([], dtype=object)
    if pd.api.types.is_bool_dtype(values.dtype):
        raise DataError(
            "ids must be strings or integers, got booleans", path=path, row=1, field=field
        )
    if pd.api.types.is_integer_dtype(values.dtype):
        if values.isna().any():
            row = int(np.flatnonzero(values.isna().to_numpy())[0]) + 1
            raise DataError("missing id", path=path, row=row, field=field)
        return values.to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(values.dtype):
        arr = values.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(arr) | (arr != np.round(arr))
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            got = "a missing value" if np.isnan(arr[row - 1]) else repr(float(arr[row - 1]))
            raise DataError(
                f"ids must be strings or integers, got {got}", path=path, row=row, field=field
            )
        return arr.astype(np.int64)
    obj = values.to_numpy(dtype=object)
    is_str = np.fromiter((isinstance(v, str) for v in obj), dtype=bool, count=len(obj))
    if is_str.all():
        empty = np.fromiter((v == "" for v in obj), dtype=bool, count=len(obj))
        if empty.any():
            row = int(np.flatnonzero(empty)[0]) + 1
            raise DataError("missing id", path=path, row=row, field=field)
        return obj
    is_int = np.fromiter(
        (isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_) for v in obj),
        dtype=bool,
        count=len(obj),
    )
    if is_int.all():
        return obj.astype(np.int64)
    bad_row = int(np.flatnonzero(~(is_str | is_int))[0]) if not (is_str | is_int).all() else None
    if bad_row is not None:
        value = obj[bad_row]
        got = (
            "a missing value"
            if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
            else f"{type(value).__name__} {value!r}"
        )
        raise DataError(
            f"ids must be strings or integers, got {got}", path=path, row=bad_row + 1, field=field
        )
    first_int = int(np.flatnonzero(is_int)[0])
    raise DataError(
        "ids mix strings and integers; use one type for every id",
        path=path,
        row=first_int + 1,
        field=field,
    )


def _parse_float_column(
    raw: pd.Series, *, path: str | None, field: str, required: bool
) -> FloatArray:
    """Parse a float column strictly; blank is NaN unless ``required``."""
    if pd.api.types.is_bool_dtype(raw.dtype):
        raise DataError("expected a number, got a boolean", path=path, row=1, field=field)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        out = raw.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        text = raw.astype("object").to_numpy()
        out = np.empty(len(text), dtype=np.float64)
        for i, v in enumerate(text):  # bank files are small: thousands of rows
            if (
                v is None
                or v is pd.NA
                or (isinstance(v, float) and math.isnan(v))
                or v == ""
                or v == "NA"  # R's write.csv
            ):
                out[i] = np.nan
                continue
            try:
                out[i] = float(v)
            except (TypeError, ValueError):
                raise DataError(
                    f"expected a number, got {v!r}", path=path, row=i + 1, field=field
                ) from None
    if required:
        missing = np.isnan(out)
        if missing.any():
            row = int(np.flatnonzero(missing)[0]) + 1
            raise DataError("missing value", path=path, row=row, field=field)
    return out


def _infer_metadata_column(name: str, raw: pd.Series) -> pd.Series:
    """Type a metadata column read as text: codes stay strings; else int, bool, float, str."""
    if name in CODE_COLUMNS:
        return raw.astype(object)
    values = raw.astype(object)
    present = values[values.map(lambda v: v != "" and v is not None)]
    if len(present) == 0:
        return values
    if present.map(lambda v: bool(_INT_RE.match(str(v)))).all():
        if len(present) == len(values):
            return values.map(int).astype(np.int64)
        return values.map(lambda v: int(v) if v != "" else pd.NA).astype("Int64")
    lowered = present.map(lambda v: str(v).lower())
    if lowered.isin(["true", "false"]).all() and len(present) == len(values):
        return values.map(lambda v: str(v).lower() == "true").astype(bool)
    try:
        floats = values.map(lambda v: float(v) if v != "" else np.nan).astype(np.float64)
    except (TypeError, ValueError):
        return values
    return floats


def _is_mirt(columns: Iterable[Any]) -> bool:
    """A mirt coefficient table: ``a1``, ``g`` or ``u``, or ``d`` without ``b``."""
    names = {str(c) for c in columns}
    return bool(names & {"a1", "g", "u"}) or ("d" in names and "b" not in names)


def _numeric_ids(ids: pd.Series) -> pd.Series:
    numeric = ids.map(lambda v: bool(_INT_RE.match(v)) and (v == str(int(v))))
    if len(ids) and numeric.all():
        return ids.map(int).astype(np.int64)
    return ids


def _from_mirt_columns(frame: pd.DataFrame, *, path: str | None) -> pd.DataFrame:
    """Mirt's ``a``/``a1``, ``b``/``d``, ``g``, ``u`` as pixirt's ``a``, ``b``, ``c``."""
    cols = {str(c) for c in frame.columns}
    if "item_id" not in cols:
        raise DataError(f"missing column; columns are {sorted(cols)}", path=path, field="item_id")
    slope = "a1" if "a1" in cols else "a"
    if slope not in cols:
        raise DataError("missing column (mirt slope a1 or a)", path=path, field="a1")
    a = _parse_float_column(frame[slope], path=path, field=slope, required=True)
    if "b" in cols:
        b = _parse_float_column(frame["b"], path=path, field="b", required=True)
    elif "d" in cols:
        d = _parse_float_column(frame["d"], path=path, field="d", required=True)
        zero = a == 0
        if zero.any():
            row = int(np.flatnonzero(zero)[0]) + 1
            raise DataError("slope 0: b = −d/a1 is infinite", path=path, row=row, field=slope)
        b = -d / a
    else:
        raise DataError("missing column (mirt b or d)", path=path, field="b")
    g = np.zeros(len(frame))
    if "g" in cols:
        g = np.nan_to_num(
            _parse_float_column(frame["g"], path=path, field="g", required=False), nan=0.0
        )
    if "u" in cols:
        u = _parse_float_column(frame["u"], path=path, field="u", required=False)
        bad = ~np.isnan(u) & (u != 1.0)
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise DataError(
                f"upper asymptote u must be 1 (pixirt has no 4PL), got {u[row - 1]!r}",
                path=path,
                row=row,
                field="u",
            )
    out = pd.DataFrame({"item_id": frame["item_id"].to_numpy(), "a": a, "b": b, "c": g})
    for col in frame.columns:
        if str(col) not in {"item_id", slope, "b", "d", "g", "u", "a", "a1", "c"}:
            out[str(col)] = frame[col].to_numpy()
    return out


def _scale_from_columns(frame: pd.DataFrame, cols: list[str], where: str) -> dict[str, Any]:
    """The scale written in ``SCALE_COLUMNS`` (one value, repeated on every row)."""
    meta: dict[str, Any] = {}
    key = {"irt_model": "model", "latent_mean": "latent_mean", "latent_variance": "latent_variance"}
    for col in cols:
        values = frame[col].astype(str).to_numpy()
        if not len(values):
            continue
        differ = values != values[0]
        if differ.any():
            row = int(np.flatnonzero(differ)[0]) + 1
            raise DataError(
                f"the bank's scale must be the same on every row: {values[row - 1]!r} "
                f"differs from row 1's {values[0]!r}",
                path=where,
                row=row,
                field=col,
            )
        meta[key[col]] = values[0]
    return meta


def _scale_kwargs(meta: Mapping[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "model" in meta:
        out["model"] = meta["model"]
    for key in ("latent_mean", "latent_variance"):
        if key in meta:
            try:
                out[key] = float(meta[key])
            except (TypeError, ValueError):
                raise DataError(
                    f"expected a number, got {meta[key]!r}", path=where, field=key
                ) from None
    return out


_json_value = json_value  # the one convention (pixirt._json)


def _restore_column(values: Any, dtype: str) -> Any:
    if dtype in ("float64", "float32"):
        return values.map(decode_float).astype(dtype)
    if dtype in ("int64", "int32", "int16", "int8"):
        return values.astype(dtype)
    if dtype == "Int64":
        return values.astype("Int64")
    if dtype == "bool":
        return values.astype(bool)
    return values.astype(object)
