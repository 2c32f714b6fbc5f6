"""A chunk of v3 certifications: the engine's batch, stepped with drawn answers and incidents."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pixirt import models
from pixirt.cat import _incidents as incidents
from pixirt.cat._batch import SessionBatch
from pixirt.cat._engine import Runtime
from pixirt.exceptions import DataError
from pixirt.simulation._candidate_rows import (
    _OK,
    _base_frame,
    _jury,
    _ragged,
    _subset,
    _true_ability,
)
from pixirt.simulation._issue_reports import _issue_reports
from pixirt.simulation._population import Candidates
from pixirt.simulation._responders import Incidents, Responder

_PICK_STRIDE = 64  # as pixirt.cat._engine: counters per step of the v3 pick
_V3_STATUS_NAMES = np.array([None, "ko", "ok"], dtype=object)  # by the batch's code + 1


def _run_v3(
    runtime: Runtime, cands: Candidates, responder: Responder, seed: int, *, fast: bool = True
) -> pd.DataFrame:
    """A chunk of v3 certifications: the engine's batch, stepped with drawn answers and incidents."""
    st = runtime.structure
    idx = cands.index
    inc = responder.incidents(seed, idx)
    leaves = inc.abort_after >= 0  # the candidate leaves after `abort_after` answers
    batch = _stepped_batch(runtime, cands, responder, seed, inc, fast=fast)

    asked, status = batch.asked, batch.status
    # jury neutralizations, decided per asked step
    neutral = responder.neutralized(seed, idx[:, None], np.arange(asked.shape[1])[None, :]) & (
        status >= 0
    )
    aborted = leaves & ~batch.over()
    abort_reason = np.where(aborted, inc.abort_reason, "").astype(object)
    fraud, cancelled = _jury(cands, inc.fraud)
    res = batch.results(
        neutralized=neutral,
        abort_reason=abort_reason,
        fraud=fraud,
        cancelled=cancelled,
        ids=cands.candidate_ids,
    )
    cols = _base_frame(cands)
    ids = st.item_ids
    cols["challenges"] = _ragged(ids, asked, asked >= 0)
    cols["statuses"] = _ragged(_V3_STATUS_NAMES, status + 1, status >= -1)
    cols["neutralized"] = _ragged(ids, asked, neutral)
    cols["abort_reason"] = abort_reason.astype(str)
    # issue reports: Pix's v3 finalization resolves none, they only call for a human jury
    width = asked.shape[1]
    answered = status >= 0
    codes = np.where(answered, np.where(status == 1, _OK, incidents.STATUSES.index("ko")), -1)
    feats = np.where(asked >= 0, st.features[np.maximum(asked, 0)], 0)
    review, _, n_auto, reports = _issue_reports(
        runtime.rules,
        responder,
        seed,
        idx,
        np.arange(width),
        codes,
        feats,
        neutral,
        st.item_ids[np.maximum(asked, 0)],
    )
    cols["issue_reports"] = reports
    cols["n_auto_neutralized"] = n_auto
    cols["jury_review"] = review.review
    cols["fraud"] = fraud
    cols["status"] = res.status.astype(str)
    cols["comment"] = res.comment
    cols["pix_score"] = res.pix_score
    cols["n_answers"] = res.n_answers
    cols["capacity"] = res.capacity
    cols["error_rate"] = res.error_rate
    cols["mesh_index"] = res.mesh_index
    cols["global_level"] = np.where(pd.isna(res.global_level), "", res.global_level).astype(str)
    for code, lv in res.levels.items():
        cols[f"cert_level_{code}"] = lv
    return pd.DataFrame(cols)


def _stepped_batch(
    runtime: Runtime,
    cands: Candidates,
    responder: Responder,
    seed: int,
    inc: Incidents,
    *,
    fast: bool,
) -> SessionBatch:
    """The engine's batch stepped to the end: drawn answers, live alerts, candidates leaving."""
    st = runtime.structure
    bank = runtime.bank
    idx = cands.index
    leaves = inc.abort_after >= 0  # the candidate leaves after `abort_after` answers
    batch = SessionBatch.start(runtime, idx, seed=seed, fast=fast)
    active = ~batch.over() & ~(leaves & (batch.n_answers >= inc.abort_after))
    while active.any():
        rows = np.flatnonzero(active)
        choice = batch.choose(rows)
        if (choice.chosen < 0).any():
            row = int(rows[choice.chosen < 0][0])
            raise DataError(
                f"the selection rules leave no challenge for a candidate after {int(batch.n_answers[row])} "
                "answers (Pix's AssessmentLackOfChallengesError): the bank is too small for these rules",
                field="bank",
            )
        chosen = choice.chosen
        step = batch.n_asked[rows]
        alert = responder.live_alerts(seed, idx[rows], step)
        theta = _true_ability(_subset(cands, rows), responder, st.competence[chosen], runtime)
        p = models.probability(theta, bank.a[chosen], bank.b[chosen], bank.c[chosen])
        ok = responder.answers(seed, idx[rows], step, p)
        batch.withdraw(rows[alert], chosen[alert])
        batch.record(rows[~alert], chosen[~alert], ok[~alert])
        active = ~batch.over() & ~(leaves & (batch.n_answers >= inc.abort_after))
    return batch
