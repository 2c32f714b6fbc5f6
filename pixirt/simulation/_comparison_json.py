"""JSON-safe values and tables for :meth:`Comparison.to_dict` / :meth:`Comparison.from_dict`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from pixirt._json import decode_float, json_value
from pixirt.exceptions import DataError


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, r, strict=True)) for r in frame.itertuples(index=False, name=None)]


def _json_value(v: Any) -> Any:
    return json_value(v)  # the one convention (pixirt._json)


def _read_number(v: Any) -> Any:
    """A table cell back from JSON: null and ±inf (``"inf"``) as floats, the rest as is."""
    return decode_float(v) if v is None or (isinstance(v, str) and v in ("inf", "-inf")) else v


def _json_map(m: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _json_value(v) for k, v in m.items()}


def _table_to_dict(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[_json_value(v) for v in row] for row in frame.itertuples(index=False)],
    }


def _table_from_dict(data: Mapping[str, Any], name: str) -> pd.DataFrame:
    try:
        cols = list(data["columns"])
        rows = [[_read_number(v) for v in r] for r in data["rows"]]
    except (KeyError, TypeError):
        raise DataError("expected {columns, rows}", field=name) from None
    return pd.DataFrame(rows, columns=cols)
