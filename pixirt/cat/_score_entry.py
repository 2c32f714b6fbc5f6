"""The :func:`score` entry: a certification and a rule set to a result (:mod:`pixirt.cat.scoring`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pixirt.cat import jury
from pixirt.cat._certification import Certification
from pixirt.cat._result import CertificationResult
from pixirt.cat._v2_words import _score_v2
from pixirt.cat._v3_words import _score_v3

if TYPE_CHECKING:
    from pixirt.item_bank import ItemBank
    from pixirt.rules import RuleSet


# =========================================================================== entry point
def score(
    certification: Certification,
    rules: RuleSet,
    *,
    bank: ItemBank | None = None,
) -> CertificationResult:
    """Score a certification with a rule set, exactly as Pix does.

    Parameters
    ----------
    certification
        The session's challenges, answers, profile (v2) and jury flags.
    rules
        The rule set (:func:`pixirt.rules.load`); its ``algorithm`` picks v2 or v3.
    bank
        v3 only: the calibrated bank, needed to simulate the missing answers of a test
        abandoned by the candidate (score degradation), and used for the discriminant
        and difficulty of a challenge that does not record them.

    Returns
    -------
    CertificationResult
        The outcome, with the rule set's id and hash and the package version.

    Raises
    ------
    ScoringError
        When Pix's scoring would fail: an unanswered challenge in v2, a combination
        missing from the level table (named), a tested competence without challenge, an
        inconsistent profile, a v3 challenge without calibration, or a degradation
        needed without ``bank``.
    """
    if not isinstance(certification, Certification):
        raise TypeError(
            f"certification must be a Certification, got {type(certification).__name__}"
        )
    decision = jury.apply(certification, rules, bank=bank)
    cert = decision.certification
    result = _score_v2(cert, rules) if rules.algorithm == "v2" else _score_v3(cert, rules, bank)
    after: list[str] = []  # what the jury's decisions give besides the core outcome
    clea = None
    if cert.clea_badge:
        acquired = jury.clea_acquired(
            rules,
            status=[result.status],
            pix_score=[result.pix_score or 0],
            fraud=[cert.fraud],
            badge=[True],
        )
        if acquired is not None:
            clea = bool(acquired[0])
            assert rules.complementary is not None and rules.complementary.clea is not None
            after.append(
                f"CléA numérique {'acquired' if clea else 'not acquired'}: needs a validated "
                "certification, no fraud and at least "
                f"{rules.complementary.clea.minimum_earned_pix} pix."
            )
    ban = int(jury.ban_months(rules, [cert.fraud])[0]) if cert.fraud else None
    if ban:
        after.append(f"Rejected for fraud: barred from the certification for {ban} months.")
    return replace(
        result,
        trace=(result.trace[0], *decision.trace, *result.trace[1:], *after),
        jury_review=decision.review,
        clea=clea,
        ban_months=ban,
    )
