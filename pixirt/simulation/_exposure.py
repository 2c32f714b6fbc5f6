"""Challenge exposure and test overlap (v3)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.rules import RuleSet
from pixirt.simulation._comparison_names import ObjArray
from pixirt.simulation._sides import _Exposure, _Side


def _exposure_of(frame: pd.DataFrame, bank: ItemBank, rules: RuleSet) -> _Exposure | None:
    if rules.algorithm != "v3" or "challenges" not in frame:
        return None
    lists = frame["challenges"].tolist()
    flat = _flatten(lists)
    pos = (
        pd.Index(bank.item_ids).get_indexer(pd.Index(flat)) if len(flat) else np.zeros(0, np.int64)
    )
    counts = np.bincount(pos[pos >= 0], minlength=bank.n_items).astype(np.int64)
    return _Exposure(counts, len(frame), int(frame["n_answers"].sum()))


def _exposure_tables(
    b: _Side, p: _Side, n_items: int
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    cols = [
        "rules",
        "n_items",
        "n_used",
        "share_unused",
        "max_exposure",
        "share_over_20",
        "mean_length",
        "overlap",
    ]
    rows = []
    curves: dict[str, list[float]] = {}
    for name, side in (("baseline", b), ("proposed", p)):
        ex = side.exposure
        if ex is None or ex.n < 2:
            continue
        c = ex.counts.astype(np.float64)
        rate = c / ex.n
        mean_len = ex.total_length / ex.n
        overlap = (
            float((c * (c - 1)).sum() / (ex.n * (ex.n - 1) * mean_len)) if mean_len else math.nan
        )
        rows.append(
            (
                name,
                len(c),
                int((c > 0).sum()),
                float((c == 0).mean()) if len(c) else math.nan,
                float(rate.max()) if len(c) else math.nan,
                float((rate > 0.2).mean()) if len(c) else math.nan,
                float(mean_len),
                overlap,
            )
        )
        curves[name] = [float(x) for x in np.sort(rate)[::-1]]
    del n_items
    return pd.DataFrame(rows, columns=cols), curves


def _flatten(lists: list[Any]) -> ObjArray:
    if not lists:
        return np.zeros(0, dtype=object)
    return np.asarray(np.concatenate([np.asarray(x, dtype=object) for x in lists]), dtype=object)
