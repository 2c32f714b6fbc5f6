"""The calibrated bank and the items a bank for the engine cannot hold."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.calibration._em_loop import DIVERGED
from pixirt.calibration._results import CalibrationError
from pixirt.calibration._state import Layout, State

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def item_problems(item_ids: npt.NDArray[Any], layout: Layout, s: State) -> pd.DataFrame:
    """The calibrated items a bank for the engine cannot hold, one row each.

    ``problem`` is ``"diverging slope"`` (``|a|`` reached ``DIVERGED``, where EM holds
    it), ``"non-positive slope"`` (``a ≤ 0``) or ``"diverging difficulty"``
    (``|b| > DIVERGED``), in that order of precedence.
    """
    f = layout.free
    a, d = s.a[f], s.d[f]
    with np.errstate(divide="ignore", invalid="ignore"):
        b = -d / a
    if not np.all(np.isfinite(b)):
        bad = item_ids[f][~np.isfinite(b)]
        raise CalibrationError(
            f"estimates diverge for {len(bad)} item(s): {', '.join(map(repr, bad[:5].tolist()))} "
            "(slope exactly 0, infinite difficulty); use priors='default' or drop them"
        )
    problem = np.full(len(f), "", dtype=object)
    problem[np.abs(b) > DIVERGED] = "diverging difficulty"
    problem[a <= 0] = "non-positive slope"
    problem[np.abs(a) >= DIVERGED] = "diverging slope"
    keep = problem != ""
    return pd.DataFrame(
        {
            "item_id": pd.Series(item_ids[f][keep], dtype=object),
            "a": a[keep],
            "b": b[keep],
            "problem": pd.Series(problem[keep], dtype=object),
        }
    )


def scatter_se(values: FloatArray, held: npt.NDArray[np.bool_]) -> FloatArray:
    """Standard errors of the free items, NaN for the ``held`` ones."""
    if not held.any():
        return values
    out = np.full(len(held), np.nan)
    out[~held] = values
    return out


def describe(problems: pd.DataFrame) -> str:
    rows = problems.head(5)
    return ", ".join(
        f"{i!r} ({p}: a={x:.3g}, b={y:.3g})"
        for i, p, x, y in zip(rows["item_id"], rows["problem"], rows["a"], rows["b"], strict=True)
    )


def result_bank(
    item_ids: npt.NDArray[Any],
    stats: pd.DataFrame,
    layout: Layout,
    s: State,
    fixed: ItemBank | None,
    fixed_pos: IntArray,
    se_a: FloatArray,
    se_b: FloatArray,
    se_c: FloatArray,
) -> ItemBank:
    n_items = len(item_ids)
    a, d, c = s.a, s.d, s.c
    frame = pd.DataFrame(
        {
            "item_id": item_ids,
            "a": a,
            "b": -d / a,
            "c": c if layout.model == "3PL" else np.zeros(n_items),
            "se_a": np.full(n_items, np.nan),
            "se_b": np.full(n_items, np.nan),
            "se_c": np.full(n_items, np.nan),
            "n_answers": stats["n_answers"].to_numpy(),
            "p_correct": stats["p_correct"].to_numpy(),
        }
    )
    f = layout.free
    frame.loc[f, "se_a"] = se_a
    frame.loc[f, "se_b"] = se_b
    frame.loc[f, "se_c"] = se_c
    mean, variance = s.mean, s.variance
    if fixed is not None:
        old = fixed.to_frame()
        known = np.flatnonzero(fixed_pos >= 0)
        standard = ["a", "b", "c", "se_a", "se_b", "se_c", "n_answers", "p_correct"]
        frame["n_answers"] = frame["n_answers"].astype("Int64")
        for col in standard:
            frame.loc[known, col] = old[col].to_numpy()[fixed_pos[known]]
        extra_cols = [col for col in old.columns if col not in frame.columns]
        absent = np.setdiff1d(np.arange(fixed.n_items), fixed_pos[known])
        for col in extra_cols:
            source = old[col]
            if len(known) == n_items:
                frame[col] = source.to_numpy()[fixed_pos]
                continue
            values = np.full(n_items, None, dtype=object)
            values[known] = source.to_numpy(dtype=object)[fixed_pos[known]]
            frame[col] = pd.Series(values).infer_objects().to_numpy()
        frame["fixed"] = fixed_pos >= 0
        if len(absent):
            rest = old.iloc[absent].copy()
            rest["fixed"] = True
            frame = pd.concat([frame, rest[frame.columns]], ignore_index=True)
        mean, variance = fixed.latent_mean, fixed.latent_variance
    return ItemBank.from_frame(
        frame, model=layout.model, latent_mean=mean, latent_variance=variance
    )
