"""What the v2 and v3 chunk runs share.

The candidates' true abilities, the jury's decisions, the identity columns and ragged
list columns.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import numpy.typing as npt

from pixirt.cat import _incidents as incidents
from pixirt.cat._engine import Runtime
from pixirt.simulation._population import Candidates
from pixirt.simulation._responders import Responder

_STATUS = {1: "ok", 0: "ko", -1: None}
_OK = incidents.STATUSES.index("ok")


# ====================================================================== chunks
def _true_ability(
    cands: Candidates,
    responder: Responder,
    competence_code: npt.NDArray[np.int64],
    runtime: Runtime,
) -> npt.NDArray[np.float64]:
    """True ability answering challenges of the bank competences ``competence_code``.

    ``competence_code`` is ``(n,)`` (one challenge per candidate row) or ``(n, width)``.
    """
    code = np.asarray(competence_code)
    rows = np.arange(len(cands)).reshape((-1,) + (1,) * (code.ndim - 1))
    if responder.ability == "general":
        theta = np.asarray(cands.theta, dtype=np.float64).reshape(rows.shape)
        return np.asarray(np.broadcast_to(theta, code.shape), dtype=np.float64)
    names = runtime.structure.competences
    col = np.array([cands.competences.index(names[int(k)]) for k in range(len(names))])
    return np.asarray(cands.competence_theta[rows, col[code]], dtype=np.float64)


def _base_frame(cands: Candidates) -> dict[str, Any]:
    cols: dict[str, Any] = {
        "candidate_id": [f"c{i}" for i in cands.index.tolist()],
        "index": cands.index,
        "group": cands.group.astype(str),
        "true_theta": cands.theta,
    }
    for k, code in enumerate(cands.competences):
        cols[f"theta_{code}"] = cands.competence_theta[:, k]
    return cols


def _jury(
    cands: Candidates, drawn_fraud: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Fraud and cancellation per candidate: the drawn incidents and the real jury decisions."""
    fraud = np.asarray(drawn_fraud, dtype=bool)
    if cands.fraud is not None:
        fraud = fraud | cands.fraud
    cancelled = (
        np.zeros(len(cands), dtype=bool) if cands.cancelled is None else cands.cancelled.copy()
    )
    return fraud, cancelled


def _ragged(
    names: npt.NDArray[np.object_], codes: npt.NDArray[Any], keep: npt.NDArray[np.bool_]
) -> list[list[Any]]:
    """Per row, ``names[codes[row][keep[row]]]`` as a list (one gather, then list slices)."""
    return _split(names[codes[keep]].tolist(), keep.sum(axis=1))


def _split(flat: list[Any], counts: npt.NDArray[np.int64]) -> list[list[Any]]:
    """``flat`` (rows one after the other) cut into rows of ``counts`` items."""
    ends = np.cumsum(counts).tolist()
    return [flat[lo:hi] for lo, hi in zip([0, *ends[:-1]], ends, strict=True)]


def _subset(cands: Candidates, rows: npt.NDArray[np.intp]) -> Candidates:
    return replace(
        cands,
        index=cands.index[rows],
        group=cands.group[rows],
        theta=cands.theta[rows],
        competence_theta=cands.competence_theta[rows],
    )
