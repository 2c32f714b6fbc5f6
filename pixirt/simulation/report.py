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

import base64
import html
import io
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from pixirt.rules import FieldChange, RuleSetDiff

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from pixirt.simulation.rule_comparison import Comparison

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

Lang = Literal["fr", "en"]
#: A number formatter.
Fmt = Callable[[float], str]

NBSP = "\u00a0"
NNBSP = "\u202f"  # French thousands separator and space before % and :
MINUS = "\u2212"

# ====================================================================== words
_TEXT: dict[str, dict[str, str]] = {
    "title": {"fr": "Impact d'un changement de règles", "en": "Impact of a rule change"},
    "baseline_rules": {"fr": "règles actuelles ({id})", "en": "current rules ({id})"},
    "proposed_rules": {"fr": "règles proposées ({id})", "en": "proposed rules ({id})"},
    "candidates": {"fr": "candidats", "en": "candidates"},
    "pix_score": {"fr": "score Pix", "en": "Pix score"},
    "true_ability": {"fr": "compétence réelle (θ)", "en": "true ability (θ)"},
    "source_simulation": {
        "fr": "{n} candidats simulés, les mêmes sous les deux règles (mêmes compétences réelles, mêmes tirages des réponses).",
        "en": "{n} simulated candidates, the same under both rule sets (same true abilities, same answer draws).",
    },
    "source_replay": {
        "fr": "{n} sessions passées, rescorées avec leurs vraies réponses sous les deux règles.",
        "en": "{n} past sessions, rescored with their real answers under both rule sets.",
    },
    "source_counterfactual": {
        "fr": "{n} candidats de sessions passées, dont les tests sont rejoués en simulation sous les deux règles.",
        "en": "{n} candidates of past sessions whose tests are re-run in simulation under both rule sets.",
    },
    "card_changed": {"fr": "Candidats concernés", "en": "Candidates affected"},
    "card_changed_sub": {
        "fr": "sur {n} ({share}) : résultat, score ou niveau différent",
        "en": "of {n} ({share}): a different outcome, score or level",
    },
    "card_pass": {"fr": "Taux de réussite", "en": "Pass rate"},
    "card_lost": {"fr": "Perdent leur certification", "en": "Lose their certification"},
    "card_lost_sub": {"fr": "la gagnent : {gained}", "en": "gain it: {gained}"},
    "card_worse": {"fr": "Pénalisés", "en": "Worse off"},
    "card_worse_sub": {
        "fr": "{share} des candidats ; favorisés : {better}",
        "en": "{share} of candidates; better off: {better}",
    },
    "card_mixed_sub": {
        "fr": " ; les deux à la fois : {mixed}",
        "en": "; both at once: {mixed}",
    },
    "card_score": {"fr": "Score Pix moyen", "en": "Mean Pix score"},
    "card_jury": {
        "fr": "Charge du jury (certifications à examiner)",
        "en": "Jury workload (certifications to review)",
    },
    "ci": {"fr": "IC {level} : {lo} à {hi}", "en": "{level} CI: {lo} to {hi}"},
    "what_changes": {"fr": "Ce qui change", "en": "What changes"},
    "how_to_read": {
        "fr": "Comment lire : « IC 95 % » donne la plage où se situerait l'écart avec d'autres candidats de la même population ; un écart dont l'intervalle ne contient pas zéro ne s'explique pas par le hasard du tirage des candidats. Un « point » est un point de pourcentage.",
        "en": "How to read: “95% CI” gives the range the difference would fall in with other candidates from the same population; a difference whose interval excludes zero is not explained by the luck of the draw of candidates. A “point” is a percentage point.",
    },
    "who_hurt": {"fr": "Qui est pénalisé ?", "en": "Who is hurt?"},
    "no_rule_change": {
        "fr": "Aucune règle ne change : les deux jeux de règles sont identiques.",
        "en": "No rule changes: the two rule sets are identical.",
    },
    "more_changes": {
        "fr": "… et {k} autres changements (détail plus bas).",
        "en": "… and {k} more changes (detail below).",
    },
    "metadata_only": {
        "fr": "Seules l'identité et la description des règles changent (nom, date, statut, commentaire).",
        "en": "Only the rules' identity and description change (name, date, status, comment).",
    },
    "col_group": {"fr": "Groupe", "en": "Group"},
    "col_candidates": {"fr": "Candidats", "en": "Candidates"},
    "col_worse": {"fr": "Pénalisés", "en": "Worse off"},
    "col_lost": {"fr": "Perdent la certification", "en": "Lose certification"},
    "col_pass": {"fr": "Taux de réussite", "en": "Pass rate"},
    "col_score": {"fr": "Score moyen", "en": "Mean score"},
    "col_change": {"fr": "Évolution", "en": "Change"},
    "all_candidates": {"fr": "Tous", "en": "All"},
    "no_flag": {
        "fr": "Aucun groupe n'est plus pénalisé qu'un autre au-delà de l'incertitude.",
        "en": "No group is hurt more than another beyond the uncertainty.",
    },
    "one_group": {
        "fr": "Un seul groupe de candidats : pas de comparaison entre groupes.",
        "en": "A single group of candidates: no comparison between groups.",
    },
    "flag_sentence": {
        "fr": "Le groupe « {hurt} » est plus pénalisé que le groupe « {other} » — {metric} : {c_hurt} contre {c_other}, soit {gap} de plus au détriment du groupe « {hurt} » ({ci}).",
        "en": "Group “{hurt}” is hurt more than group “{other}” — {metric}: {c_hurt} against {c_other}, {gap} more to the detriment of “{hurt}” ({ci}).",
    },
    "flag_cond_vanishes": {
        "fr": "À compétence réelle égale, l'écart n'est que de {gap} ({ci}) : il vient de la différence de niveau entre les groupes, pas d'un traitement différent de candidats de même niveau.",
        "en": "At equal true ability the gap is only {gap} ({ci}): it comes from the groups' different levels, not from candidates of the same level being treated differently.",
    },
    "flag_cond_shrinks": {
        "fr": "À compétence réelle égale, l'écart tombe à {gap} ({ci}) : il vient surtout de la différence de niveau entre les groupes.",
        "en": "At equal true ability the gap falls to {gap} ({ci}): it comes mostly from the groups' different levels.",
    },
    "flag_cond_chance": {
        "fr": "À compétence réelle égale, l'écart est de {gap} ({ci}), mais il ne se distingue plus du hasard une fois tenu compte des {k} écarts examinés : rien ne montre que des candidats de même niveau soient traités différemment.",
        "en": "At equal true ability the gap is {gap} ({ci}), but it no longer stands out from chance once the {k} gaps examined are accounted for: nothing shows candidates of the same level being treated differently.",
    },
    "flag_noise": {
        "fr": "Et il ne dépasse pas le bruit d'un second passage : sous les règles actuelles, repasser le test fait déjà varier l'écart entre ces groupes jusqu'à {floor}.",
        "en": "Nor does it exceed the noise of a second sitting: under the current rules, sitting the test again already moves the gap between these groups by up to {floor}.",
    },
    "flag_mixed": {
        "fr": "Entre les groupes « {a} » et « {b} », les écarts signalés vont dans des sens opposés ({details}) : aucun des deux groupes n'est pénalisé sur tous les indicateurs.",
        "en": "Between groups “{a}” and “{b}”, the gaps flagged point in opposite directions ({details}): neither group is hurt on every measure.",
    },
    "flag_mixed_item": {
        "fr": "{metric} au détriment du groupe « {hurt} »",
        "en": "{metric} to the detriment of “{hurt}”",
    },
    "multiplicity": {
        "fr": "{k} écarts examinés ({pairs} paire{s} de groupes × {metrics} indicateurs) : un écart n'est signalé que si son intervalle, élargi pour tenir compte de ces comparaisons multiples (Bonferroni), exclut zéro.",
        "en": "{k} gaps examined ({pairs} pair{s} of groups × {metrics} measures): a gap is flagged only when its interval, widened for these multiple comparisons (Bonferroni), excludes zero.",
    },
    "flag_cond_stays": {
        "fr": "À compétence réelle égale, il reste un écart de {gap} ({ci}) : la différence de niveau entre les groupes ne l'explique pas entièrement.",
        "en": "At equal true ability a gap of {gap} remains ({ci}): the groups' different levels do not explain it all.",
    },
    "gap_pass_rate": {"fr": "évolution du taux de réussite", "en": "change of the pass rate"},
    "gap_mean_score": {"fr": "évolution du score moyen", "en": "change of the mean score"},
    "gap_worse_off": {"fr": "part de candidats pénalisés", "en": "share of candidates worse off"},
    "note_rescored_only": {
        "fr": "Les sessions passées sont rescorées avec leurs vraies réponses : seules les règles de calcul du résultat changent, les questions posées restent celles de la session.",
        "en": "Past sessions are rescored with their real answers: only the rules computing the result change; the questions asked stay those of the session.",
    },
    "note_counterfactual": {
        "fr": "Les règles proposées changent les questions posées : les vraies réponses ne s'appliquent plus. Chaque candidat passé repasse donc le test en simulation, sous les deux règles, à la compétence estimée d'après ses vraies réponses. Les résultats sont ceux de candidats simulés semblables, pas ceux qu'auraient obtenus ces personnes.",
        "en": "The proposed rules change the questions asked: the real answers no longer apply. Each past candidate therefore re-takes the test in simulation, under both rule sets, at the ability estimated from their real answers. The results are those of similar simulated candidates, not those these people would have obtained.",
    },
    "assumptions": {"fr": "Hypothèses", "en": "Assumptions"},
    "quality_assumed": {
        "fr": "Ces biais et erreurs viennent des règles et des hypothèses du simulateur (comment les candidats simulés répondent, comment leur positionnement est tiré, la banque simulée) : ils ne mesurent pas la certification réelle. Lisez l'écart entre les deux règles, mesuré sur les mêmes candidats, plutôt que le niveau de chacune.",
        "en": "These biases and errors come from the rules and from the simulator's assumptions (how simulated candidates answer, how their positioning is drawn, the simulated bank): they do not measure the real certification. Read the difference between the two rule sets, measured on the same candidates, rather than the level of each.",
    },
    "note_exposure": {
        "fr": "Exposition : sous les règles {rules}, une même question est posée à {share} des candidats (au-delà de {limit}, une question risque de circuler entre candidats).",
        "en": "Exposure: under the {rules} rules, one challenge is served to {share} of the candidates (above {limit}, a challenge may leak between candidates).",
    },
    "assume_synthetic": {
        "fr": "Données synthétiques : candidats simulés ({population}) répondant à {bank} ; les biais mesurés viennent aussi de ces hypothèses, pas seulement des règles.",
        "en": "Synthetic data: simulated candidates ({population}) answering {bank}; the biases measured also come from these assumptions, not only from the rules.",
    },
    "assume_real": {
        "fr": "Données réelles : {n} sessions passées.",
        "en": "Real data: {n} past sessions.",
    },
    "assume_bank_synthetic": {
        "fr": "la banque Pix-like intégrée, simulée ({k} questions)",
        "en": "the built-in simulated Pix-like bank ({k} challenges)",
    },
    "assume_bank_given": {
        "fr": "la banque fournie ({k} questions, empreinte {hash})",
        "en": "the bank given ({k} challenges, hash {hash})",
    },
    "assume_population": {
        "fr": "compétence générale de moyenne {mean} et d'écart-type {sd}",
        "en": "general ability of mean {mean} and standard deviation {sd}",
    },
    "assume_groups": {
        "fr": "groupes : {groups}",
        "en": "groups: {groups}",
    },
    "assume_incidents": {
        "fr": "Incidents simulés : {rates}.",
        "en": "Simulated incidents: {rates}.",
    },
    "assume_reports": {
        "fr": "signalements de {k} catégories ({per_challenge} des épreuves répondues ; {names}), résolus par la politique de chaque règle",
        "en": "issue reports of {k} kinds ({per_challenge} of answered challenges; {names}), resolved by each rule set's policy",
    },
    "assume_no_incident": {
        "fr": "Aucun incident simulé : ni neutralisation, ni abandon, ni interruption technique, ni fraude, ni alerte en direct.",
        "en": "No incident simulated: no neutralization, abandon, technical abort, fraud or live alert.",
    },
    "assume_draws": {
        "fr": "Tirages : graine {seed}, {n} candidats, {retest} repassant le test ; règles {base} ({base_hash}) et {prop} ({prop_hash}).",
        "en": "Draws: seed {seed}, {n} candidates, {retest} sitting it twice; rules {base} ({base_hash}) and {prop} ({prop_hash}).",
    },
    "assume_inactive": {
        "fr": "Attention : « {what} » ne peut pas agir sous ces hypothèses : {missing}. Ce changement ne montre donc aucun effet ici.",
        "en": "Warning: “{what}” cannot act under these assumptions: {missing}. This change therefore shows no effect here.",
    },
    "note_small_sample": {
        "fr": "Seulement {k} sessions : c'est trop peu pour des intervalles de confiance qui aient un sens. Aucun intervalle n'est donné et aucun écart entre groupes n'est signalé ; les chiffres décrivent ces sessions-là, pas une population.",
        "en": "Only {k} sessions: too few for meaningful confidence intervals. No interval is given and no gap between groups is flagged; the figures describe these sessions, not a population.",
    },
    "ci_none": {"fr": "sans intervalle", "en": "no interval"},
    "note_scoring_errors": {
        "fr": "{k} résultats n'ont pas pu être calculés (sessions que les règles ne savent pas noter) : ils figurent comme « erreur ».",
        "en": "{k} results could not be computed (sessions the rules cannot score): they appear as “error”.",
    },
    "note_scoring_errors_one": {
        "fr": "1 résultat n'a pas pu être calculé (une session que les règles ne savent pas noter) : il figure comme « erreur ».",
        "en": "1 result could not be computed (a session the rules cannot score): it appears as “error”.",
    },
    "note_no_true_ability": {
        "fr": "Sessions réelles : la compétence réelle des candidats est inconnue, la qualité de la mesure n'est pas évaluée.",
        "en": "Real sessions: the candidates' true ability is unknown, measurement quality is not assessed.",
    },
    "note_selection_simulation": {
        "fr": "Les règles proposées changent les questions posées : les candidats simulés passent un test différent sous chaque règle (mêmes candidats, mêmes tirages aléatoires).",
        "en": "The proposed rules change the questions asked: the simulated candidates take a different test under each rule set (same candidates, same random draws).",
    },
    "note_noise": {
        "fr": "Les règles proposées changent les questions posées : chaque candidat simulé passe un test différent sous chaque règle, et une partie des mouvements individuels tient au hasard de la mesure. En repassant le test sous les règles actuelles, {changed} des candidats ont déjà un résultat, un score ou un niveau différent et {worse} sont « pénalisés » : l'effet des règles se lit dans les moyennes et les écarts entre groupes plus que dans les mouvements individuels.",
        "en": "The proposed rules change the questions asked: each simulated candidate takes a different test under each rule set, and part of the individual moves is measurement chance. Re-taking the test under the current rules already gives {changed} of candidates a different outcome, score or level and leaves {worse} “worse off”: the rules' effect shows in the means and group gaps more than in individual moves.",
    },
    "nav": {"fr": "Détail", "en": "Detail"},
    "sec_rules": {"fr": "Les règles comparées", "en": "The rules compared"},
    "sec_outcomes": {"fr": "Résultats des candidats", "en": "Candidates' outcomes"},
    "sec_scores": {"fr": "Scores", "en": "Scores"},
    "sec_groups": {"fr": "Par groupe", "en": "By group"},
    "sec_levels": {"fr": "Niveaux certifiés", "en": "Certified levels"},
    "sec_quality": {"fr": "Qualité de la mesure", "en": "Measurement quality"},
    "sec_exposure": {"fr": "Exposition des questions", "en": "Challenge exposure"},
    "sec_method": {"fr": "Méthode et provenance", "en": "Method and provenance"},
    "sec_glossary": {"fr": "Lexique", "en": "Glossary"},
    "fig_outcomes": {"fr": "Résultat : avant → après", "en": "Outcome: before → after"},
    "fig_score_changes": {
        "fr": "Évolution du score de chaque candidat",
        "en": "Change of each candidate's score",
    },
    "fig_score_changes_x": {
        "fr": "écart de score (pix, proposé − actuel)",
        "en": "score difference (pix, proposed − current)",
    },
    "fig_scores": {"fr": "Distribution des scores", "en": "Score distribution"},
    "fig_groups_pass": {
        "fr": "Taux de réussite (points)",
        "en": "Pass rate (percentage points)",
    },
    "fig_groups_score": {"fr": "Score moyen (pix)", "en": "Mean score (pix)"},
    "fig_groups_worse": {"fr": "Pénalisés (% des candidats)", "en": "Worse off (% of candidates)"},
    "fig_levels_all": {
        "fr": "Niveaux certifiés, toutes compétences",
        "en": "Certified levels, all competences",
    },
    "fig_levels_one": {
        "fr": "Niveaux certifiés, compétence {code}",
        "en": "Certified levels, competence {code}",
    },
    "fig_quality_bias": {"fr": "Biais du score (pix)", "en": "Score bias (pix)"},
    "fig_quality_rmse": {
        "fr": "Erreur quadratique moyenne du score (pix)",
        "en": "Score RMSE (pix)",
    },
    "fig_quality_accuracy": {
        "fr": "Niveaux justes (part)",
        "en": "Correct levels (share)",
    },
    "fig_exposure": {"fr": "Exposition des questions", "en": "Challenge exposure"},
    "fig_exposure_x": {
        "fr": "questions, de la plus posée à la moins posée",
        "en": "challenges, most served first",
    },
    "fig_exposure_y": {"fr": "part des candidats (%)", "en": "share of candidates (%)"},
    "no_true_ability": {"fr": "compétence réelle inconnue", "en": "true ability unknown"},
    "no_exposure": {"fr": "pas de données d'exposition", "en": "no exposure data"},
    "img_alt": {"fr": "figure : {what}", "en": "figure: {what}"},
}

_STATUS = {
    "validated": {"fr": "validée", "en": "validated"},
    "rejected": {"fr": "rejetée", "en": "rejected"},
    "cancelled": {"fr": "annulée", "en": "cancelled"},
    "cancelled_by_jury": {"fr": "annulée par le jury", "en": "cancelled by the jury"},
    "not_certifiable": {"fr": "non certifiable", "en": "not certifiable"},
    "error": {"fr": "erreur", "en": "error"},
}

_METRICS = {
    "pass_rate": {"fr": "Taux de réussite", "en": "Pass rate"},
    "mean_score": {"fr": "Score Pix moyen", "en": "Mean Pix score"},
    "mean_level": {"fr": "Niveau certifié moyen", "en": "Mean certified level"},
    "jury_review": {
        "fr": "Certifications envoyées au jury (signalement non résolu)",
        "en": "Certifications sent to the jury (unresolved report)",
    },
    "changed": {
        "fr": "Résultat, score ou niveau différent",
        "en": "Different outcome, score or level",
    },
    "worse_off": {"fr": "Pénalisés", "en": "Worse off"},
    "better_off": {"fr": "Favorisés", "en": "Better off"},
    "mixed": {"fr": "Pénalisés et favorisés à la fois", "en": "Both worse and better off"},
    "lost_certification": {"fr": "Perdent leur certification", "en": "Lose their certification"},
    "gained_certification": {"fr": "Gagnent la certification", "en": "Gain the certification"},
    "score_down": {"fr": "Certifiés, score en baisse", "en": "Certified, lower score"},
    "score_up": {"fr": "Certifiés, score en hausse", "en": "Certified, higher score"},
    "level_down": {"fr": "Certifiés, un niveau en baisse", "en": "Certified, a lower level"},
    "level_up": {"fr": "Certifiés, un niveau en hausse", "en": "Certified, a higher level"},
    "score_bias": {"fr": "Biais du score (pix)", "en": "Score bias (pix)"},
    "score_rmse": {"fr": "Erreur quadratique moyenne du score (pix)", "en": "Score RMSE (pix)"},
    "score_correlation": {
        "fr": "Corrélation score / score vrai",
        "en": "Correlation score / true score",
    },
    "capacity_bias": {"fr": "Biais de la capacité (θ)", "en": "Capacity bias (θ)"},
    "capacity_rmse": {
        "fr": "Erreur quadratique moyenne de la capacité (θ)",
        "en": "Capacity RMSE (θ)",
    },
    "level_accuracy": {
        "fr": "Niveaux certifiés justes (précision de classement)",
        "en": "Correct certified levels (classification accuracy)",
    },
    "level_accuracy_within_one": {
        "fr": "Niveaux certifiés justes à un niveau près",
        "en": "Certified levels correct within one level",
    },
    "global_level_accuracy": {
        "fr": "Palier global juste",
        "en": "Correct global level",
    },
    "level_consistency": {
        "fr": "Niveaux identiques d'une passation à l'autre (cohérence)",
        "en": "Same levels from one sitting to another (consistency)",
    },
    "score_test_retest": {
        "fr": "Corrélation test-retest du score",
        "en": "Test-retest correlation of the score",
    },
}

#: Plain-words names of the rule fields (the last key of a :func:`pixirt.rules.diff` path).
_FIELDS = {
    "test_length": {"fr": "Nombre de questions du test", "en": "Number of questions in the test"},
    "pick_probability": {
        "fr": "Probabilité de poser la question la plus informative (%)",
        "en": "Probability of asking the most informative question (%)",
    },
    "top_n": {"fr": "Questions candidates au tirage", "en": "Questions drawn from"},
    "one_question_per_tube": {"fr": "Une seule question par sujet", "en": "One question per tube"},
    "passage_by_all_competences": {
        "fr": "Passage par toutes les compétences",
        "en": "Visit every competence",
    },
    "challenges_between_same_competence": {
        "fr": "Questions entre deux questions de la même compétence",
        "en": "Questions between two of the same competence",
    },
    "warm_up_length": {"fr": "Questions d'échauffement", "en": "Warm-up questions"},
    "forced_competences": {"fr": "Compétences imposées", "en": "Forced competences"},
    "minimum_success_rate": {
        "fr": "Taux de réussite minimal visé",
        "en": "Minimum success rate targeted",
    },
    "default_capacity": {"fr": "Capacité de départ", "en": "Starting capacity"},
    "prior_variance": {
        "fr": "Variance a priori de l'estimation",
        "en": "Prior variance of the estimate",
    },
    "grid_min": {"fr": "Grille d'estimation (minimum)", "en": "Estimation grid (minimum)"},
    "grid_max": {"fr": "Grille d'estimation (maximum)", "en": "Estimation grid (maximum)"},
    "grid_steps": {"fr": "Grille d'estimation (pas)", "en": "Estimation grid (steps)"},
    "grid_quirk": {"fr": "Grille historique de Pix", "en": "Pix's historical grid"},
    "variation_percent": {
        "fr": "Variation maximale de la capacité par réponse",
        "en": "Largest capacity change per answer",
    },
    "variation_percent_until": {
        "fr": "Limitation de la variation jusqu'à la réponse",
        "en": "Capacity change capped until answer",
    },
    "double_measures_until": {
        "fr": "Doubles mesures jusqu'à la réponse",
        "en": "Double measures until answer",
    },
    "error_rate_without_answers": {"fr": "Erreur sans réponse", "en": "Error without answers"},
    "formula": {"fr": "Formule du score", "en": "Score formula"},
    "max_reachable_level": {"fr": "Niveau maximal atteignable", "en": "Highest reachable level"},
    "score_cap": {"fr": "Score maximal", "en": "Highest score"},
    "interval_height": {"fr": "Hauteur d'un palier", "en": "Height of a level band"},
    "minimum_answers": {
        "fr": "Nombre minimal de réponses pour valider",
        "en": "Fewest answers to validate",
    },
    "reject_when": {"fr": "Règle de rejet", "en": "Rejection rule"},
    "degrade_abandoned": {
        "fr": "Dégradation des tests abandonnés",
        "en": "Degradation of abandoned tests",
    },
    "allow_inverted_intervals": {
        "fr": "Intervalles inversés permis",
        "en": "Inverted intervals allowed",
    },
    "meshes": {"fr": "Paliers du score", "en": "Score meshes"},
    "intervals": {"fr": "Paliers du score global", "en": "Global score bands"},
    "competence_intervals": {
        "fr": "Intervalles de niveau des compétences",
        "en": "Competence level intervals",
    },
    "challenges_per_competence": {
        "fr": "Questions par compétence",
        "en": "Questions per competence",
    },
    "pix_per_level": {"fr": "Pix par niveau", "en": "Pix per level"},
    "minimum_competence_level": {
        "fr": "Niveau minimal d'une compétence pour être testée",
        "en": "Lowest level for a competence to be tested",
    },
    "minimum_certifiable_competences": {
        "fr": "Nombre minimal de compétences certifiables",
        "en": "Fewest certifiable competences",
    },
    "trust_ratio": {
        "fr": "Part minimale de questions non neutralisées",
        "en": "Smallest share of non-neutralized questions",
    },
    "minimum_to_be_certified": {
        "fr": "Taux de reproductibilité minimal pour être certifié (%)",
        "en": "Lowest reproducibility rate to be certified (%)",
    },
    "middle_band_minimum": {
        "fr": "Seuil de la bande intermédiaire du taux de reproductibilité (%)",
        "en": "Reproducibility rate threshold of the middle band (%)",
    },
    "minimum_to_be_trusted": {
        "fr": "Seuil haut du taux de reproductibilité (%)",
        "en": "Upper reproducibility rate threshold (%)",
    },
    "table": {"fr": "Table des niveaux", "en": "Level table"},
    "algorithm": {"fr": "Algorithme de certification", "en": "Certification algorithm"},
}
_METADATA = ("id", "valid_from", "status", "comment")
#: Plain words for rule values that are codes.
_VALUES = {
    "zero_score": {"fr": "score nul", "en": "zero score"},
    "below_minimum_mesh": {
        "fr": "capacité sous le premier palier",
        "en": "capacity below the first band",
    },
    "mesh": {"fr": "par paliers", "en": "by bands"},
    "linear_2023": {"fr": "linéaire (2023)", "en": "linear (2023)"},
    "all": {"fr": "toutes", "en": "all"},
}
_ACTIONS = {
    "validate": {"fr": "valider", "en": "validate"},
    "downgrade": {"fr": "rétrograder d'un niveau", "en": "downgrade one level"},
    "invalidate": {"fr": "invalider", "en": "invalidate"},
}
_BANDS = {
    "rr_80_and_above": {"fr": "taux ≥ seuil haut", "en": "rate ≥ upper threshold"},
    "rr_70_to_80": {"fr": "taux dans la bande intermédiaire", "en": "rate in the middle band"},
    "rr_below_70": {"fr": "taux sous la bande intermédiaire", "en": "rate below the middle band"},
}


def text(key: str, lang: Lang, **values: Any) -> str:
    """The sentence ``key`` in ``lang`` with ``values`` filled in."""
    return _TEXT[key][lang].format(**values)


def status_label(status: str, lang: Lang) -> str:
    """An outcome (``validated``, ...) in words."""
    return _STATUS.get(status, {}).get(lang, status)


def level_label(level: str, lang: Lang) -> str:
    """A certified level label (``"none"`` → "aucun" / "none")."""
    if level == "none":
        return "aucun" if lang == "fr" else "none"
    return level


def group_label(group: str, lang: Lang) -> str:
    """A group's name (``"all"`` → "Tous" / "All")."""
    return text("all_candidates", lang) if group == "all" else group


def metric_label(metric: str, lang: Lang) -> str:
    """A metric's name in words."""
    return _METRICS.get(metric, {}).get(lang, metric)


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
    for row in _rows(flagged):
        if (str(row["group_a"]), str(row["group_b"])) in mixed:
            continue
        metric = str(row["metric"])
        hurt_sign = -1 if metric in ("pass_rate", "mean_score") else 1
        a_hurt = float(row["gap"]) * hurt_sign > 0
        hurt, other = (
            (row["group_a"], row["group_b"]) if a_hurt else (row["group_b"], row["group_a"])
        )
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
            ci=_ci(lo, hi, c.confidence_level, lang, mag),
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
                ci=_ci(clo, chi, c.confidence_level, lang, mag),
                k=_count(n_tests, lang),
            )
        floor = float(row.get("noise_floor", math.nan))
        if math.isfinite(floor) and abs(float(row["gap"])) <= floor:
            sentence += " " + text("flag_noise", lang, floor=mag(floor))
        out.append((_FLAG_ORDER.index(metric), -abs(gap), sentence))
    out.sort(key=lambda t: (t[0], t[1]))
    return [s for _, _, s in out]


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
        lines.append(text("assume_synthetic", lang, population=who, bank=bank_words))
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
        lines.append(
            text("assume_incidents", lang, rates=", ".join(rates))
            if rates
            else text("assume_no_incident", lang)
        )
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
    from pixirt.item_bank import _atomic_write

    out = Path(path)
    page = render_html(c, lang)
    _atomic_write(out, lambda tmp: tmp.write_text(page, encoding="utf-8"))
    return out
