"""The report's words in French and English.

Sentences, outcome, level, group and metric names, rule fields and values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    pass


Lang = Literal["fr", "en"]


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
