"""Issue reports and their automatic resolution, over arrays of certifications.

Each rule once: :func:`pixirt.cat._jury.apply` applies it to one certification (a
batch of one), the simulator to a chunk. The policy is data, the rule set's
``[incidents]`` table (:class:`pixirt.rules.IncidentPolicy`, docs/rules.md).

As Pix's auto-jury at a session's finalization (``process-auto-jury.js``,
``CertificationIssueReportResolutionStrategies.js``, ``CertificationAssessment.js``),
reports are resolved in the order given:

- a subcategory with no resolution row, or a policy without ``automatic_resolution``,
  leaves the report **unresolved** for a human jury;
- ``neutralize``: the reported challenge must have been answered (else resolved without
  effect, "no such question") and, with ``if_challenge_has``, have one of the features
  (else resolved without effect); it is then neutralized when its status is one of
  ``neutralizable_statuses`` (Pix: ``ko``, ``aband``), never when the answer is correct;
- ``validate_focused_out``: a ``focusedOut`` answer becomes ``ok``; an abandoned one is
  neutralized (when ``aband`` is neutralizable); any other is resolved without effect.

A certification needs a human jury (:attr:`Resolutions.review`) when one of its
impactful reports (category or subcategory listed as impactful) is left unresolved:
Pix then does not publish the session automatically (``FinalizedSession.js``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

import numpy as np
import numpy.typing as npt

from pixirt._json import from_dict, to_dict
from pixirt.exceptions import DataError
from pixirt.rules import FEATURES, IncidentPolicy, StatusName

if TYPE_CHECKING:
    from pixirt.rules import RuleSet

__all__ = [
    "FEATURES",
    "OUTCOMES",
    "STATUSES",
    "IssueReport",
    "Resolutions",
    "feature_bits",
    "report_names",
    "resolve",
    "resolve_with",
    "unknown_to",
]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Answer statuses by code (−1: no answer).
STATUSES: tuple[str, ...] = get_args(StatusName)
#: What became of each report (:attr:`Resolutions.outcome`), in Pix's resolution words.
OUTCOMES: tuple[str, ...] = (
    "unresolved",  # left to a human jury
    "neutralized",  # "Cette question a été neutralisée automatiquement"
    "validated",  # "Cette réponse a été acceptée automatiquement"
    "no_such_question",  # "Aucune question ne correspond au numéro ..."
    "feature_absent",  # "... ne contient ni image ni application/simulateur", ...
    "not_neutralizable",  # "... car la réponse est correcte"
    "neither_skipped_nor_focused_out",
)
_OK, _FOCUSED_OUT, _ABAND = (STATUSES.index(x) for x in ("ok", "focusedOut", "aband"))


def feature_bits(names: Sequence[str]) -> int:
    """The bit mask of a set of challenge features (bit ``k`` for ``FEATURES[k]``).

    Raises
    ------
    DataError
        On an unknown feature name.
    """
    bits = 0
    for name in names:
        if name not in FEATURES:
            raise DataError(
                f"unknown challenge feature {name!r}: expected {'/'.join(FEATURES)}",
                field="features",
            )
        bits |= 1 << FEATURES.index(name)
    return bits


@dataclass(frozen=True, slots=True)
class IssueReport:
    """An issue report ("signalement") written by the session's invigilator.

    Attributes
    ----------
    category
        Pix's category (``IN_CHALLENGE``, ``FRAUD``, ...).
    subcategory
        Pix's subcategory (``IMAGE_NOT_DISPLAYING``, ...), or None for a category without.
    challenge_id
        The challenge reported (Pix's question number, as an id), or None.
    """

    category: str
    subcategory: str | None = None
    challenge_id: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.category, str) or not self.category:
            raise DataError(f"expected a category name, got {self.category!r}", field="category")
        for name in ("subcategory", "challenge_id"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or not value):
                raise DataError(f"expected a non-empty string or null, got {value!r}", field=name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> IssueReport:
        """Inverse of :meth:`to_dict` (unknown fields are an error, naming them)."""
        return from_dict(cls, data)


@dataclass(frozen=True, slots=True, eq=False)
class Resolutions:
    """What the automatic jury did to a batch (see the module doc).

    Attributes
    ----------
    status, neutralized
        ``(n, width)`` the answers after resolution (a validated ``focusedOut`` is now
        ``ok``) and the neutralizations (the input ones kept).
    outcome
        ``(m,)`` per report, an :data:`OUTCOMES` code.
    impactful
        ``(m,)`` the report's category or subcategory is impactful.
    review
        ``(n,)`` an impactful report is left unresolved: a human jury must look.
    """

    status: IntArray
    neutralized: BoolArray
    outcome: IntArray
    impactful: BoolArray
    review: BoolArray

    def outcome_names(self) -> npt.NDArray[np.object_]:
        """``(m,)`` outcome names."""
        return np.asarray(OUTCOMES, dtype=object)[self.outcome]


def resolve(
    policy: IncidentPolicy | None,
    *,
    row: npt.ArrayLike,
    cell: npt.ArrayLike,
    category: Sequence[str | None] | npt.ArrayLike,
    subcategory: Sequence[str | None] | npt.ArrayLike,
    status: npt.ArrayLike,
    features: npt.ArrayLike,
    neutralized: npt.ArrayLike,
) -> Resolutions:
    """Resolve a batch's issue reports with a policy (see the module doc).

    Parameters
    ----------
    policy
        The rule set's ``[incidents]`` (None: every report unresolved, none impactful).
    row, cell
        ``(m,)`` per report, its certification (row) and the reported challenge's cell
        (−1: no challenge). Reports of one cell are resolved in the order given.
    category, subcategory
        ``(m,)`` per report (subcategory None for a category without).
    status
        ``(n, width)`` answer status codes (:data:`STATUSES`, −1 unanswered).
    features
        ``(n, width)`` challenge feature bit masks (:func:`feature_bits`).
    neutralized
        ``(n, width)`` neutralizations before the resolution.

    Returns
    -------
    Resolutions
        The answers and neutralizations after resolution, each report's outcome and the
        certifications left to a human jury.
    """
    st = np.array(status, dtype=np.int64, copy=True)
    neut = np.array(neutralized, dtype=bool, copy=True)
    feat = np.asarray(features, dtype=np.int64)
    r = np.asarray(row, dtype=np.int64).reshape(-1)
    c = np.asarray(cell, dtype=np.int64).reshape(-1)
    cats = np.asarray(category, dtype=object).reshape(-1)
    subs = np.asarray(subcategory, dtype=object).reshape(-1)
    m = len(r)
    outcome = np.zeros(m, dtype=np.int64)
    review = np.zeros(st.shape[0], dtype=bool)
    if policy is None or m == 0:
        return Resolutions(st, neut, outcome, np.zeros(m, dtype=bool), review)
    impactful = np.isin(cats, np.asarray(policy.impactful_categories, dtype=object)) | np.isin(
        subs, np.asarray(policy.impactful_subcategories, dtype=object)
    )
    if policy.automatic_resolution:
        action, cond = _actions(policy, subs)
        neutralizable = np.zeros(len(STATUSES), dtype=bool)
        neutralizable[[STATUSES.index(x) for x in policy.neutralizable_statuses]] = True
        # reports of one cell act in order: resolve them in rounds by their rank there
        rank = _rank_in_cell(r * (st.shape[1] + 1) + (c + 1))
        for k in range(int(rank.max()) + 1 if m else 0):
            i = np.flatnonzero((rank == k) & (action >= 0))
            if i.size:
                outcome[i] = _resolve_round(
                    r[i], c[i], action[i], cond[i], st, feat, neut, neutralizable
                )
    left = impactful & (outcome == 0)
    review[r[left]] = True
    return Resolutions(st, neut, outcome, impactful, review)


def unknown_to(rules: RuleSet, report: IssueReport) -> tuple[str, str] | None:
    """Why the rule set's policy does not know a report, as ``(field, reason)``.

    None when the category and subcategory are known, or the rule set has no policy.
    """
    policy = rules.incidents
    if policy is None:
        return None
    if report.category not in policy.categories:
        return (
            "category",
            f"{report.category!r} is not a category of rule set {rules.id} "
            "([incidents.categories])",
        )
    if (
        report.subcategory is not None
        and report.subcategory not in (policy.categories[report.category])
    ):
        return (
            "subcategory",
            f"{report.subcategory!r} is not a subcategory of {report.category} in rule set "
            f"{rules.id}",
        )
    return None


def report_names(
    rules: RuleSet, names: Sequence[str], *, field: str = "issue_rates"
) -> tuple[list[str], list[str | None]]:
    """The (category, subcategory) of each report name: a category of the rule set, or a subcategory.

    Without an incident policy a name is kept as its own category.

    Raises
    ------
    DataError
        On a name the rule set's ``[incidents.categories]`` does not know (``field.name``).
    """
    policy = rules.incidents
    cats: list[str] = []
    subs: list[str | None] = []
    for name in names:
        if policy is None or name in policy.categories:
            cats.append(name)
            subs.append(None)
            continue
        cat = policy.category_of(name)
        if cat is None:
            raise DataError(
                f"{name!r} is neither a category nor a subcategory of rule set {rules.id} "
                "([incidents.categories])",
                field=f"{field}.{name}",
            )
        cats.append(cat)
        subs.append(name)
    return cats, subs


def resolve_with(
    rules: RuleSet,
    *,
    row: npt.ArrayLike,
    cell: npt.ArrayLike,
    category: Sequence[str | None] | npt.ArrayLike,
    subcategory: Sequence[str | None] | npt.ArrayLike,
    status: npt.ArrayLike,
    features: npt.ArrayLike,
    neutralized: npt.ArrayLike,
) -> Resolutions:
    """:func:`resolve` with a rule set's policy (``rules.incidents``)."""
    return resolve(
        rules.incidents,
        row=row,
        cell=cell,
        category=category,
        subcategory=subcategory,
        status=status,
        features=features,
        neutralized=neutralized,
    )


def _actions(policy: IncidentPolicy, subs: npt.NDArray[np.object_]) -> tuple[IntArray, IntArray]:
    """Per report, its action code and the bit mask of the features it checks.

    Action codes: −1 unresolved, 0 ``neutralize``, 1 ``validate_focused_out``.
    """
    rows = {x.subcategory: x for x in policy.resolution}
    names = subs.tolist()
    action = np.array(
        [
            -1 if s not in rows else ("neutralize", "validate_focused_out").index(rows[s].action)
            for s in names
        ],
        dtype=np.int64,
    )
    cond = np.array(
        [0 if s not in rows else feature_bits(rows[s].if_challenge_has) for s in names],
        dtype=np.int64,
    )
    return action, cond


def _rank_in_cell(key: IntArray) -> IntArray:
    """Each report's rank among the reports of its cell, in the order given."""
    m = len(key)
    order = np.argsort(key, kind="stable")
    sk = key[order]
    first = np.r_[True, sk[1:] != sk[:-1]]
    start = np.maximum.accumulate(np.where(first, np.arange(m), 0))
    rank = np.empty(m, dtype=np.int64)
    rank[order] = np.arange(m) - start
    return rank


def _resolve_round(
    ri: IntArray,
    ci: IntArray,
    action: IntArray,
    cond: IntArray,
    st: IntArray,
    feat: IntArray,
    neut: BoolArray,
    neutralizable: BoolArray,
) -> IntArray:
    """One round (at most one report per cell): the outcomes; ``st`` and ``neut`` updated."""
    cc = np.maximum(ci, 0)
    s = np.where(ci >= 0, st[ri, cc], -1)
    answered = s >= 0
    has = (cond == 0) | ((feat[ri, cc] & cond) != 0)
    can = answered & neutralizable[np.maximum(s, 0)]
    focused = np.where(s == _FOCUSED_OUT, 2, np.where((s == _ABAND) & can, 1, 6))
    acted = np.where(action == 1, focused, np.where(can, 1, 5))
    out = np.where(~answered, 3, np.where(~has, 4, acted)).astype(np.int64)
    hit = out == 1
    neut[ri[hit], cc[hit]] = True
    val = out == 2
    st[ri[val], cc[val]] = _OK
    return out
