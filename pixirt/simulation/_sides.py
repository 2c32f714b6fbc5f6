"""One rule set's results as arrays over the candidates.

Also what the rules give the true ability, and how a candidate's two results differ.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.rules import RuleSet
from pixirt.simulation._comparison_names import _BLOCK, NO_LEVEL, BoolArray, FloatArray, ObjArray
from pixirt.simulation._population import ObservedPopulation, Population


# ====================================================================== per-candidate facts
@dataclass(frozen=True, slots=True)
class _Exposure:
    """How often each challenge was served (v3), for the exposure tables."""

    counts: npt.NDArray[np.int64]  # per bank challenge, candidates served it
    n: int
    total_length: int


@dataclass(frozen=True, slots=True)
class _Truth:
    pix: FloatArray
    level: FloatArray  # n × C, 0 = no level
    global_level: ObjArray | None


@dataclass(frozen=True, slots=True)
class _Side:
    """One rule set's results, as arrays over the candidates."""

    status: ObjArray
    pix: FloatArray
    cert: FloatArray  # n × C certificate levels, NaN = no level
    capacity: FloatArray | None
    global_level: ObjArray | None
    truth: _Truth | None = None
    retest_status: ObjArray | None = None
    retest_cert: FloatArray | None = None
    retest_pix: FloatArray | None = None
    exposure: _Exposure | None = None
    review: FloatArray | None = None  # 1.0: sent to a human jury

    @property
    def valid(self) -> BoolArray:
        return np.asarray(self.status == "validated", dtype=bool)


@dataclass(frozen=True, slots=True)
class _Shared:
    group: ObjArray
    theta: FloatArray | None
    codes: tuple[str, ...]
    retest_rows: npt.NDArray[np.int64] | None


def _codes(a: pd.DataFrame, b: pd.DataFrame) -> tuple[str, ...]:
    found = {
        str(c)[len("cert_level_") :]
        for f in (a, b)
        for c in f.columns
        if str(c).startswith("cert_level_")
    }
    return tuple(
        sorted(found, key=lambda c: tuple(int(x) if x.isdigit() else x for x in c.split(".")))
    )


def _side_from_frame(
    frame: pd.DataFrame,
    rules: RuleSet,
    codes: tuple[str, ...],
    theta: FloatArray | None,
    *,
    truth: _Truth | None = None,
) -> _Side:
    status = frame["status"].astype(str).to_numpy(dtype=object)
    pix = pd.to_numeric(frame["pix_score"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    valid = status == "validated"
    cert = np.full((len(frame), len(codes)), np.nan)
    for k, code in enumerate(codes):
        col = f"cert_level_{code}"
        if col in frame:
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            cert[:, k] = np.where(values >= 0, values, np.nan)
    cert[~valid] = np.nan
    capacity = (
        pd.to_numeric(frame["capacity"], errors="coerce").to_numpy(dtype=np.float64)
        if "capacity" in frame and rules.algorithm == "v3"
        else None
    )
    global_level = (
        np.where(valid, frame["global_level"].astype(str).to_numpy(dtype=object), NO_LEVEL)
        if "global_level" in frame and rules.algorithm == "v3"
        else None
    )
    if truth is None and theta is not None and rules.algorithm == "v3":
        truth = _truth_v3(rules, theta, codes)
    review = (
        frame["jury_review"].fillna(False).to_numpy(dtype=np.float64)
        if "jury_review" in frame
        else np.zeros(len(frame))
    )
    return _Side(status, pix, cert, capacity, global_level, truth, review=review)


def _review(side: _Side, n: int) -> FloatArray:
    return np.zeros(n) if side.review is None else side.review


def _truth(
    rules: RuleSet,
    theta: FloatArray,
    codes: tuple[str, ...],
    population: Population | ObservedPopulation,
    bank: ItemBank,
    n: int,
    seed: int,
) -> _Truth:
    if rules.algorithm == "v3":
        return _truth_v3(rules, theta, codes)
    return _truth_v2(rules, codes, population, bank, n, seed)


def _truth_v3(rules: RuleSet, theta: FloatArray, codes: tuple[str, ...]) -> _Truth:
    """What the rules give the true ability, without measurement error (a complete test)."""
    from pixirt.cat import _scale as scale

    v3 = rules.v3
    decided = scale.outcomes(theta, v3, n_answers=None)
    reject = decided.outcome_names() != "validated"
    level = np.maximum(scale.competence_level_table(theta, v3, codes), 0).astype(np.float64)
    level[reject] = 0.0
    glob = np.where(reject, NO_LEVEL, decided.global_level_names(v3)).astype(object)
    return _Truth(pix=decided.pix_score.astype(np.float64), level=level, global_level=glob)


def _truth_v2(
    rules: RuleSet,
    codes: tuple[str, ...],
    population: Population | ObservedPopulation,
    bank: ItemBank,
    n: int,
    seed: int,
) -> _Truth:
    """v2: the levels and pix an error-free positioning gives (true competence abilities)."""
    from pixirt.cat import _v2_tables

    v2 = rules.v2
    exact = (
        replace(population, positioning_noise=0.0)
        if isinstance(population, Population)
        else population
    )
    levels = np.zeros((n, len(codes)))
    pix = np.zeros(n)
    for lo in range(0, n, _BLOCK):
        size = min(_BLOCK, n - lo)
        cands = exact.sample(size, seed=seed, start=lo, bank=bank)
        assert cands.levels is not None and cands.pix is not None
        col = [cands.competences.index(c) if c in cands.competences else -1 for c in codes]
        lv = np.stack(
            [cands.levels[:, j].astype(np.float64) if j >= 0 else np.zeros(size) for j in col],
            axis=1,
        )
        px = np.stack(
            [cands.pix[:, j].astype(np.float64) if j >= 0 else np.zeros(size) for j in col],
            axis=1,
        )
        tested = _v2_tables.tested_competences(v2, lv)
        lv_max, px_max = _v2_tables.blocked(v2, lv, px)
        lv = np.where(tested, lv_max, 0.0)
        px = np.where(tested, px_max, 0.0)
        levels[lo : lo + size] = lv
        pix[lo : lo + size] = px.sum(axis=1)
    return _Truth(pix=pix, level=levels, global_level=None)


def _paired_flags(
    sb: ObjArray, xb: FloatArray, cb: FloatArray, sp: ObjArray, xp: FloatArray, cp: FloatArray
) -> dict[str, BoolArray]:
    """Per candidate, how the second result differs from the first (:data:`CHANGE_METRICS`)."""
    vb = np.asarray(sb == "validated", dtype=bool)
    vp = np.asarray(sp == "validated", dtype=bool)
    lb = np.where(np.isnan(cb), -1.0, cb)  # no level ranks below every level
    lp = np.where(np.isnan(cp), -1.0, cp)
    both = vb & vp
    lost = vb & ~vp
    gained = ~vb & vp
    score_down = both & (xp < xb)
    score_up = both & (xp > xb)
    level_down = both & (lp < lb).any(axis=1)
    level_up = both & (lp > lb).any(axis=1)
    worse = lost | score_down | level_down
    better = gained | score_up | level_up
    changed = (sb != sp) | (xb != xp) | (lb != lp).any(axis=1)
    return {
        "changed": np.asarray(changed, dtype=bool),
        "worse_off": worse & ~better,
        "better_off": better & ~worse,
        "mixed": worse & better,
        "lost_certification": lost,
        "gained_certification": gained,
        "score_down": score_down,
        "score_up": score_up,
        "level_down": level_down,
        "level_up": level_up,
    }
