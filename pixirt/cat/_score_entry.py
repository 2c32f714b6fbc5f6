"""The :func:`score` entry: certification scoring exactly as Pix does it, v2 and v3.

:func:`score` takes a :class:`~pixirt.cat.Certification` (what happened in the session: the
placement profile for v2, the challenges in the order asked with their answer status,
jury flags) and a :class:`~pixirt.rules.RuleSet`, and returns a
:class:`~pixirt.cat.CertificationResult` whose
:meth:`~pixirt.cat.CertificationResult.explain` says in plain
words which rule fired and why. The rules are those of ``pix-rules.md``:

**v2** (§2.3): tested competences are the profile's competences at level ≥ 1; every
challenge neither neutralized nor skipped automatically must be answered; the
reproducibility rate ``RR = round(100 · correct / non-neutralized answered)`` uses
JavaScript's ``Math.round``; the session is trusted when the non-neutralized answered
challenges reach ``ceil(0.66 · challenges)``; below RR 50 every competence is
uncertified; otherwise each competence's counts (a QROCM-dep challenge counts twice in a
competence with fewer than 3 challenges, correct answers are capped at 3) select a row
of the level table and the RR band its action (validate / downgrade / invalidate); level
and score are blocked at ``max_reachable_level``. Outcome precedence: cancelled, fraud,
not trusted, technical abort with RR < 50, RR < 50, then validated (rejected when the
score is 0).

**v3** (§3): challenges with a validated live alert are removed; a jury neutralization
changes nothing (Pix's v3 scoring reads the asked challenges without live alerts and
every answer, never the neutralization); the capacity is Pix's EAP
(:class:`~pixirt.cat.CapacityModel`) from ``default_capacity``; a test abandoned by the
candidate with at least ``minimum_answers`` answers is degraded by simulating the
missing answers as SKIPPED on the best challenges of the bank; the capacity gives the
score (mesh formula or the 2023 formula), the mesh index and every competence's level.
Outcome precedence: cancelled, fraud, too few answers (cancelled when the abort is
technical, rejected otherwise), ``reject_when``, then validated.

Examples
--------
>>> from pixirt import rules
>>> from pixirt.cat import Certification, CertificationChallenge, PositionedCompetence
>>> cert = Certification(
...     profile={"1.1": PositionedCompetence(level=4, pix=37)},
...     challenges=[CertificationChallenge(f"c{i}", "1.1", status="ok") for i in range(3)],
... )
>>> result = score(cert, rules.load("pix-v2"))
>>> result.status, result.pix_score, result.competences["1.1"].level
('validated', 37, 4)
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from pixirt.cat import _jury as jury
from pixirt.cat._certification import Certification
from pixirt.cat._result import CertificationResult
from pixirt.cat._v2_words import _score_v2
from pixirt.cat._v3_words import _score_v3

if TYPE_CHECKING:
    from pixirt._item_bank import ItemBank
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
