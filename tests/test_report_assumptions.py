"""The report says what it assumed, and warns when a changed rule cannot act under it.

Cases from the issue "A report the jury can trust": the incident rates appeared neither in
the HTML nor in the JSON; a change to a neutralization row showed "0 candidats concernés"
with no warning because no incident was simulated by default; the report never said the
bank and the population were synthetic.
"""

from __future__ import annotations

import json

import pytest

from pixirt import rules
from pixirt.simulation import Comparison, Population, Responder, compare, pix_like_bank
from pixirt.simulation._first_screen import first_screen_html, summary_text
from pixirt.simulation._report_assumptions import assumption_lines


def rule5_downgrade():
    data = rules.load("pix-v2").to_dict()
    data["id"] = "pix-v2-rule5"
    for row in data["scoring"]["v2"]["table"]:
        if (row["challenges"], row["correct"], row["neutralized"]) == (3, 1, 1):
            row["rr_80_and_above"] = "downgrade"
    return rules.RuleSet.from_dict(data)


def run(responder=None):
    return compare(
        "pix-v2",
        rule5_downgrade(),
        population=Population(groups={"lycéens": (0.4, -0.3), "adultes": (0.6, 0.2)}),
        bank=pix_like_bank(0),
        n=300,
        seed=3,
        n_retest=0,
        n_bootstrap=100,
        responder=responder,
    )


@pytest.fixture(scope="module")
def without_incidents():
    return run()


@pytest.fixture(scope="module")
def with_incidents():
    return run(Responder(neutralize_rate=0.03, abandon_rate=0.02, fraud_rate=0.01))


def test_the_json_carries_every_assumption(with_incidents):
    data = json.loads(json.dumps(with_incidents.to_dict()))
    a = data["assumptions"]
    assert a["data"] == "synthetic"
    assert a["responder"]["neutralize_rate"] == 0.03 and a["responder"]["fraud_rate"] == 0.01
    assert a["bank"]["synthetic"] is True and a["bank"]["n_items"] == 2978
    assert a["population"]["groups"]["lycéens"] == [0.4, -0.3]
    assert a["seed"] == 3 and a["n"] == 300
    assert a["rules"]["proposed"]["id"] == "pix-v2-rule5"
    assert a["inactive"] == []
    back = Comparison.from_dict(data)
    assert back.assumptions == with_incidents.assumptions


def test_the_first_screen_shows_the_assumptions(with_incidents):
    page = first_screen_html(with_incidents, "fr")
    assert "id=assumptions" in page and "Hypothèses" in page
    assert "Données synthétiques" in page and "banque Pix-like intégrée" in page
    assert "neutralisations 3,0\u202f%" in page and "fraude 1,0\u202f%" in page
    en = first_screen_html(with_incidents, "en")
    assert "Assumptions" in en and "neutralizations 3.0%" in en


def test_a_neutralization_rule_without_simulated_neutralization_is_flagged(
    without_incidents, with_incidents
):
    lines, warnings = assumption_lines(without_incidents, "fr")
    assert any("Aucun incident simulé" in x for x in lines)
    assert len(warnings) == 1
    assert "3 questions dont 1 réussie et 1 neutralisée" in warnings[0]
    assert "aucune neutralisation n'est simulée" in warnings[0]
    assert warnings[0].replace("\u202f", " ") in summary_text(without_incidents, "fr")
    assert without_incidents.assumptions["inactive"] == [
        {"path": "[scoring.v2.table](3, 1, 1).rr_80_and_above", "needs": ["neutralize_rate"]}
    ]
    assert assumption_lines(with_incidents, "fr")[1] == []  # neutralizations are simulated


def test_a_highly_exposed_challenge_is_flagged_on_the_first_screen():
    """Pix's v3 start serves the same few challenges first: far above a 20 % exposure."""
    data = rules.load("pix-v3").to_dict()
    data["id"] = "pix-v3-28"
    data["selection"]["test_length"] = 28
    c = compare(
        "pix-v3",
        rules.RuleSet.from_dict(data),
        bank=pix_like_bank(0),
        n=300,
        seed=2,
        n_retest=0,
        n_bootstrap=100,
    )
    top = float(c.exposure["max_exposure"].max())
    assert top > 0.2
    page = first_screen_html(c, "fr")
    assert "une même question est posée à" in page
    assert "au-delà de 20\u202f%" in page
    assert "one challenge is served to" in summary_text(c, "en")


def test_measurement_biases_are_labelled_as_coming_from_the_simulator(with_incidents):
    """The current v2 rules showed a −102 pix bias, an artefact of the simulated positioning."""
    from pixirt.simulation._report_html import render_html

    page = render_html(with_incidents, "fr")
    quality = page[page.index('id="quality"') :]
    assert "viennent des règles et des hypothèses du simulateur" in quality[:4000]
    assert "come from the rules and from the simulator" in render_html(with_incidents, "en")
