"""The rule change in words: one sentence per changed rule, grouped by topic."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pixirt.rules import FieldChange, RuleSetDiff
from pixirt.simulation._formatting import MINUS, NNBSP, format_number
from pixirt.simulation._words import _ACTIONS, _BANDS, _FIELDS, _METADATA, _VALUES, Lang, text

if TYPE_CHECKING:
    pass


# ====================================================================== the rule change in words
def _value(v: Any, lang: Lang) -> str:
    if isinstance(v, bool):
        return ("oui" if v else "non") if lang == "fr" else ("yes" if v else "no")
    if isinstance(v, int | float):
        decimals = 0 if float(v).is_integer() else min(6, max(1, len(repr(float(v)).split(".")[1])))
        return format_number(float(v), decimals, lang)
    if v is None:
        return "–"
    if isinstance(v, list | dict):
        text_ = json.dumps(v, ensure_ascii=False)
        return text_ if len(text_) <= 60 else text_[:57] + "…"
    if v == "inf":
        return "+∞"
    if v == "-inf":
        return MINUS + "∞"
    if v in _ACTIONS:
        return _ACTIONS[v][lang]
    if v in _VALUES:
        return _VALUES[v][lang]
    return f"« {v} »" if lang == "fr" else f"“{v}”"


def _row_level(content: Mapping[str, Any], code: str, row: int) -> int | None:
    try:
        return int(content["scoring"]["v3"]["competence_intervals"][code][row]["level"])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


_COMP = re.compile(r'^\[scoring\.v3\.competence_intervals\."([^"]+)"\]\[(\d+)\](?:\.(\w+))?$')
_GLOBAL = re.compile(r"^\[scoring\.v3\.intervals\]\[(\d+)\](?:\.(\w+))?$")
_TABLE = re.compile(r"^\[scoring\.v2\.table\]\((\d+), (\d+), (\d+)\)(?:\.(\w+))?$")


def _topic(change: FieldChange) -> str:
    path = change.path
    if path in _METADATA:
        return "metadata"
    if _COMP.match(path):
        return "competence_intervals"
    if _GLOBAL.match(path):
        return "intervals"
    if _TABLE.match(path):
        return "table"
    return path


def _describe_one(
    change: FieldChange,
    lang: Lang,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> str:
    arrow = f" {_value(change.before, lang)} → {_value(change.after, lang)}"
    if change.kind == "added":
        arrow = " : ajouté" if lang == "fr" else ": added"
    elif change.kind == "removed":
        arrow = " : supprimé" if lang == "fr" else ": removed"
    colon = f"{NNBSP}:" if lang == "fr" else ":"
    if change.kind == "changed":
        arrow = f"{colon}{arrow}"
    m = _COMP.match(change.path)
    if m:
        code, row, bound = m.group(1), int(m.group(2)), m.group(3)
        level = _row_level(after, code, row)
        level = _row_level(before, code, row) if level is None else level
        what = {
            "min": "borne basse" if lang == "fr" else "lower bound",
            "max": "borne haute" if lang == "fr" else "upper bound",
            "level": "niveau" if lang == "fr" else "level",
        }.get(bound or "", bound or "")
        lv = f"niveau {level}" if lang == "fr" else f"level {level}"
        head = "Compétence" if lang == "fr" else "Competence"
        return (
            f"{head} {code}, {lv}, {what} (capacité){arrow}"
            if lang == "fr"
            else f"{head} {code}, {lv}, {what} (capacity){arrow}"
        )
    m = _GLOBAL.match(change.path)
    if m:
        k, bound = int(m.group(1)), m.group(2)
        bounds = (
            {"min": "borne basse", "max": "borne haute"}
            if lang == "fr"
            else {"min": "lower bound", "max": "upper bound"}
        )
        head = "Palier" if lang == "fr" else "Score band"
        return (
            f"{head} {k} du score global, {bounds.get(bound or '', bound or '')}{arrow}"
            if lang == "fr"
            else f"{head} {k}, {bounds.get(bound or '', bound or '')}{arrow}"
        )
    m = _TABLE.match(change.path)
    if m:
        q, ok, neu, band = m.groups()
        n_q, n_ok, n_neu = int(q), int(ok), int(neu)
        if lang == "fr":  # French: 0 and 1 take the singular
            head = (
                f"Table des niveaux, {q} question{'s' if n_q > 1 else ''} dont {ok} "
                f"réussie{'s' if n_ok > 1 else ''} et {neu} neutralisée{'s' if n_neu > 1 else ''}"
            )
        else:
            head = f"Level table, {q} question{'s' if n_q != 1 else ''} with {ok} right and {neu} neutralized"
        if band:
            head += ", " + _BANDS.get(band, {}).get(lang, band)
        return head + arrow
    last = re.sub(r"\[\d+\]$", "", change.path).rsplit(".", 1)[-1].strip("[]")
    label = _FIELDS.get(last, {}).get(lang)
    if label is None:
        return f"{change.path}{arrow}"
    return f"{label}{arrow}"


def describe_changes(
    diff: RuleSetDiff,
    lang: Lang = "fr",
    *,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    limit: int | None = None,
) -> list[str]:
    """The rule changes in plain words, one line per change or per group of many changes.

    Parameters
    ----------
    diff
        :func:`pixirt.rules.diff` of the two rule sets.
    lang
        ``"fr"`` or ``"en"``.
    before, after
        The two rule sets' :meth:`~pixirt.rules.RuleSet.to_dict` (to name the levels of
        changed competence intervals).
    limit
        Most lines returned; a last line says how many more changes there are.

    Returns
    -------
    list of str
        Empty when nothing changes; identity-only changes (name, date, status, comment)
        are summed up in one line.
    """
    before = before or {}
    after = after or {}
    topics: dict[str, list[FieldChange]] = {}
    for c in diff:
        topics.setdefault(_topic(c), []).append(c)
    lines: list[str] = []
    for topic, items in topics.items():
        if topic == "metadata":
            continue
        if len(items) > 4:
            key = "competence_intervals" if topic == "competence_intervals" else topic
            label = _FIELDS.get(key, {}).get(lang)
            if label is None:
                label = _describe_one(items[0], lang, before, after).split(" :")[0].split(":")[0]
            # every value, old → new, after the count
            values = " ; " if lang == "fr" else "; "
            values = values.join(_describe_one(c, lang, before, after) for c in items)
            if topic == "competence_intervals":
                codes = sorted({m.group(1) for c in items if (m := _COMP.match(c.path))})
                if lang == "fr":
                    lines.append(
                        f"{label}{NNBSP}: {len(items)} valeurs modifiées, {len(codes)} compétence{'s' if len(codes) > 1 else ''} — {values}"
                    )
                else:
                    lines.append(
                        f"{label}: {len(items)} values changed in {len(codes)} competence{'s' if len(codes) > 1 else ''} — {values}"
                    )
            else:
                lines.append(
                    f"{label}{NNBSP}: {len(items)} valeurs modifiées — {values}"
                    if lang == "fr"
                    else f"{label}: {len(items)} values changed — {values}"
                )
            continue
        lines.extend(_describe_one(c, lang, before, after) for c in items)
    if not lines and "metadata" in topics:
        lines.append(text("metadata_only", lang))
    if limit is not None and len(lines) > limit:
        rest = len(lines) - (limit - 1)
        lines = [*lines[: limit - 1], text("more_changes", lang, k=rest)]
    return lines
