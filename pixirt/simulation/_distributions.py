"""The comparison's distributions and transitions.

Outcomes, score changes, score histograms, certified levels, the per-candidate table.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pixirt.simulation._comparison_names import NO_LEVEL, STATUSES, BoolArray, FloatArray, ObjArray
from pixirt.simulation._sides import _Shared, _Side


def _outcome_table(sb: ObjArray, sp: ObjArray) -> pd.DataFrame:
    present = set(sb.tolist()) | set(sp.tolist())
    labels = [x for x in STATUSES if x in present] + sorted(present - set(STATUSES))
    pos = {label: i for i, label in enumerate(labels)}
    ib = np.array([pos[x] for x in sb.tolist()], dtype=np.int64)
    ip = np.array([pos[x] for x in sp.tolist()], dtype=np.int64)
    k = len(labels)
    counts = np.bincount(ib * k + ip, minlength=k * k).reshape(k, k)
    return pd.DataFrame(
        counts.astype(np.int64),
        index=pd.Index(labels, name="baseline"),
        columns=pd.Index(labels, name="proposed"),
    )


def _score_change_tables(d: FloatArray) -> tuple[pd.DataFrame, dict[str, float]]:
    di = np.round(d).astype(np.int64)
    lo, hi = int(di.min()), int(di.max())
    span = hi - lo + 1
    if span <= 61:
        edges = np.arange(lo, hi + 2)
    else:  # about 40 bins of equal integer width, one of them starting at 0
        width = math.ceil(span / 40)
        start = -width * math.ceil(-lo / width) if lo < 0 else lo
        edges = np.arange(start, hi + width + 1, width)
    counts = np.histogram(di, bins=edges)[0] if len(edges) > 1 else np.array([len(di)])
    table = pd.DataFrame(
        {"low": edges[:-1], "high": edges[1:] - 1, "count": counts.astype(np.int64)}
    )
    table = table[table["count"] > 0].reset_index(drop=True)
    qs = np.quantile(d, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    stats = {
        "mean": float(d.mean()),
        "min": float(d.min()),
        "max": float(d.max()),
        **{
            f"q{round(100 * q):02d}": float(v)
            for q, v in zip((0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99), qs, strict=True)
        },
        "share_up": float((d > 0).mean()),
        "share_down": float((d < 0).mean()),
    }
    return table, stats


def _score_histograms(xb: FloatArray, xp: FloatArray) -> pd.DataFrame:
    lo = float(min(xb.min(), xp.min()))
    hi = float(max(xb.max(), xp.max()))
    if hi <= lo:
        hi = lo + 1
    edges = np.linspace(lo, hi, 41)
    return pd.DataFrame(
        {
            "low": edges[:-1],
            "high": edges[1:],
            "baseline": np.histogram(xb, bins=edges)[0].astype(np.int64),
            "proposed": np.histogram(xp, bins=edges)[0].astype(np.int64),
        }
    )


def _level_labels(present: set[str]) -> list[str]:
    levels = sorted((x for x in present if x != NO_LEVEL), key=lambda s: float(s))
    return [NO_LEVEL, *levels]


def _label(values: FloatArray) -> ObjArray:
    out = np.full(values.shape, NO_LEVEL, dtype=object)
    ok = ~np.isnan(values)
    out[ok] = [str(int(v)) for v in values[ok]]
    return out


def _level_table(cb: FloatArray, cp: FloatArray, codes: tuple[str, ...]) -> pd.DataFrame:
    cols = ["competence", "baseline", "proposed", "count"]
    if not codes or cb.shape[0] == 0:
        return pd.DataFrame(columns=cols)
    # levels 0..8 as 1..9, no level as 0; one integer key per (competence, baseline, proposed)
    b = np.where(np.isnan(cb), 0, cb + 1).astype(np.int64)
    p = np.where(np.isnan(cp), 0, cp + 1).astype(np.int64)
    comp = np.broadcast_to(np.arange(len(codes)), b.shape)
    keys, counts = np.unique((comp * 16 + b) * 16 + p, return_counts=True)
    names = np.array([NO_LEVEL, *[str(v) for v in range(15)]], dtype=object)
    return pd.DataFrame(
        {
            "competence": np.asarray(codes, dtype=object)[keys // 256],
            "baseline": names[(keys // 16) % 16],
            "proposed": names[keys % 16],
            "count": counts.astype(np.int64),
        },
        columns=cols,
    )


def _candidates_frame(
    b: _Side, p: _Side, shared: _Shared, paired: Mapping[str, BoolArray]
) -> pd.DataFrame:
    cols: dict[str, Any] = {"group": shared.group}
    if shared.theta is not None:
        cols["true_theta"] = shared.theta
    cols.update(
        baseline_status=b.status,
        proposed_status=p.status,
        baseline_pix=b.pix,
        proposed_pix=p.pix,
    )
    for k, code in enumerate(shared.codes):
        cols[f"baseline_level_{code}"] = b.cert[:, k]
        cols[f"proposed_level_{code}"] = p.cert[:, k]
    cols.update(paired)
    return pd.DataFrame(cols)
