"""Numbers as the report writes them, per language.

Thousands, decimals, percents, points, pix, intervals.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from pixirt.simulation._words import Lang, text

if TYPE_CHECKING:
    pass

#: A number formatter.
Fmt = Callable[[float], str]

NBSP = "\u00a0"
NNBSP = "\u202f"  # French thousands separator and space before % and :
MINUS = "\u2212"


# ====================================================================== numbers
def format_number(x: float, decimals: int = 0, lang: Lang = "fr", *, signed: bool = False) -> str:
    """A number with the language's separators (``1 234,5`` / ``1,234.5``), ``−`` for minus.

    Examples
    --------
    >>> format_number(-1234.56, 1, "fr", signed=True) == "\u22121\u202f234,6"
    True
    >>> format_number(1234.5, 1, "en", signed=True)
    '+1,234.5'
    """
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "–"
    value = round(float(x), decimals)
    if value == 0:
        value = 0.0  # no "−0"
    body = f"{abs(value):,.{decimals}f}"
    if lang == "fr":
        body = body.replace(",", "\x00").replace(".", ",").replace("\x00", NNBSP)
    sign = MINUS if value < 0 else ("+" if signed and value > 0 else "")
    return sign + body


def format_percent(share: float, lang: Lang = "fr", decimals: int = 1) -> str:
    """A share as a percentage (``0.8123`` → ``81,2 %`` / ``81.2%``)."""
    if share is None or not math.isfinite(share):
        return "–"
    body = format_number(100 * share, decimals, lang)
    return f"{body}{NNBSP}%" if lang == "fr" else f"{body}%"


def format_points(diff: float, lang: Lang = "fr", decimals: int = 1) -> str:
    """A difference of shares in percentage points, signed (``−1,4 point``)."""
    if diff is None or not math.isfinite(diff):
        return "–"
    body = format_number(100 * diff, decimals, lang, signed=True)
    plural = abs(round(100 * diff, decimals)) >= 2
    if lang == "fr":
        return f"{body}{NBSP}point{'s' if plural else ''}"
    return f"{body}{NBSP}pt{'s' if plural or round(100 * diff, decimals) == 0 else ''}"


def _pix(x: float, lang: Lang, decimals: int = 1, *, signed: bool = False) -> str:
    return f"{format_number(x, decimals, lang, signed=signed)}{NBSP}pix"


def _ci(lo: float, hi: float, level: float, lang: Lang, fmt: Fmt) -> str:
    """``IC 95 % : −3,7 à −2,1 points``: the unit said once, after the upper bound."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return text("ci_none", lang)
    low, high = fmt(lo), fmt(hi)
    if NBSP in low and NBSP in high:
        low = low.split(NBSP)[0]
    elif low.endswith("%") and high.endswith("%"):
        low = low.rstrip("%").rstrip(NNBSP)
    return text("ci", lang, level=format_percent(level, lang, 0), lo=low, hi=high)


def _count(k: int, lang: Lang) -> str:
    return format_number(k, 0, lang)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The rows of a table as plain dicts."""
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, r, strict=True)) for r in frame.itertuples(index=False, name=None)]


def _keyed(frame: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """Rows of a ``metric``/``group`` table by ``(metric, group)``."""
    return {(str(r["metric"]), str(r["group"])): r for r in _rows(frame)}


# ====================================================================== fairness in words
def _points_fmt(lang: Lang) -> Fmt:
    return lambda x: format_points(x, lang)


def _pix_fmt(lang: Lang, *, signed: bool = True) -> Fmt:
    return lambda x: _pix(x, lang, signed=signed)


def _percent_fmt(lang: Lang, decimals: int = 1) -> Fmt:
    return lambda x: format_percent(x, lang, decimals)


def _value_fmt(metric: str, lang: Lang) -> Fmt:
    return lambda x: _fmt_value(metric, x, lang, diff=True)


def _gap_formatter(metric: str, lang: Lang) -> Fmt:
    return _pix_fmt(lang) if metric == "mean_score" else _points_fmt(lang)


def _change_formatter(metric: str, lang: Lang) -> Fmt:
    if metric == "mean_score":
        return _pix_fmt(lang)
    if metric == "worse_off":
        return _percent_fmt(lang)
    return _points_fmt(lang)


def _gap_magnitude(metric: str, lang: Lang) -> Fmt:
    if metric == "mean_score":
        return _pix_fmt(lang, signed=False)
    return lambda x: format_points(x, lang).lstrip("+")


def _fmt_value(metric: str, x: float, lang: Lang, *, diff: bool = False) -> str:
    if metric in ("pass_rate", "jury_review") or metric in (
        "level_accuracy",
        "level_accuracy_within_one",
        "global_level_accuracy",
        "level_consistency",
    ):
        return format_points(x, lang) if diff else format_percent(x, lang)
    if metric in ("score_correlation", "score_test_retest"):
        return format_number(x, 3, lang, signed=diff)
    if metric in ("capacity_bias", "capacity_rmse", "mean_level"):
        return format_number(x, 3 if metric != "mean_level" else 2, lang, signed=diff)
    return _pix(x, lang, signed=diff)
