"""The report's first screen.

Headline cards, notes, the table by group; as HTML and as plain text.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING

from pixirt.simulation._flags import flag_sentences, multiplicity_note
from pixirt.simulation._formatting import (
    NBSP,
    NNBSP,
    _ci,
    _count,
    _keyed,
    _pix_fmt,
    _points_fmt,
    _rows,
    format_number,
    format_percent,
)
from pixirt.simulation._report_assumptions import assumption_lines
from pixirt.simulation._rule_changes import describe_changes
from pixirt.simulation._words import _TEXT, Lang, group_label, text

if TYPE_CHECKING:
    from pixirt.simulation._comparison import Comparison


# ====================================================================== first screen
def _cards(c: Comparison, lang: Lang) -> list[tuple[str, str, str, str]]:
    """(css id, title, big number, small line) of the headline cards."""
    h = c.headline()
    lvl = c.confidence_level
    pts = _points_fmt(lang)
    signed_pix = _pix_fmt(lang)
    cards = [
        (
            "card-changed",
            text("card_changed", lang),
            _count(h["changed"], lang),
            text(
                "card_changed_sub",
                lang,
                n=_count(h["n"], lang),
                share=format_percent(h["changed_share"], lang),
            ),
        ),
        (
            "card-pass",
            text("card_pass", lang),
            f"{format_percent(h['pass_rate_baseline'], lang)} → {format_percent(h['pass_rate_proposed'], lang)}",
            f"{pts(h['pass_rate_difference'])} ({_ci(h['pass_rate_low'], h['pass_rate_high'], lvl, lang, pts)})",
        ),
        (
            "card-lost",
            text("card_lost", lang),
            _count(h["lost_certification"], lang),
            text("card_lost_sub", lang, gained=_count(h["gained_certification"], lang)),
        ),
        (
            "card-worse",
            text("card_worse", lang),
            _count(h["worse_off"], lang),
            text(
                "card_worse_sub",
                lang,
                share=format_percent(h["worse_off_share"], lang),
                better=_count(h["better_off"], lang),
            )
            + (text("card_mixed_sub", lang, mixed=_count(h["mixed"], lang)) if h["mixed"] else ""),
        ),
        (
            "card-score",
            text("card_score", lang),
            f"{format_number(h['mean_score_baseline'], 1, lang)} → {format_number(h['mean_score_proposed'], 1, lang)}",
            f"{signed_pix(h['mean_score_difference'])} ({_ci(h['mean_score_low'], h['mean_score_high'], lvl, lang, signed_pix)})",
        ),
    ]
    if h.get("jury_review_baseline", 0.0) > 0 or h.get("jury_review_proposed", 0.0) > 0:
        cards.append(
            (
                "card-jury",
                text("card_jury", lang),
                f"{format_percent(h['jury_review_baseline'], lang)} → {format_percent(h['jury_review_proposed'], lang)}",
                f"{pts(h['jury_review_difference'])} ({_ci(h['jury_review_low'], h['jury_review_high'], lvl, lang, pts)})",
            )
        )
    return cards


#: Exposure above which the first screen warns (a usual ceiling in adaptive testing).
EXPOSURE_ALERT = 0.20


def _notes(c: Comparison, lang: Lang) -> list[str]:
    out = []
    if not c.exposure.empty:
        for r in _rows(c.exposure):
            if float(r["max_exposure"]) > EXPOSURE_ALERT:
                who = {"baseline": {"fr": "actuelles", "en": "current"}}.get(
                    str(r["rules"]), {"fr": "proposées", "en": "proposed"}
                )[lang]
                out.append(
                    text(
                        "note_exposure",
                        lang,
                        rules=who,
                        share=format_percent(float(r["max_exposure"]), lang, 0),
                        limit=format_percent(EXPOSURE_ALERT, lang, 0),
                    )
                )
    for code, value in c.notes:
        key = f"note_{code}"
        if key in _TEXT:
            if code == "rescored_only" and not c.selection_changed:
                out.append(text(key, lang))
            elif code != "rescored_only":
                one = f"{key}_one"
                if value == 1 and one in _TEXT:
                    out.append(text(one, lang))
                else:
                    out.append(text(key, lang, k=_count(value, lang)))
    if c.source == "simulation" and c.selection_changed:
        if c.retest_noise.empty:
            out.append(text("note_selection_simulation", lang))
        else:
            noise = {str(r["metric"]): float(r["share"]) for r in _rows(c.retest_noise)}
            out.append(
                text(
                    "note_noise",
                    lang,
                    changed=format_percent(noise["changed"], lang),
                    worse=format_percent(noise["worse_off"], lang),
                )
            )
    return out


def _group_table(c: Comparison, lang: Lang) -> str:
    names = ["all", *[g for g in c.groups if g != "all"]]
    ch = _keyed(c.changes)
    df = _keyed(c.differences)
    lvl = c.confidence_level
    head = "".join(
        f"<th>{html.escape(text(k, lang))}</th>"
        for k in ("col_group", "col_candidates", "col_worse", "col_lost", "col_pass", "col_score")
    )
    rows = []
    for g in names:
        worse = ch[("worse_off", g)]
        lost = ch[("lost_certification", g)]
        pr = df[("pass_rate", g)]
        sc = df[("mean_score", g)]
        pts = _points_fmt(lang)
        spx = _pix_fmt(lang)
        rows.append(
            "<tr>"
            f"<td>{html.escape(group_label(g, lang))}</td>"
            f"<td class=num>{_count(int(worse['n']), lang)}</td>"
            f"<td class=num>{_count(int(worse['count']), lang)} ({format_percent(float(worse['share']), lang)})</td>"
            f"<td class=num>{_count(int(lost['count']), lang)}</td>"
            f"<td class=num>{pts(float(pr['difference']))}<br><small>{html.escape(_ci(float(pr['low']), float(pr['high']), lvl, lang, pts))}</small></td>"
            f"<td class=num>{spx(float(sc['difference']))}<br><small>{html.escape(_ci(float(sc['low']), float(sc['high']), lvl, lang, spx))}</small></td>"
            "</tr>"
        )
    return (
        f"<table class=groups><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def first_screen_html(c: Comparison, lang: Lang = "fr") -> str:
    """The first screen as an HTML fragment (also the notebook display of a comparison)."""
    source = text(f"source_{c.source}", lang, n=_count(c.n, lang))
    cards = "".join(
        f'<div class=card id="{cid}"><div class=card-title>{html.escape(title)}</div>'
        f"<div class=card-big>{html.escape(big)}</div><div class=card-sub>{html.escape(sub)}</div></div>"
        for cid, title, big, sub in _cards(c, lang)
    )
    changes = describe_changes(
        c.rules_diff, lang, before=c.baseline.content, after=c.proposed.content
    )
    change_list = (
        "<ul class=changes>" + "".join(f"<li>{html.escape(x)}</li>" for x in changes) + "</ul>"
        if changes
        else f"<p>{html.escape(text('no_rule_change', lang))}</p>"
    )
    flags = flag_sentences(c, lang)
    if len(c.groups) < 2:
        verdict = f"<p class=ok>{html.escape(text('one_group', lang))}</p>"
    elif flags:
        verdict = (
            "<ul class=flags>" + "".join(f"<li>{html.escape(s)}</li>" for s in flags) + "</ul>"
        )
    else:
        verdict = f"<p class=ok>{html.escape(text('no_flag', lang))}</p>"
    many = multiplicity_note(c, lang) if len(c.groups) >= 2 else None
    if many:
        verdict += f"<p class=howto>{html.escape(many)}</p>"
    notes = "".join(f"<p class=note>{html.escape(x)}</p>" for x in _notes(c, lang))
    assumed, warnings = assumption_lines(c, lang)
    notes += "".join(f"<p class=note>{html.escape(x)}</p>" for x in warnings)
    box = (
        f"<div class=assumptions id=assumptions><h2>{html.escape(text('assumptions', lang))}</h2><ul>"
        + "".join(f"<li>{html.escape(x)}</li>" for x in assumed)
        + "</ul></div>"
        if assumed
        else ""
    )
    who = _group_table(c, lang) if len(c.groups) >= 1 else ""
    return (
        '<section id="first-screen" class=first>'
        f"<h1>{html.escape(text('title', lang))} : {html.escape(c.baseline.id)} → {html.escape(c.proposed.id)}</h1>".replace(
            " : ", f"{NNBSP}: " if lang == "fr" else ": "
        )
        + f"<p class=lede>{html.escape(source)}</p>{notes}{box}"
        f"<div class=cards>{cards}</div>"
        "<div class=cols>"
        f"<div class=col id=what-changes><h2>{html.escape(text('what_changes', lang))}</h2>{change_list}"
        f"<p class=howto>{html.escape(text('how_to_read', lang))}</p></div>"
        f"<div class=col id=who-hurt><h2>{html.escape(text('who_hurt', lang))}</h2>{who}{verdict}</div>"
        "</div></section>"
    )


def summary_text(c: Comparison, lang: Lang = "fr") -> str:
    """The first screen as plain text (the command line prints it)."""
    lines = [
        f"{text('title', lang)}: {c.baseline.id} → {c.proposed.id}",
        text(f"source_{c.source}", lang, n=_count(c.n, lang)),
        *_notes(c, lang),
    ]
    assumed, warnings = assumption_lines(c, lang)
    lines += warnings
    if assumed:
        lines += [text("assumptions", lang) + ":", *(f"  - {x}" for x in assumed)]
    lines.append("")
    for _, title, big, sub in _cards(c, lang):
        lines.append(f"  {title}: {big} — {sub}")
    lines += ["", text("what_changes", lang) + ":"]
    changes = describe_changes(
        c.rules_diff, lang, before=c.baseline.content, after=c.proposed.content
    )
    lines += [f"  - {x}" for x in changes] or [f"  {text('no_rule_change', lang)}"]
    lines += ["", text("who_hurt", lang)]
    flags = flag_sentences(c, lang)
    if len(c.groups) < 2:
        lines.append("  " + text("one_group", lang))
    elif flags:
        lines += [f"  ! {s}" for s in flags]
    else:
        lines.append("  " + text("no_flag", lang))
    many = multiplicity_note(c, lang) if len(c.groups) >= 2 else None
    if many:
        lines.append("  " + many)
    return "\n".join(lines).replace(NNBSP, " ").replace(NBSP, " ")
