"""The jury report's French: singular and plural agree, groups are named as groups.

Cases from trying the report as a jury member would (issue "A report the jury can trust"):
"1 réussies et 1 neutralisées", "1 résultats n'ont pas pu être calculés",
"au détriment de « lycéens »".
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from pixirt import rules
from pixirt.simulation import Population, compare, pix_like_bank
from pixirt.simulation._first_screen import summary_text
from pixirt.simulation._rule_changes import describe_changes
from pixirt.simulation._words import text


def _edited(edit):
    data = rules.load("pix-v2").to_dict()
    data["id"] = "pix-v2-edit"
    edit(data)
    return rules.RuleSet.from_dict(data)


def _rule5_downgrade(data):
    row = next(
        r
        for r in data["scoring"]["v2"]["table"]
        if (r["challenges"], r["correct"], r["neutralized"]) == (3, 1, 1)
    )
    row["rr_80_and_above"] = "downgrade"


def test_level_table_rows_in_words_agree_in_number():
    proposed = _edited(_rule5_downgrade)
    fr = describe_changes(rules.diff(rules.load("pix-v2"), proposed), "fr")
    assert any("3 questions dont 1 réussie et 1 neutralisée" in line for line in fr), fr
    assert not any("1 réussies" in line or "1 neutralisées" in line for line in fr)
    en = describe_changes(rules.diff(rules.load("pix-v2"), proposed), "en")
    assert any("3 questions with 1 right and 1 neutralized" in line for line in en), en


@pytest.fixture(scope="module")
def v2_comparison():
    return compare(
        "pix-v2",
        _edited(_rule5_downgrade),
        population=Population(groups={"lycéens": (0.5, -0.4), "adultes": (0.5, 0.4)}),
        bank=pix_like_bank(0),
        n=400,
        seed=1,
        n_retest=0,
        n_bootstrap=100,
    )


@pytest.mark.parametrize(
    ("k", "fr", "en"),
    [
        (1, "1 résultat n'a pas pu être calculé", "1 result could not be computed"),
        (3, "3 résultats n'ont pas pu être calculés", "3 results could not be computed"),
    ],
)
def test_the_scoring_errors_note_agrees_in_number(v2_comparison, k, fr, en):
    c = replace(v2_comparison, notes=(("scoring_errors", k),))
    assert fr in summary_text(c, "fr")
    assert en in summary_text(c, "en")
    assert "1 résultats" not in summary_text(c, "fr")


def test_a_group_is_named_as_a_group_in_the_flag_sentence():
    sentence = text(
        "flag_sentence",
        "fr",
        hurt="lycéens",
        other="adultes",
        metric="Taux de réussite",
        c_hurt="80 %",
        c_other="90 %",
        gap="10 points",
        ci="IC 95 % : 5 à 15 points",
    )
    assert "au détriment du groupe « lycéens »" in sentence


def test_the_french_report_says_what_changed_in_french(v2_comparison):
    import re

    from pixirt.simulation._report_html import render_html

    page = render_html(v2_comparison, "fr")
    cells = re.findall(r"<td>([^<]*)</td>", page)
    assert "modifié" in cells
    assert not {"changed", "added", "removed"} & set(cells)
    assert "2 différences champ par champ" in page  # the id and the table row


def test_the_first_screen_lists_every_changed_value():
    """Not "Paliers du score global : 6 valeurs modifiées" alone: each value, old → new."""
    data = rules.load("pix-v3").to_dict()
    data["id"] = "pix-v3-bands"
    bounds = data["scoring"]["v3"]["intervals"]
    # three band boundaries move: each is the max of a band and the min of the next
    new_values = [-1.3, -0.45, 0.7]
    for k, value in enumerate(new_values):
        bounds[k]["max"] = value
        bounds[k + 1]["min"] = value
    proposed = rules.RuleSet.from_dict(data)
    lines = describe_changes(
        rules.diff(rules.load("pix-v3"), proposed),
        "fr",
        before=rules.load("pix-v3").to_dict(),
        after=data,
    )
    joined = " ".join(lines)
    assert "6 valeurs modifiées" in joined
    for value in new_values:
        assert f"→ {str(value).replace('.', ',').replace('-', '−')}" in joined, value


def test_the_glossary_states_what_a_95_percent_interval_is(v2_comparison):
    from pixirt.simulation._report_html import render_html

    fr = render_html(v2_comparison, "fr")
    assert (
        "répétée sur de nombreux tirages de candidats, encadre la vraie valeur 95 fois sur 100"
        in fr
    )
    assert "la valeur vraie de l'écart s'y trouve 95 fois sur 100" not in fr  # a misstatement
    en = render_html(v2_comparison, "en")
    assert "brackets the true value 95 times out of 100" in en
