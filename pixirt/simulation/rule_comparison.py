"""The impact of a rule change: the same candidates under two rule sets, side by side.

:func:`compare` runs the same candidates under a baseline and a proposed rule set and
returns a :class:`Comparison`: who changes outcome, score and certified levels, by how
much, in which group, how well each rule set measures, and how sure we are of each
headline difference.

Same candidates, same draws
    Every draw of the simulator is keyed by ``(seed, candidate index, step)``
    (:mod:`pixirt.streams`), so two :func:`~pixirt.simulation.runner.simulate` calls with
    the same population, seed and indices are *common random numbers*: the same
    candidates, the same true abilities and, step by step, the same answer draws. A
    difference between the two runs is the rule change's doing, not the luck of the
    draw. Past sessions (``past_sessions``) are rescored with their real answers
    (:func:`~pixirt.simulation.replay.replay`); when the proposed rules change *which*
    challenges are asked, a rescoring cannot say what would have happened, and both rule
    sets re-run the past candidates in simulation instead, at the ability estimated from
    their real answers (:func:`~pixirt.simulation.replay.counterfactual`, same seed).

What is compared (per candidate, then summed)
    Outcome (validated, rejected, cancelled, not certifiable), pix score and the level
    written on the certificate for each competence: the competence's level when the
    certification is validated, "no level" otherwise (not tested, uncertified, or the
    certification not validated). A candidate is *worse off* when the change costs them
    their certification, or, certified under both, lowers their score or one of their
    certified levels, and gains nothing on another count; *better off* symmetrically;
    *mixed* when both happen.

Uncertainty
    Every headline difference carries a percentile bootstrap interval: the candidates are
    resampled with replacement (``n_bootstrap`` times) *as pairs*, so the interval
    measures how much the difference would move with other candidates drawn from the same
    population, for the same rule change. For past sessions it says how much the
    difference depends on which sessions happened to be held. The percentile bootstrap
    needs a few affected candidates in the sample: a difference that rests on a handful
    of candidates gets a rough interval (and an interval of width 0 when none is
    affected).

Fairness
    For every pair of groups and for the pass rate, the mean score and the share of
    candidates worse off, the *gap* is the difference between the two groups' changes.
    A gap is flagged as unequal treatment when its interval, widened for the number of
    gaps examined (Bonferroni), excludes 0, the group it puts at a disadvantage is indeed
    hurt by the change, the gap at equal true ability (simulations) keeps its direction
    with its widened interval excluding 0, and — when the rules change the tests — it is
    larger than the noise floor, the gap a second sitting alone makes between the groups;
    one beyond chance that fails another condition is listed "to watch". In
    simulations the gap is also computed *at equal true ability* (the groups' changes are
    the group terms of a least-squares regression of each candidate's change on a linear
    spline of the true ability and the groups): a gap that vanishes there comes from the
    groups' different levels, not from the rules treating equally able candidates
    differently.

Measurement quality (simulations)
    Against the true ability: bias, RMSE and correlation of the score with the *true
    score* (the score the rules give the true ability, without measurement error), of the
    v3 capacity with the true ability; classification accuracy of the certified levels
    (share of competence levels equal to the true level: for v3 the level the rules give
    the true ability, for v2 the level an error-free positioning would give) and their
    consistency (share equal in a second, independent administration to the first
    ``n_retest`` candidates: same candidates, new answer draws), and the test-retest
    correlation of the score. For v3, challenge exposure and test overlap.

Examples
--------
>>> from pixirt import rules
>>> from pixirt.simulation.population import Population
>>> from pixirt.simulation.rule_comparison import compare
>>> v3 = rules.load("pix-v3")
>>> same = compare(v3, v3, population=Population(), n=30, seed=1, n_bootstrap=100)
>>> same.headline()["changed"], same.headline()["pass_rate_difference"]
(0, 0.0)
"""

from __future__ import annotations

from pixirt.simulation._compare import compare
from pixirt.simulation._comparison import Comparison
from pixirt.simulation._comparison import _analyse as _analyse
from pixirt.simulation._comparison_names import CHANGE_METRICS as CHANGE_METRICS
from pixirt.simulation._comparison_names import DIFFERENCE_METRICS as DIFFERENCE_METRICS
from pixirt.simulation._comparison_names import GAP_METRICS as GAP_METRICS
from pixirt.simulation._comparison_names import MIN_SAMPLE as MIN_SAMPLE
from pixirt.simulation._comparison_names import NO_LEVEL as NO_LEVEL
from pixirt.simulation._comparison_names import QUALITY_METRICS as QUALITY_METRICS
from pixirt.simulation._comparison_names import SELECTION_FIELDS as SELECTION_FIELDS
from pixirt.simulation._comparison_names import STATUSES as STATUSES
from pixirt.simulation._comparison_names import selection_changes as selection_changes
from pixirt.simulation._rule_set_info import RuleSetInfo
from pixirt.simulation._sides import _Shared as _Shared
from pixirt.simulation._sides import _Side as _Side

__all__ = ["Comparison", "RuleSetInfo", "compare"]
