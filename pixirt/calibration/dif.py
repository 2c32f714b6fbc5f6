"""Differential item functioning (DIF) between groups of candidates, on sparse logs.

Flags hold under multiplicity: ``flagged`` uses Benjamini–Hochberg adjusted p-values by
default (``correction="bh"``, named in ``attrs["correction"]``; ``"none"`` for the
nominal tests), and for Mantel–Haenszel also an ETS class B or C. More than two
groups: ``focal`` a list or ``"all"``, each focal group against the reference. The
IRT test's ``anchors="sweep"`` is the anchor sweep: all other items as anchors, then
purified to a fixed point.

Two tests, both per item and both vectorized over items and answers:

:func:`mantel_haenszel_dif`
    The Mantel–Haenszel common odds ratio across strata of a matching variable, its
    chi-square test (with continuity correction), the ETS delta ``D = −2.35 ln α_MH``
    with the Robins–Breslow–Greenland standard error, and the ETS A/B/C classes
    (Zieky 1993; Zwick 2012): **A** when ``|D| < 1`` or the MH test is not significant;
    **C** when ``|D| ≥ 1.5`` and ``|D|`` is significantly above 1 (one-sided, level
    ``alpha``); **B** otherwise. A negative ``D`` means the item is harder for the focal
    group than for reference candidates of the same ability ("−", favours the
    reference). Matching: the total score when every analysed person answered every
    item (``matching="score"``, the classical MH), else (``"theta"``, sparse logs)
    equal-count strata of the person's ability estimated from their *other* answers
    (leave-one-out EAP), each group with its own normal prior estimated by marginal
    maximum likelihood, so that equal matching values mean equal expected ability in
    both groups even when the groups differ in ability (impact).
:func:`irt_dif`
    A likelihood-ratio test (and a Wald test) per item: the studied item's parameters
    are estimated separately in each group and in common, every other item being an
    anchor held at its bank values and each group's ability distribution estimated
    from the anchors. For one studied item with the anchors fixed, the marginal
    likelihood factorizes as ``p(anchors) · Π_persons p(y_i | anchors)``, and the second
    factor is ``Σ_q post(θ_q | the person's anchor answers) · P_i(y_i | θ_q)``: the test
    is an exact likelihood-ratio test of that model, computed on each person's
    posterior over the quadrature grid (the person's own answer to the item excluded).
    Degrees of freedom: the studied item's free parameters (``b`` for Rasch/1PL; ``a``
    and ``b`` for the 2PL and 3PL, ``c`` held at its bank value). ``anchors`` restricts
    the conditioning to a DIF-free set; ``purify=True`` runs once with all other items,
    then again with the items not flagged as anchors.

:func:`dif_power_study` simulates two-group data with DIF planted on known items and
reports the power and false-positive rate of both tests over repeated seeds.
"""

from __future__ import annotations

from pixirt.calibration._dif_groups import bh
from pixirt.calibration._dif_irt import irt_dif
from pixirt.calibration._dif_mh import mantel_haenszel_dif
from pixirt.calibration._dif_power import dif_power_study

__all__ = ["dif_power_study", "irt_dif", "mantel_haenszel_dif"]

# a private name tests imported from this module before it was split
_bh = bh
