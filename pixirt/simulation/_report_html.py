"""The jury's report of a rule change: one self-contained HTML file, French or English.

:func:`write_report` (what :meth:`Comparison.report
<pixirt.simulation.Comparison.report>` calls) writes a single HTML file
with its figures embedded as base64 PNG and its style inline: it opens anywhere, offline,
and can be mailed as is. No script, no font, no link leaves the file.

Its first screen answers, in plain words and without statistics training, the three
questions of the jury: *what changes* (the rules, in words), *for how many candidates*
(the outcome, score and level changes, with the pass rates before and after) and *who is
hurt* (by group, with the groups the change hurts more than others flagged). The detail
follows: outcome and level transitions, score changes, groups, measurement quality,
exposure, and the method with the provenance of every number.

French is the default (the jury works in French); ``lang="en"`` writes English. Numbers
follow the language's conventions (``81,2 %`` and ``1 234`` in French).
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import TYPE_CHECKING

from pixirt.simulation._first_screen import first_screen_html
from pixirt.simulation._formatting import NNBSP
from pixirt.simulation._report_sections import (
    _exposure_section,
    _glossary,
    _groups_section,
    _levels_section,
    _method_section,
    _outcomes_section,
    _quality_section,
    _rules_section,
    _scores_section,
    _section,
)
from pixirt.simulation._words import Lang, text

if TYPE_CHECKING:
    from pixirt.simulation._comparison import Comparison

_CSS = """
*{box-sizing:border-box}
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;margin:0;color:#1b2631;background:#f4f6fb;line-height:1.4}
main{max-width:1240px;margin:0 auto;padding:14px 22px 40px}
h1{font-size:1.45rem;margin:4px 0 4px}
h2{font-size:1.1rem;margin:0 0 8px;color:#253858}
section{background:#fff;border-radius:10px;padding:14px 18px;margin:12px 0;box-shadow:0 1px 3px rgba(0,0,0,.08)}
.first{border-top:5px solid #3d68ff}
.lede{margin:0 0 8px;color:#44546a}
.note{background:#fff8e1;border-left:4px solid #f0b400;padding:6px 10px;margin:6px 0;font-size:.92rem}
.assumptions{background:#f4f7fb;border:1px solid #d5dde8;border-radius:6px;padding:4px 12px;margin:8px 0;font-size:.9rem}
.assumptions h2{font-size:1rem;margin:4px 0}.assumptions ul{margin:4px 0;padding-left:18px}
.cards{display:grid;grid-template-columns:repeat(5,1fr);gap:10px;margin:10px 0}
.card{background:#f7f9ff;border:1px solid #dfe5f5;border-radius:8px;padding:8px 10px}
.card-title{font-size:.85rem;color:#44546a;font-weight:600}
.card-big{font-size:1.45rem;font-weight:700;margin:2px 0;color:#172b4d}
.card-sub{font-size:.8rem;color:#44546a}
.cols{display:grid;grid-template-columns:1fr 1.35fr;gap:18px}
.changes{margin:0;padding-left:18px;font-size:.92rem}
.howto{margin:14px 0 0;padding:8px 10px;background:#f0f3fa;border-radius:6px;font-size:.82rem;color:#44546a}
.flags{margin:8px 0 0;padding:8px 10px 8px 26px;background:#fdecea;border-left:4px solid #c0392b;font-size:.9rem}
.flags li{margin:3px 0}
.ok{margin:8px 0 0;padding:8px 10px;background:#e9f7ef;border-left:4px solid #27ae60;font-size:.92rem}
table{border-collapse:collapse;font-size:.86rem;margin:6px 0;width:auto}
th,td{border-bottom:1px solid #e3e7ee;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f0f3fa;font-weight:600}
td.num{text-align:right;white-space:nowrap}
table.groups{width:100%}
small{color:#5d6d7e}
figure{margin:8px 0}
img{max-width:100%;height:auto}
.figs{display:flex;flex-wrap:wrap;gap:10px}
.figs figure{flex:1 1 480px}
nav{font-size:.9rem;margin:6px 0}
nav a{margin-right:12px;color:#3d68ff}
details summary{cursor:pointer;color:#3d68ff;margin:6px 0}
dt{font-weight:600}
dd{margin:0 0 6px 14px}
code{background:#f0f3fa;padding:0 3px;border-radius:3px}
@media (max-width:900px){.cards{grid-template-columns:repeat(2,1fr)}.cols{grid-template-columns:1fr}}
"""


def render_html(c: Comparison, lang: Lang = "fr") -> str:
    """The whole report as one HTML string (see the module doc)."""
    import matplotlib

    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        sections = [
            ("rules", text("sec_rules", lang), _rules_section(c, lang)),
            ("outcomes", text("sec_outcomes", lang), _outcomes_section(c, lang)),
            ("scores", text("sec_scores", lang), _scores_section(c, lang)),
            ("groups", text("sec_groups", lang), _groups_section(c, lang)),
            ("levels", text("sec_levels", lang), _levels_section(c, lang)),
            ("quality", text("sec_quality", lang), _quality_section(c, lang)),
        ]
        if not c.exposure.empty:
            sections.append(("exposure", text("sec_exposure", lang), _exposure_section(c, lang)))
        sections += [
            ("method", text("sec_method", lang), _method_section(c, lang)),
            ("glossary", text("sec_glossary", lang), _glossary(lang)),
        ]
    nav = (
        f"<nav><b>{html.escape(text('nav', lang))}</b>{NNBSP if lang == 'fr' else ''}: "
        + "".join(f'<a href="#{sid}">{html.escape(title)}</a>' for sid, title, _ in sections)
        + "</nav>"
    )
    title = f"{text('title', lang)} — {c.baseline.id} → {c.proposed.id}"
    body = first_screen_html(c, lang) + nav + "".join(_section(s, t, b) for s, t, b in sections)
    return (
        f'<!DOCTYPE html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )


def write_report(c: Comparison, path: str | os.PathLike[str], lang: Lang = "fr") -> Path:
    """Write :func:`render_html` to ``path`` atomically; returns the path."""
    from pixirt._atomic_files import atomic_write

    out = Path(path)
    page = render_html(c, lang)
    atomic_write(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return out
