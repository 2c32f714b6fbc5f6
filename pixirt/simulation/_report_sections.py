"""The report's detailed HTML sections.

Rules, outcomes, scores, groups, levels, quality, exposure, method, glossary.
"""

from __future__ import annotations

import base64
import html
import io
import math
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pixirt.simulation._formatting import (
    NNBSP,
    _ci,
    _count,
    _fmt_value,
    _gap_formatter,
    _keyed,
    _percent_fmt,
    _pix,
    _rows,
    _value_fmt,
    format_number,
    format_percent,
)
from pixirt.simulation._rule_changes import _value, describe_changes
from pixirt.simulation._words import Lang, group_label, metric_label, status_label, text

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pixirt.simulation._comparison import Comparison


# ====================================================================== the detail
def _png(fig: Figure, what: str, lang: Lang) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    alt = html.escape(text("img_alt", lang, what=what))
    return f'<figure><img alt="{alt}" src="data:image/png;base64,{data}"></figure>'


def _cell(v: Any, lang: Lang) -> str:
    if isinstance(v, bool | np.bool_):
        return f"<td>{html.escape(str(v))}</td>"
    if isinstance(v, int | np.integer):
        return f"<td class=num>{format_number(int(v), 0, lang)}</td>"
    if isinstance(v, float | np.floating):
        return f"<td class=num>{format_number(float(v), 2, lang)}</td>"
    return f"<td>{html.escape(str(v))}</td>"


def _table(
    frame: pd.DataFrame, *, index: bool = False, classes: str = "", lang: Lang = "fr"
) -> str:
    cols = ([frame.index.name or ""] if index else []) + [str(x) for x in frame.columns]
    head = "".join(f"<th>{html.escape(str(x))}</th>" for x in cols)
    body = []
    for idx, row in zip(frame.index, frame.itertuples(index=False, name=None), strict=True):
        cells = [idx] if index else []
        cells += list(row)
        body.append("<tr>" + "".join(_cell(v, lang) for v in cells) + "</tr>")
    return f"<table class='{classes}'><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _section(sid: str, title: str, body: str) -> str:
    return f'<section id="{sid}"><h2>{html.escape(title)}</h2>{body}</section>'


def _rules_section(c: Comparison, lang: Lang) -> str:
    lines = describe_changes(
        c.rules_diff, lang, before=c.baseline.content, after=c.proposed.content
    )
    words = "<ul>" + "".join(f"<li>{html.escape(x)}</li>" for x in lines) + "</ul>" if lines else ""
    head = (
        f"<p><b>{html.escape(text('baseline_rules', lang, id=c.baseline.id))}</b> — <code>{c.baseline.hash[:12]}</code> ({html.escape(c.baseline.source)}); "
        f"<b>{html.escape(text('proposed_rules', lang, id=c.proposed.id))}</b> — <code>{c.proposed.hash[:12]}</code> ({html.escape(c.proposed.source)})</p>"
    )
    kinds = {
        "fr": {"changed": "modifié", "added": "ajouté", "removed": "supprimé"},
        "en": {"changed": "changed", "added": "added", "removed": "removed"},
    }[lang]
    rows = [
        (
            ch.path,
            kinds.get(ch.kind, ch.kind),
            _value(ch.before, lang)
            if not isinstance(ch.before, list | dict)
            else str(ch.before)[:80],
            _value(ch.after, lang) if not isinstance(ch.after, list | dict) else str(ch.after)[:80],
        )
        for ch in c.rules_diff
    ]
    labels = (
        ("champ", "nature", "avant", "après")
        if lang == "fr"
        else ("field", "kind", "before", "after")
    )
    table = _table(pd.DataFrame(rows, columns=list(labels))) if rows else ""
    many = len(rows) > 1
    summary = (
        f"{len(rows)} différence{'s' if many else ''} champ par champ"
        if lang == "fr"
        else f"{len(rows)} field-by-field difference{'s' if len(rows) != 1 else ''}"
    )
    return (
        head + words + (f"<details><summary>{summary}</summary>{table}</details>" if rows else "")
    )


def _outcomes_section(c: Comparison, lang: Lang) -> str:
    mat = c.outcomes.copy()
    mat.index = [status_label(str(s), lang) for s in mat.index]
    mat.columns = [status_label(str(s), lang) for s in mat.columns]
    mat.index.name = "actuel ↓ / proposé →" if lang == "fr" else "current ↓ / proposed →"
    rows = []
    ch = c.changes[c.changes["group"] == "all"]
    lvl = c.confidence_level
    for r in _rows(ch):
        rows.append(
            (
                metric_label(str(r["metric"]), lang),
                _count(int(r["count"]), lang),
                format_percent(float(r["share"]), lang, 2),
                _ci(
                    float(r["low"]),
                    float(r["high"]),
                    lvl,
                    lang,
                    _percent_fmt(lang, 2),
                ),
            )
        )
    labels = (
        ("", "candidats", "part", "intervalle")
        if lang == "fr"
        else ("", "candidates", "share", "interval")
    )
    intro = (
        "<p>Un candidat est <b>pénalisé</b> quand le changement lui fait perdre sa certification, ou, certifié dans les deux cas, baisse son score ou l'un de ses niveaux sans rien lui faire gagner par ailleurs ; <b>favorisé</b> dans le cas inverse.</p>"
        if lang == "fr"
        else "<p>A candidate is <b>worse off</b> when the change costs them their certification or, certified either way, lowers their score or one of their levels without any gain elsewhere; <b>better off</b> the other way round.</p>"
    )
    return (
        _table(mat, index=True, classes="matrix", lang=lang)
        + intro
        + _table(pd.DataFrame(rows, columns=list(labels)))
        + _png(c.plot_outcomes(lang=lang), text("fig_outcomes", lang), lang)
    )


def _scores_section(c: Comparison, lang: Lang) -> str:
    s = c.score_change_stats
    df = _keyed(c.differences)
    lvl = c.confidence_level
    rows = []
    for metric in ("mean_score", "mean_level", "pass_rate", "jury_review"):
        if (metric, "all") not in df:
            continue  # a comparison saved before the metric existed
        r = df[(metric, "all")]
        f = _value_fmt(metric, lang)
        rows.append(
            (
                metric_label(metric, lang),
                _fmt_value(metric, float(r["baseline"]), lang),
                _fmt_value(metric, float(r["proposed"]), lang),
                f(float(r["difference"])),
                _ci(float(r["low"]), float(r["high"]), lvl, lang, f),
            )
        )
    labels = (
        ("", "actuel", "proposé", "écart", "intervalle")
        if lang == "fr"
        else ("", "current", "proposed", "difference", "interval")
    )
    q = ", ".join(
        f"{int(k[1:])}{NNBSP}%{NNBSP}: {format_number(s[k], 0, lang, signed=True)}"
        if lang == "fr"
        else f"{int(k[1:])}%: {format_number(s[k], 0, lang, signed=True)}"
        for k in ("q01", "q05", "q25", "q50", "q75", "q95", "q99")
        if k in s
    )
    para = (
        f"<p>Écart de score par candidat (proposé − actuel) : moyenne {_pix(s['mean'], lang, signed=True)}, de {_pix(s['min'], lang, 0, signed=True)} à {_pix(s['max'], lang, 0, signed=True)} ; {format_percent(s['share_up'], lang)} des candidats gagnent des pix, {format_percent(s['share_down'], lang)} en perdent. Quantiles : {q}.</p>"
        if lang == "fr"
        else f"<p>Score difference per candidate (proposed − current): mean {_pix(s['mean'], lang, signed=True)}, from {_pix(s['min'], lang, 0, signed=True)} to {_pix(s['max'], lang, 0, signed=True)}; {format_percent(s['share_up'], lang)} of candidates gain pix, {format_percent(s['share_down'], lang)} lose some. Quantiles: {q}.</p>"
    )
    return (
        _table(pd.DataFrame(rows, columns=list(labels)))
        + para
        + "<div class=figs>"
        + _png(c.plot_score_changes(lang=lang), text("fig_score_changes", lang), lang)
        + _png(c.plot_scores(lang=lang), text("fig_scores", lang), lang)
        + "</div>"
    )


def _groups_section(c: Comparison, lang: Lang) -> str:
    lvl = c.confidence_level
    rows = []
    for r in _rows(c.differences):
        f = _value_fmt(str(r["metric"]), lang)
        rows.append(
            (
                metric_label(str(r["metric"]), lang),
                group_label(str(r["group"]), lang),
                _count(int(r["n"]), lang),
                _fmt_value(str(r["metric"]), float(r["baseline"]), lang),
                _fmt_value(str(r["metric"]), float(r["proposed"]), lang),
                f(float(r["difference"])),
                _ci(float(r["low"]), float(r["high"]), lvl, lang, f),
            )
        )
    labels = (
        ("", "groupe", "candidats", "actuel", "proposé", "écart", "intervalle")
        if lang == "fr"
        else ("", "group", "candidates", "current", "proposed", "difference", "interval")
    )
    body = _table(pd.DataFrame(rows, columns=list(labels)))
    body += _png(c.plot_groups(lang=lang), text("sec_groups", lang), lang)
    if len(c.groups) >= 2 and not c.gaps.empty:
        n_tests = len(c.gaps)
        explain = (
            f"<p>Pour chaque paire de groupes, l'<b>écart</b> est la différence entre les évolutions des deux groupes. Un écart est signalé comme un traitement inégal quand son intervalle, élargi pour tenir compte des {n_tests} écarts examinés (correction de Bonferroni), exclut zéro, que le groupe désavantagé est effectivement pénalisé par le changement, qu'à compétence réelle égale l'écart garde son sens au-delà du hasard et, quand les règles changent les tests, qu'il dépasse le bruit d'un second passage. « À surveiller » : un écart au-delà du hasard qui ne remplit pas toutes ces conditions. En simulation, l'écart est aussi calculé <b>à compétence réelle égale</b> (régression de l'évolution de chaque candidat sur sa compétence réelle et son groupe) : s'il disparaît, il tient à la différence de niveau entre les groupes.</p>"
            if lang == "fr"
            else f"<p>For each pair of groups, the <b>gap</b> is the difference between the two groups' changes. A gap is flagged as unequal treatment when its interval, widened for the {n_tests} gaps examined (Bonferroni), excludes zero, the group it disadvantages is indeed hurt by the change, the gap at equal true ability keeps its direction beyond chance and, when the rules change the tests, it exceeds the noise of a second sitting. “To watch”: a gap beyond chance that fails one of these conditions. In simulations the gap is also computed <b>at equal true ability</b> (a regression of each candidate's change on their true ability and their group): when it vanishes there, it comes from the groups' different levels.</p>"
        )
        grows = []
        for r in _rows(c.gaps):
            f = _gap_formatter(str(r["metric"]), lang)
            state = (
                ("signalé" if lang == "fr" else "flagged")
                if r["flagged"]
                else ("à surveiller" if lang == "fr" else "to watch")
                if r["watch"]
                else "–"
            )
            grows.append(
                (
                    text(f"gap_{r['metric']}", lang),
                    f"{group_label(str(r['group_a']), lang)} − {group_label(str(r['group_b']), lang)}",
                    f(float(r["gap"])),
                    _ci(float(r["low"]), float(r["high"]), lvl, lang, f),
                    f(float(r["cond_gap"])) if math.isfinite(float(r["cond_gap"])) else "–",
                    state,
                )
            )
        glabels = (
            ("", "groupes", "écart", "intervalle", "à compétence égale", "")
            if lang == "fr"
            else ("", "groups", "gap", "interval", "at equal ability", "")
        )
        body += explain + _table(pd.DataFrame(grows, columns=list(glabels)))
    return body


def _levels_section(c: Comparison, lang: Lang) -> str:
    summ = c.level_summary().reset_index()
    labels = (
        [
            "compétence",
            "niveaux changés",
            "en hausse",
            "en baisse",
            "gagnés",
            "perdus",
            "part changée",
        ]
        if lang == "fr"
        else ["competence", "levels changed", "up", "down", "gained", "lost", "share changed"]
    )
    summ["share_changed"] = [format_percent(float(x), lang, 2) for x in summ["share_changed"]]
    summ.columns = labels
    intro = (
        "<p>Niveau inscrit sur le certificat pour chaque compétence (« aucun » : certification non validée, compétence non testée ou non certifiée). « Gagnés » / « perdus » : un niveau sous une seule des deux règles.</p>"
        if lang == "fr"
        else "<p>The level on the certificate for each competence (“none”: certification not validated, competence not tested or uncertified). “Gained” / “lost”: a level under one rule set only.</p>"
    )
    body = intro + _table(summ, lang=lang)
    body += _png(c.plot_levels(lang=lang), text("fig_levels_all", lang), lang)
    changed = [str(code) for code, row in c.level_summary().iterrows() if int(row["n_changed"]) > 0]
    if changed:
        figs = "".join(
            _png(c.plot_levels(code, lang=lang), text("fig_levels_one", lang, code=code), lang)
            for code in changed[:16]
        )
        title = "Matrices par compétence" if lang == "fr" else "Matrices by competence"
        body += f"<details><summary>{title} ({len(changed)})</summary><div class=figs>{figs}</div></details>"
    return body


def _quality_section(c: Comparison, lang: Lang) -> str:
    if c.quality.empty:
        return f"<p>{html.escape(text('note_no_true_ability', lang))}</p>"
    lvl = c.confidence_level
    rows = []
    for r in _rows(c.quality):
        m = str(r["metric"])
        f = _value_fmt(m, lang)
        rows.append(
            (
                metric_label(m, lang),
                _count(int(r["n"]), lang),
                _fmt_value(m, float(r["baseline"]), lang),
                _fmt_value(m, float(r["proposed"]), lang),
                f(float(r["difference"])),
                _ci(float(r["low"]), float(r["high"]), lvl, lang, f),
            )
        )
    labels = (
        ("", "candidats", "actuel", "proposé", "écart", "intervalle")
        if lang == "fr"
        else ("", "candidates", "current", "proposed", "difference", "interval")
    )
    intro = (
        f"<p>En simulation la compétence réelle de chaque candidat est connue. Le <b>score vrai</b> est le score que les règles donneraient à cette compétence réelle sans erreur de mesure ; le <b>niveau vrai</b> de même (en v2 : le niveau d'un positionnement sans erreur). La <b>cohérence</b> compare les niveaux de deux passations indépendantes des {_count(c.n_retest, lang)} premiers candidats (mêmes candidats, nouveaux tirages des réponses).</p>"
        if lang == "fr"
        else f"<p>In simulation each candidate's true ability is known. The <b>true score</b> is the score the rules would give that true ability without measurement error; the <b>true level</b> likewise (v2: the level of an error-free positioning). <b>Consistency</b> compares the levels of two independent sittings of the first {_count(c.n_retest, lang)} candidates (same candidates, new answer draws).</p>"
    )
    caveat = f"<p class=note>{html.escape(text('quality_assumed', lang))}</p>"
    return (
        intro
        + caveat
        + _table(pd.DataFrame(rows, columns=list(labels)))
        + _png(c.plot_quality(lang=lang), text("sec_quality", lang), lang)
    )


def _exposure_section(c: Comparison, lang: Lang) -> str:
    if c.exposure.empty:
        return f"<p>{html.escape(text('no_exposure', lang))}</p>"
    e = c.exposure
    rows = []
    for r in _rows(e):
        rows.append(
            (
                c.baseline.id if r["rules"] == "baseline" else c.proposed.id,
                _count(int(r["n_used"]), lang) + " / " + _count(int(r["n_items"]), lang),
                format_percent(float(r["max_exposure"]), lang),
                format_percent(float(r["share_over_20"]), lang, 2),
                format_number(float(r["mean_length"]), 1, lang),
                format_percent(float(r["overlap"]), lang, 2),
            )
        )
    labels = (
        (
            "règles",
            "questions utilisées",
            "exposition maximale",
            "questions vues par plus de 20 % des candidats",
            "longueur moyenne",
            "recouvrement moyen entre deux tests",
        )
        if lang == "fr"
        else (
            "rules",
            "challenges used",
            "highest exposure",
            "challenges seen by over 20% of candidates",
            "mean length",
            "mean overlap of two tests",
        )
    )
    intro = (
        "<p>L'exposition d'une question est la part des candidats à qui elle est posée ; le recouvrement est la part moyenne de questions communes aux tests de deux candidats pris au hasard (une question très exposée peut circuler).</p>"
        if lang == "fr"
        else "<p>A challenge's exposure is the share of candidates it is served to; the overlap is the mean share of challenges common to the tests of two random candidates (a highly exposed challenge may leak).</p>"
    )
    return (
        intro
        + _table(pd.DataFrame(rows, columns=list(labels)))
        + _png(c.plot_exposure(lang=lang), text("fig_exposure", lang), lang)
    )


def _method_section(c: Comparison, lang: Lang) -> str:
    pop = c.population
    pop_text = ", ".join(f"{k} = {v}" for k, v in pop.items() if k != "kind") if pop else "–"
    items = (
        [
            ("Source", text(f"source_{c.source}", lang, n=_count(c.n, lang))),
            ("Graine", str(c.seed)),
            (
                "Bootstrap",
                f"{_count(c.n_bootstrap, lang)} rééchantillonnages des candidats (par paires), intervalles percentiles à {format_percent(c.confidence_level, lang, 0)}",
            ),
            ("Population", pop_text),
            ("Banque de questions", c.bank_hash[:12] if c.bank_hash else "–"),
            ("pixirt", c.pixirt_version),
            ("Durée", f"{format_number(c.seconds, 1, lang)} s"),
        ]
        if lang == "fr"
        else [
            ("Source", text(f"source_{c.source}", lang, n=_count(c.n, lang))),
            ("Seed", str(c.seed)),
            (
                "Bootstrap",
                f"{_count(c.n_bootstrap, lang)} resamples of the candidates (as pairs), percentile intervals at {format_percent(c.confidence_level, lang, 0)}",
            ),
            ("Population", pop_text),
            ("Item bank", c.bank_hash[:12] if c.bank_hash else "–"),
            ("pixirt", c.pixirt_version),
            ("Duration", f"{format_number(c.seconds, 1, lang)} s"),
        ]
    )
    dl = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
    text_fr = (
        "<p><b>Mêmes candidats, mêmes tirages.</b> Chaque tirage aléatoire de la simulation dépend seulement de la graine, du numéro du candidat et de l'étape du test : sous les deux règles, chaque candidat a la même compétence réelle et, question après question, les mêmes tirages pour ses réponses. Une différence entre les deux colonnes est donc due au changement de règles, pas au hasard du tirage.</p>"
        "<p><b>Incertitude.</b> Les candidats sont rééchantillonnés avec remise, chacun avec ses deux résultats ; l'intervalle donne la plage où se situerait l'écart avec d'autres candidats de la même population. Un écart qui repose sur très peu de candidats a un intervalle grossier.</p>"
    )
    text_en = (
        "<p><b>Same candidates, same draws.</b> Every random draw of the simulation depends only on the seed, the candidate's number and the step of the test: under both rule sets each candidate has the same true ability and, question after question, the same draws for their answers. A difference between the two columns is the rule change's doing, not the luck of the draw.</p>"
        "<p><b>Uncertainty.</b> Candidates are resampled with replacement, each with both results; the interval gives the range the difference would fall in with other candidates from the same population. A difference resting on very few candidates gets a rough interval.</p>"
    )
    return (text_fr if lang == "fr" else text_en) + f"<dl>{dl}</dl>"


def _glossary(lang: Lang) -> str:
    items = (
        [
            (
                "IC 95 %",
                "intervalle de confiance : calculé par une méthode qui, répétée sur de nombreux tirages de candidats, encadre la vraie valeur 95 fois sur 100 ; un intervalle donné la contient ou non, on ne le sait pas.",
            ),
            ("point", "point de pourcentage : de 80 % à 78 %, le taux baisse de 2 points."),
            (
                "pénalisé / favorisé",
                "le changement fait perdre (gagner) au candidat sa certification, des pix ou un niveau, sans compensation.",
            ),
            (
                "compétence réelle",
                "la compétence que le candidat a vraiment, connue seulement en simulation.",
            ),
            ("exposition", "part des candidats à qui une question est posée."),
        ]
        if lang == "fr"
        else [
            (
                "95% CI",
                "confidence interval: computed by a method that, repeated over many draws of candidates, brackets the true value 95 times out of 100; a given interval contains it or not, we do not know which.",
            ),
            ("point", "percentage point: from 80% to 78%, the rate drops by 2 points."),
            (
                "worse / better off",
                "the change costs (gives) the candidate their certification, pix or a level, without compensation.",
            ),
            ("true ability", "the ability the candidate really has, known only in simulation."),
            ("exposure", "the share of candidates a challenge is served to."),
        ]
    )
    return (
        "<dl>"
        + "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in items)
        + "</dl>"
    )
