"""JSON-safe values and tables for :meth:`Comparison.to_dict` / :meth:`Comparison.from_dict`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pixirt.exceptions import DataError


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, r, strict=True)) for r in frame.itertuples(index=False, name=None)]


def _json_value(v: Any) -> Any:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    return v


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
        rows = [[math.nan if v is None else v for v in r] for r in data["rows"]]
    except (KeyError, TypeError):
        raise DataError("expected {columns, rows}", field=name) from None
    return pd.DataFrame(rows, columns=cols)
