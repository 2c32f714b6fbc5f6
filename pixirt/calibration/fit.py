"""Item fit, person fit and local dependence, on dense and sparse logs.

Item fit
--------
:func:`infit_outfit`
    Infit and outfit mean squares with their Wilson–Hilferty z (Wright & Masters,
    1982), computed as R's mirt ``itemfit(x, "infit")`` does but over the answered cells
    only, so it works on sparse logs. Abilities are EAP scores by default (mirt's
    default); infinite scores are replaced by the largest (smallest) finite score ± 0.1
    and answer variances below ``sqrt(1e-5)`` are floored there, as mirt does.
:func:`s_x2`
    Orlando & Thissen's (2000) S-X² with mirt's cell collapsing (``mincell = 1``),
    computed on every *form* (set of persons who answered exactly the same items) with
    at least ``min_form_size`` persons. With a single form (dense data) it is mirt's
    ``itemfit`` S-X²; with several forms the statistics and cell counts are summed over
    forms (each form is an independent sample) and the item's parameters are
    subtracted once. On adaptive logs no two persons share a form and S-X² is **not
    computed**: the ``note`` column says so, and :func:`binned_fit` is the alternative.
:func:`binned_fit`
    A residual fit for sparse logs. For each answer, the person's *other* answers give
    a posterior for θ; from it, the probability that the answer is correct
    (``π``, the posterior predictive) and the leave-one-out EAP ``θ̂₋ᵢ``. Each item's
    answers are cut into ``n_bins`` equal-count bins of ``θ̂₋ᵢ`` and, per bin, the
    observed number right ``O`` is compared with ``E = Σ π``:
    ``X² = Σ_bins (O − E)² / Σ π (1 − π)``. Given the item parameters, every answer is
    Bernoulli(π) independently of the binning variable (which does not use it), so each
    standardized bin residual is asymptotically N(0, 1) and ``X²`` is χ² with
    ``n_bins`` degrees of freedom; when the parameters were estimated from the same
    answers (``estimated_parameters=True``, the default) the item's free parameters
    are subtracted, as in Yen's Q1 and Orlando–Thissen. The test's calibration
    (false-positive rate) is checked by simulation in the test suite. With millions of
    answers every misfit is significant: ``rmsd`` (root mean squared difference between
    observed and expected proportions, weighted by bin sizes, as in PISA's item fit)
    measures its size.

Person fit: :func:`person_fit` gives Snijders' (2001) ``lz*`` (``lz`` corrected for
the estimated θ; MLE, WLE or MAP scores), the uncorrected ``lz`` (Drasgow et al. 1985;
mirt's ``Zh``) and infit/outfit per person.

Local dependence: :func:`yen_q3` gives Yen's (1984) Q3 (correlations of the residuals
``y − P(θ̂)`` over the persons who answered both items) for dense or near-dense data;
:func:`q3_pairs` lists the pairs above ``mean(Q3) + 0.2`` (Christensen et al., 2017).
"""

from __future__ import annotations

from pixirt.calibration._binned_fit import binned_fit, equal_count_bins
from pixirt.calibration._infit import infit_outfit
from pixirt.calibration._item_fit import item_fit
from pixirt.calibration._person_fit import person_fit
from pixirt.calibration._q3 import q3_pairs, yen_q3
from pixirt.calibration._sx2 import identify_forms, s_x2

__all__ = [
    "binned_fit",
    "equal_count_bins",
    "identify_forms",
    "infit_outfit",
    "item_fit",
    "person_fit",
    "q3_pairs",
    "s_x2",
    "yen_q3",
]
