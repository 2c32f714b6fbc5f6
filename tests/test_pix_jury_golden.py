"""Golden cases of Pix's jury rules (issue reports, jury events, outcomes), read from Pix's code.

Each case cites the Pix file it was written from (1024pix/pix, see docs/rules.md).
"""

from __future__ import annotations

import numpy as np
import pytest

from pixirt import rules
from pixirt.cat.scoring import Certification, CertificationChallenge, score

V3 = rules.load("pix-v3")


def _v3(n: int, **flags: object) -> Certification:
    rng = np.random.default_rng(7)
    chs = [
        CertificationChallenge(
            f"q{i}",
            f"{i % 5 + 1}.1",
            tube=f"t{i}",
            discriminant=float(rng.uniform(0.8, 2.0)),
            difficulty=float(rng.uniform(-2, 2)),
            status="ok" if i % 3 else "ko",
        )
        for i in range(n)
    ]
    return Certification(challenges=chs, **flags)  # type: ignore[arg-type]


# create-v3-assessment-result_test.js: "when assessment is going to be cancelled"
def test_v3_jury_cancellation_is_cancelled_by_jury_with_no_score():
    r = score(_v3(32, cancelled=True), V3)
    assert (r.status, r.comment) == ("cancelled_by_jury", "CANCELLED_BY_JURY")
    assert r.pix_score is None and r.mesh_index is None and r.global_level is None
    assert all(c.level is None for c in r.competences.values())
    plain = score(_v3(32), V3)
    assert plain.status == "validated" and plain.pix_score and plain.pix_score > 0


# "when assessment is rejected for fraud": pixScore null, competenceMarks []
def test_v3_fraud_is_rejected_with_no_score_or_level():
    r = score(_v3(32, fraud=True), V3)
    assert (r.status, r.comment) == ("rejected", "FRAUD")
    assert r.pix_score is None and r.global_level is None
    assert all(c.level is None for c in r.competences.values())


# "when assessment has an insuffisant number of answers": cancelled (technical) or rejected
@pytest.mark.parametrize(
    ("abort", "status", "comment"),
    [
        ("technical", "cancelled", "CANCELLED_DUE_TO_LACK_OF_ANSWERS_FOR_TECHNICAL_REASON"),
        ("candidate", "rejected", "REJECTED_DUE_TO_LACK_OF_ANSWERS"),
    ],
)
def test_v3_too_few_answers_carry_no_score(abort, status, comment):
    r = score(_v3(12, abort_reason=abort), V3)
    assert (r.status, r.comment) == (status, comment)
    assert r.pix_score is None and r.mesh_index is None
    assert all(c.level is None for c in r.competences.values())


# "there is a score and it is equal to 0": rejected, score 0 kept, competenceMarks []
def test_v3_zero_score_keeps_the_score_but_no_competence_level():
    chs = [
        CertificationChallenge(f"e{i}", "1.1", discriminant=2.0, difficulty=-4.0, status="ko")
        for i in range(22)
    ]
    r = score(Certification(challenges=chs), V3)
    assert (r.status, r.comment, r.pix_score) == ("rejected", "REJECTED_DUE_TO_ZERO_PIX_SCORE", 0)
    assert r.capacity is not None
    assert all(c.level is None for c in r.competences.values())
