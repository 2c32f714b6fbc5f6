"""A chunk of v2 certifications: the engine's batch planning and scoring, drawn answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import models
from pixirt.cat import _incidents as incidents
from pixirt.cat import _v2_batch_scoring, _v2_plan, _v2_tables
from pixirt.cat._engine import Runtime
from pixirt.cat._profile import code_key
from pixirt.cat._v2_batch_scoring import V2Scores
from pixirt.cat._v2_tables import V2Profiles
from pixirt.simulation._candidate_rows import _OK, _base_frame, _jury, _ragged, _true_ability
from pixirt.simulation._issue_reports import _issue_reports
from pixirt.simulation._population import Candidates, PositioningAnswers
from pixirt.simulation._responders import Responder

_STATUS_NAMES = np.array([None, *incidents.STATUSES], dtype=object)  # by status code + 1


def _v2_profiles(cands: Candidates, runtime: Runtime) -> V2Profiles:
    """The sampled profiles as :class:`~pixirt.cat._v2_tables.V2Profiles` (columns in code order)."""
    assert cands.levels is not None and cands.pix is not None
    assert cands.validated is not None and cands.positioning_answers is not None
    st = runtime.structure
    order = sorted(range(len(cands.competences)), key=lambda k: code_key(cands.competences[k]))
    # the bank's skill codes → the sampled columns (every bank skill is a sampled column)
    column = {str(x): k for k, x in enumerate(cands.skill_names)}
    take = np.array([column[name] for name in st.skills], dtype=np.int64)
    return V2Profiles(
        competences=tuple(cands.competences[k] for k in order),
        level=np.asarray(cands.levels[:, order], dtype=np.int64),
        pix=np.asarray(cands.pix[:, order], dtype=np.int64),
        validated=cands.validated[:, take],
        answered=_BankSkills(cands.positioning_answers, take),
        extra_row=np.zeros(0, dtype=np.int64),
        extra_item=np.zeros(0, dtype=np.int64),
        index=np.asarray(cands.index, dtype=np.int64),
    )


def _run_v2(runtime: Runtime, cands: Candidates, responder: Responder, seed: int) -> pd.DataFrame:
    """A chunk of v2 certifications: the engine's batch planning and scoring, drawn answers."""
    rules = runtime.rules
    v2 = rules.v2
    st = runtime.structure
    bank = runtime.bank
    tables = runtime.v2_tables
    assert tables is not None
    idx = cands.index
    inc = responder.incidents(seed, idx)
    profiles = _v2_profiles(cands, runtime)
    fraud, cancelled = _jury(cands, inc.fraud)
    planned = _v2_plan.plan(profiles, st, tables, v2, seed=seed)
    items, length = planned.items, planned.length
    width = items.shape[1]
    steps = np.arange(width)
    valid = steps[None, :] < length[:, None]
    pos = np.where(valid, items, 0)
    # answers: drawn at each planned challenge, the first ``abort_after`` given
    theta = _true_ability(cands, responder, st.competence[pos], runtime)
    p = models.probability(theta, bank.a[pos], bank.b[pos], bank.c[pos])
    ok = responder.answers(seed, idx[:, None], steps[None, :], p) & valid
    limit = inc.abort_after
    n_given = np.where(limit >= 0, np.minimum(limit, length), length)
    answered = steps[None, :] < n_given[:, None]
    neutral = answered & responder.neutralized(seed, idx[:, None], steps[None, :])
    feats = np.where(valid, st.features[pos], 0)
    status_code = np.where(
        answered, responder.statuses(seed, idx[:, None], steps[None, :], ok, feats), -1
    )
    review, n_reports, n_auto, reports = _issue_reports(
        rules, responder, seed, idx, steps, status_code, feats, neutral, st.item_ids[pos]
    )
    # the automatic jury's resolutions, as the policy says (the rows keep the raw answers)
    resolved, auto_neutral = (
        (review.status, review.neutralized) if n_reports.any() else (status_code, neutral)
    )
    aborted = (limit >= 0) & (limit < length)
    technical = aborted & (inc.abort_reason == "technical")
    skipped, left_neutralized = _v2_batch_scoring.finalize(valid, answered, technical)
    comp_col = _profile_columns(st.competences, profiles.competences)
    scores = _v2_batch_scoring.score_batch(
        v2,
        level=profiles.level,
        pix=profiles.pix,
        competence=comp_col[st.competence[pos]],
        valid=valid,
        answered=answered,
        correct=resolved == _OK,
        neutralized=auto_neutral | left_neutralized,
        skipped_automatically=skipped,
        qrocm_dep=tables.qrocm_dep[pos],
        fraud=fraud,
        cancelled=cancelled,
        technical_abort=technical,
        competences=profiles.competences,
        challenge_ids=_LazyIds(st.item_ids, items),
    )
    certifiable = planned.certifiable
    cols = _base_frame(cands)
    for k, code in enumerate(profiles.competences):
        cols[f"level_{code}"] = profiles.level[:, k].astype(cands.levels.dtype)  # type: ignore[union-attr]
        cols[f"pix_{code}"] = profiles.pix[:, k].astype(cands.pix.dtype)  # type: ignore[union-attr]
    cols["fraud"] = fraud
    ids = st.item_ids
    cols["challenges"] = _ragged(ids, pos, valid)
    cols["statuses"] = _ragged(_STATUS_NAMES, status_code + 1, valid)
    cols["neutralized"] = _ragged(ids, pos, neutral)  # the jury's (finalization's are implied)
    cols["abort_reason"] = np.where(aborted, inc.abort_reason, "").astype(str)
    cols["issue_reports"] = reports
    cols["n_auto_neutralized"] = n_auto
    cols["jury_review"] = review.review
    return _with_outcomes(cols, scores, certifiable, n_given, cands, profiles)


def _profile_columns(
    bank_competences: tuple[str, ...], profile_competences: tuple[str, ...]
) -> npt.NDArray[np.int64]:
    """Per bank competence, its column in the profiles (−1: not in the profiles)."""
    comp_col = np.full(len(bank_competences), -1, dtype=np.int64)
    where = {c: k for k, c in enumerate(profile_competences)}
    for k, code in enumerate(bank_competences):
        comp_col[k] = where.get(code, -1)
    return comp_col


def _with_outcomes(
    cols: dict[str, Any],
    scores: V2Scores,
    certifiable: npt.NDArray[np.bool_],
    n_given: npt.NDArray[np.int64],
    cands: Candidates,
    profiles: V2Profiles,
) -> pd.DataFrame:
    """The chunk's frame: ``cols`` with the outcome, score and certified levels (not certifiable: none)."""
    status = scores.outcome_names()
    comment = scores.comment_names()
    status[~certifiable] = "not_certifiable"
    comment[~certifiable] = None
    cols["status"] = status.astype(str)
    cols["comment"] = comment
    cols["pix_score"] = np.where(certifiable, scores.pix_score, 0).astype(np.int64)
    cols["n_answers"] = np.where(certifiable, n_given, 0).astype(np.int64)
    cols["reproducibility_rate"] = np.where(
        certifiable, scores.reproducibility_rate.astype(np.float64), np.nan
    )
    error = scores.outcome == _v2_tables.OUTCOMES.index("error")
    for k, c in enumerate(profiles.competences):
        lv = np.where(scores.tested[:, k], scores.level[:, k], np.nan).astype(np.float64)
        lv[~certifiable | error] = np.nan
        cols[f"cert_level_{c}"] = lv
    order = [c for c in cols if not c.startswith("cert_level_")] + [
        f"cert_level_{c}" for c in cands.competences
    ]
    return pd.DataFrame({c: cols[c] for c in order})


class _BankSkills:
    """The sampled positioning answers asked by the bank's skill codes."""

    def __init__(self, answers: PositioningAnswers, take: npt.NDArray[np.int64]) -> None:
        self._answers, self._take = answers, take

    def __call__(
        self, rows: npt.NDArray[np.int64], skills: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        return self._answers(rows, self._take[skills])


class _LazyIds:
    """Per row, the challenge ids of a plan (read only for the rare refused certification)."""

    def __init__(self, ids: npt.NDArray[np.object_], items: npt.NDArray[np.int64]) -> None:
        self._ids, self._items = ids, items

    def __getitem__(self, row: int) -> list[str]:
        return [str(self._ids[i]) if i >= 0 else "" for i in self._items[row].tolist()]

    def __len__(self) -> int:
        return int(self._items.shape[0])
