"""The jury's report of a rule change: one self-contained HTML file, French or English.

:func:`write_report` (what :meth:`Comparison.report
<pixirt.simulation.rule_comparison.Comparison.report>` calls) writes a single HTML file
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

from pixirt.simulation._first_screen import EXPOSURE_ALERT as EXPOSURE_ALERT
from pixirt.simulation._first_screen import first_screen_html, summary_text
from pixirt.simulation._flags import flag_sentences, multiplicity_note
from pixirt.simulation._formatting import MINUS as MINUS
from pixirt.simulation._formatting import NBSP as NBSP
from pixirt.simulation._formatting import NNBSP as NNBSP
from pixirt.simulation._formatting import Fmt as Fmt
from pixirt.simulation._formatting import format_number, format_percent, format_points
from pixirt.simulation._report_assumptions import assumption_lines
from pixirt.simulation._report_html import render_html, write_report
from pixirt.simulation._rule_changes import describe_changes
from pixirt.simulation._words import Lang as Lang
from pixirt.simulation._words import group_label as group_label
from pixirt.simulation._words import level_label as level_label
from pixirt.simulation._words import metric_label as metric_label
from pixirt.simulation._words import status_label as status_label
from pixirt.simulation._words import text as text

__all__ = [
    "assumption_lines",
    "describe_changes",
    "first_screen_html",
    "flag_sentences",
    "format_number",
    "format_percent",
    "format_points",
    "multiplicity_note",
    "render_html",
    "summary_text",
    "write_report",
]
