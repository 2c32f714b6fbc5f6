"""What the comparison assumes, in words.

Data, bank, population, answering behaviour and incidents.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pixirt.simulation._formatting import _count, format_number, format_percent
from pixirt.simulation._rule_changes import _describe_one
from pixirt.simulation._words import Lang, text

if TYPE_CHECKING:
    from pixirt.simulation._comparison import Comparison

_RATES = {
    "neutralize_rate": {"fr": "neutralisations", "en": "neutralizations"},
    "abandon_rate": {"fr": "abandons", "en": "abandons"},
    "technical_abort_rate": {"fr": "interruptions techniques", "en": "technical aborts"},
    "fraud_rate": {"fr": "fraude", "en": "fraud"},
    "live_alert_rate": {"fr": "alertes en direct", "en": "live alerts"},
    "skip_rate": {
        "fr": "réponses abandonnées (parmi les fausses)",
        "en": "skipped answers (of wrong ones)",
    },
    "timeout_rate": {
        "fr": "temps dépassé (fausses, épreuves chronométrées)",
        "en": "timed out (wrong, timed challenges)",
    },
    "focus_out_rate": {
        "fr": "sorties de focus (épreuves focus)",
        "en": "focus lost (focus challenges)",
    },
}
_MISSING = {
    "neutralize_rate": {
        "fr": "aucune neutralisation n'est simulée",
        "en": "no neutralization is simulated",
    },
    "issue_rates": {
        "fr": "aucun signalement n'est simulé",
        "en": "no issue report is simulated",
    },
    "session_issue_rates": {
        "fr": "aucun signalement n'est simulé",
        "en": "no issue report is simulated",
    },
    "abandon_rate": {"fr": "aucun abandon n'est simulé", "en": "no abandon is simulated"},
    "technical_abort_rate": {
        "fr": "aucune interruption technique n'est simulée",
        "en": "no technical abort is simulated",
    },
}


def assumption_lines(c: Comparison, lang: Lang = "fr") -> tuple[list[str], list[str]]:
    """What the comparison assumes, in words, and the warnings on changes it cannot show.

    Returns
    -------
    tuple of lists
        The assumption lines (data, incidents, draws) and the warnings (a changed rule no
        simulated incident can set off).
    """
    a = c.assumptions
    if not a:
        return [], []
    lines: list[str] = []
    if a.get("data") == "synthetic":
        lines.append(_synthetic_line(a, lang))
        lines.append(_incidents_line(a, lang))
    else:
        lines.append(text("assume_real", lang, n=_count(int(a.get("n", c.n)), lang)))
    r = a.get("rules") or {}
    base, prop = r.get("baseline") or {}, r.get("proposed") or {}
    lines.append(
        text(
            "assume_draws",
            lang,
            seed=a.get("seed"),
            n=_count(int(a.get("n", c.n)), lang),
            retest=_count(int(a.get("n_retest", 0)), lang),
            base=base.get("id", ""),
            base_hash=str(base.get("hash", ""))[:12],
            prop=prop.get("id", ""),
            prop_hash=str(prop.get("hash", ""))[:12],
        )
    )
    warnings = []
    by_path = {ch.path: ch for ch in c.rules_diff}
    for item in a.get("inactive") or []:
        change = by_path.get(str(item["path"]))
        what = (
            _describe_one(change, lang, c.baseline.content, c.proposed.content)
            if change is not None
            else str(item["path"])
        )
        missing = " ; " if lang == "fr" else "; "
        missing = missing.join(_MISSING[k][lang] for k in item["needs"] if k in _MISSING)
        warnings.append(text("assume_inactive", lang, what=what, missing=missing))
    return lines, warnings


def _synthetic_line(a: dict[str, Any], lang: Lang) -> str:
    """The simulated candidates and the bank, in words."""
    bank = a.get("bank") or {}
    bank_words = (
        text("assume_bank_synthetic", lang, k=_count(int(bank.get("n_items", 0)), lang))
        if bank.get("synthetic")
        else text(
            "assume_bank_given",
            lang,
            k=_count(int(bank.get("n_items", 0)), lang),
            hash=str(bank.get("hash", ""))[:12],
        )
    )
    pop = a.get("population") or {}
    who = text(
        "assume_population",
        lang,
        mean=format_number(float(pop.get("mean", 0.0)), 1, lang),
        sd=format_number(float(pop.get("sd", 1.0)), 1, lang),
    )
    groups = pop.get("groups") or {}
    if len(groups) > 1:
        parts = [
            f"« {g} » {format_percent(float(v[0]), lang, 0)}, {format_number(float(v[1]), 1, lang, signed=True)}"
            if lang == "fr"
            else f"“{g}” {format_percent(float(v[0]), lang, 0)}, {format_number(float(v[1]), 1, lang, signed=True)}"
            for g, v in groups.items()
        ]
        who += " ; " if lang == "fr" else "; "
        who += text("assume_groups", lang, groups=", ".join(parts))
    return text("assume_synthetic", lang, population=who, bank=bank_words)


def _incidents_line(a: dict[str, Any], lang: Lang) -> str:
    """The simulated incidents and issue reports, in words (or that none is simulated)."""
    resp = a.get("responder") or {}
    rates = [
        f"{_RATES[k][lang]} {format_percent(float(resp.get(k, 0.0)), lang)}"
        for k in _RATES
        if float(resp.get(k, 0.0)) > 0
    ]
    reports = {
        **(resp.get("issue_rates") or {}),
        **(resp.get("session_issue_rates") or {}),
    }
    if reports:
        per = resp.get("issue_rates") or {}
        rates.append(
            text(
                "assume_reports",
                lang,
                k=_count(len(reports), lang),
                per_challenge=format_percent(
                    sum(float(v) for k, v in per.items() if k != "UNINTENTIONAL_FOCUS_OUT"),
                    lang,
                    2,
                ),
                names=", ".join(sorted(reports)),
            )
        )
    return (
        text("assume_incidents", lang, rates=", ".join(rates))
        if rates
        else text("assume_no_incident", lang)
    )
