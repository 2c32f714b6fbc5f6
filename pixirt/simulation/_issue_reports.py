"""The issue reports a simulated candidate files, drawn and resolved with the rule set's policy."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt.cat import _incidents as incidents
from pixirt.cat._incidents import IssueReport, Resolutions
from pixirt.cat._state import CatState
from pixirt.rules import RuleSet
from pixirt.simulation._candidate_rows import _split
from pixirt.simulation._responders import Responder


def _pick(names: list[str] | list[str | None], k: npt.NDArray[np.intp]) -> npt.NDArray[np.object_]:
    return np.asarray(names, dtype=object)[k]


def _drawn_reports(
    responder: Responder, rules: RuleSet, seed: int, index: int, state: CatState
) -> list[IssueReport]:
    """The issue reports :func:`simulate` draws for one candidate, in its order."""
    codes = np.array(
        [[-1 if x is None else incidents.STATUSES.index(x) for x in state.statuses]],
        dtype=np.int64,
    ).reshape(1, -1)
    steps = np.arange(codes.shape[1])
    on_cell = responder.challenge_reports(seed, np.array([[index]]), steps[None, :], codes)[0]
    cats, subs = incidents.report_names(rules, list(responder.issue_rates))
    out = [
        IssueReport(cats[k], subs[k], state.asked[step])
        for step, k in enumerate(on_cell.tolist())
        if k >= 0
    ]
    per_session = responder.session_reports(seed, np.array([index]))[0]
    cats_s, subs_s = incidents.report_names(
        rules, list(responder.session_issue_rates), field="session_issue_rates"
    )
    out += [IssueReport(cats_s[k], subs_s[k]) for k in np.flatnonzero(per_session).tolist()]
    return out


def _issue_reports(
    rules: RuleSet,
    responder: Responder,
    seed: int,
    idx: npt.NDArray[np.int64],
    steps: npt.NDArray[np.int64],
    status: npt.NDArray[np.int64],
    feats: npt.NDArray[np.int64],
    neutral: npt.NDArray[np.bool_],
    cell_ids: npt.NDArray[np.object_],
) -> tuple[Resolutions, npt.NDArray[np.int64], npt.NDArray[np.int64], list[list[str]]]:
    """Draw the chunk's issue reports and resolve them with the rule set's policy.

    Returns the resolutions, the reports and the automatic neutralizations per
    candidate, and per candidate its reports as ``CATEGORY/SUBCATEGORY@challenge`` (no
    ``@`` for a report on no challenge; ``-`` for no subcategory), in the order resolved.
    """
    n = len(idx)
    on_cell = responder.challenge_reports(
        seed, idx[:, None], steps[None, : status.shape[1]], status
    )
    per_session = responder.session_reports(seed, idx)
    r_cell, c_cell = np.nonzero(on_cell >= 0)
    r_sess, k_sess = np.nonzero(per_session)
    cats_c, subs_c = incidents.report_names(rules, list(responder.issue_rates))
    cats_s, subs_s = incidents.report_names(
        rules, list(responder.session_issue_rates), field="session_issue_rates"
    )
    which = on_cell[r_cell, c_cell]
    rows = np.r_[r_cell, r_sess]
    cats = np.r_[_pick(cats_c, which), _pick(cats_s, k_sess)]
    subs = np.r_[_pick(subs_c, which), _pick(subs_s, k_sess)]
    res = incidents.resolve_with(
        rules,
        row=rows,
        cell=np.r_[c_cell, np.full(len(r_sess), -1)],
        category=cats,
        subcategory=subs,
        status=status,
        features=feats,
        neutralized=neutral,
    )
    n_reports = np.bincount(rows, minlength=n).astype(np.int64)
    auto = res.outcome == incidents.OUTCOMES.index("neutralized")
    n_auto = np.bincount(rows[auto], minlength=n).astype(np.int64)
    where = np.r_["@" + cell_ids[r_cell, c_cell].astype(object), np.full(len(r_sess), "", object)]
    labels = cats + "/" + np.where(pd.isna(subs), "-", subs).astype(object) + where
    per_row = _split(labels[np.argsort(rows, kind="stable")].tolist(), n_reports)
    return res, n_reports, n_auto, per_row
