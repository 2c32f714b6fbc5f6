"""Reading response tables from data frames and CSV files (:class:`pixirt.ResponseLog`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from pixirt._response_log import ResponseLog
from pixirt._response_values import Keep, Statuses
from pixirt.exceptions import DataError


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
