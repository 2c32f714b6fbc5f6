"""The groups a change hurts more than others, in sentences.

Also the note on the number of gaps examined (the multiplicity of the tests).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from pixirt.simulation._formatting import _change_formatter, _ci, _count, _gap_magnitude, _rows
from pixirt.simulation._words import Lang, group_label, text

if TYPE_CHECKING:
    from pixirt.simulation._comparison import Comparison

_FLAG_ORDER = ("pass_rate", "worse_off", "mean_score")


def flag_sentences(c: Comparison, lang: Lang = "fr") -> list[str]:
    """The flagged gaps between groups, in plain words: pass rate, worse off, then score.

    Each sentence names the group hurt more, the two groups' changes, the gap and its
    interval, and, in simulations, what remains of the gap at equal true ability.
    """
    if c.gaps.empty:
        return []
    # the flags, and the gaps beyond chance that a condition of unequal treatment (equal
    # true ability, the noise floor) rules out: those are explained, not flagged
    g = c.gaps
    beyond = (g["adj_low"].astype(float) > 0) | (g["adj_high"].astype(float) < 0)
    flagged = g[g["flagged"].astype(bool) | (g["watch"].astype(bool) & beyond)]
    n_tests = len(c.gaps)
    mixed, out = _mixed_sentences(flagged, lang)
    for row in _rows(flagged):
        if (str(row["group_a"]), str(row["group_b"])) in mixed:
            continue
        out.append(_flag_sentence(row, c.confidence_level, n_tests, lang))
    out.sort(key=lambda t: (t[0], t[1]))
    return [s for _, _, s in out]


def _mixed_sentences(
    flagged: pd.DataFrame, lang: Lang
) -> tuple[set[tuple[str, str]], list[tuple[int, float, str]]]:
    """The pairs of groups flagged in opposite directions, each as one "mixed" sentence."""
    out: list[tuple[int, float, str]] = []
    # the group each flag says is hurt more, per pair: opposite directions are one "mixed" line
    by_pair: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for row in _rows(flagged):
        metric = str(row["metric"])
        hurt_sign = -1 if metric in ("pass_rate", "mean_score") else 1
        hurt = row["group_a"] if float(row["gap"]) * hurt_sign > 0 else row["group_b"]
        pair = (str(row["group_a"]), str(row["group_b"]))
        by_pair.setdefault(pair, []).append((metric, str(hurt)))
    mixed = {pair for pair, items in by_pair.items() if len({h for _, h in items}) > 1}
    for pair in sorted(mixed):
        details = ", ".join(
            text("flag_mixed_item", lang, metric=text(f"gap_{m}", lang), hurt=group_label(h, lang))
            for m, h in sorted(by_pair[pair], key=lambda x: _FLAG_ORDER.index(x[0]))
        )
        sentence = text(
            "flag_mixed",
            lang,
            a=group_label(pair[0], lang),
            b=group_label(pair[1], lang),
            details=details,
        )
        out.append((-1, 0.0, sentence))
    return mixed, out


def _flag_sentence(
    row: dict[str, Any], confidence_level: float, n_tests: int, lang: Lang
) -> tuple[int, float, str]:
    """One flagged gap in words, with its sort key (metric order, then largest gap first)."""
    metric = str(row["metric"])
    hurt_sign = -1 if metric in ("pass_rate", "mean_score") else 1
    a_hurt = float(row["gap"]) * hurt_sign > 0
    hurt, other = (row["group_a"], row["group_b"]) if a_hurt else (row["group_b"], row["group_a"])
    c_hurt, c_other = (
        (row["change_a"], row["change_b"]) if a_hurt else (row["change_b"], row["change_a"])
    )
    orient = hurt_sign if a_hurt else -hurt_sign  # oriented gap: > 0 means "more hurt"
    gap = float(row["gap"]) * orient
    lo, hi = sorted((float(row["low"]) * orient, float(row["high"]) * orient))
    mag = _gap_magnitude(metric, lang)
    fmt_change = _change_formatter(metric, lang)
    sentence = text(
        "flag_sentence",
        lang,
        hurt=group_label(str(hurt), lang),
        other=group_label(str(other), lang),
        metric=text(f"gap_{metric}", lang),
        c_hurt=fmt_change(float(c_hurt)),
        c_other=fmt_change(float(c_other)),
        gap=mag(gap),
        ci=_ci(lo, hi, confidence_level, lang, mag),
    )
    cond = float(row["cond_gap"])
    if math.isfinite(cond):
        clo, chi = sorted((float(row["cond_low"]) * orient, float(row["cond_high"]) * orient))
        alo, ahi = float(row["cond_adj_low"]), float(row["cond_adj_high"])
        # unequal treatment at equal ability only when the interval widened for the
        # gaps examined excludes 0 (a plain interval excludes it by chance 1 time in 20)
        if clo <= 0 <= chi:
            key = "flag_cond_vanishes"
        elif alo <= 0 <= ahi and abs(cond) < abs(float(row["gap"])) / 2:
            key = "flag_cond_shrinks"
        elif alo <= 0 <= ahi:
            key = "flag_cond_chance"
        else:
            key = "flag_cond_stays"
        sentence += " " + text(
            key,
            lang,
            gap=mag(cond * orient),
            ci=_ci(clo, chi, confidence_level, lang, mag),
            k=_count(n_tests, lang),
        )
    floor = float(row.get("noise_floor", math.nan))
    if math.isfinite(floor) and abs(float(row["gap"])) <= floor:
        sentence += " " + text("flag_noise", lang, floor=mag(floor))
    return (_FLAG_ORDER.index(metric), -abs(gap), sentence)


def multiplicity_note(c: Comparison, lang: Lang = "fr") -> str | None:
    """How many gaps were examined and how the flags account for it (None below 2 gaps)."""
    n_tests = len(c.gaps)
    if n_tests < 2:
        return None
    pairs = len({(str(r["group_a"]), str(r["group_b"])) for r in _rows(c.gaps)})
    metrics = len({str(r["metric"]) for r in _rows(c.gaps)})
    return text(
        "multiplicity",
        lang,
        k=_count(n_tests, lang),
        pairs=_count(pairs, lang),
        s="s" if pairs > 1 else "",
        metrics=_count(metrics, lang),
    )
