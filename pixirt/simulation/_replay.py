"""Rescoring past sessions under another rule set.

:func:`replay` reads past certifications — a JSON-lines file of
:class:`~pixirt.cat.Certification` objects (one per line, as
``Certification.to_dict()`` writes them) or any iterable of them — and scores each one
with the given rule set, exactly as :func:`pixirt.cat.score` does. The answers
are the real ones: nothing is re-drawn, so the change it measures is the change of the
scoring rules alone (a change of the selection rules needs new tests: see
:func:`pixirt.simulation.simulate`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.cat._certification import Certification
from pixirt.cat._score_entry import score
from pixirt.exceptions import DataError, ScoringError
from pixirt.rules import RuleSet

__all__ = ["counterfactual", "read_sessions", "replay"]


def read_sessions(path: str | os.PathLike[str]) -> Iterator[Certification]:
    """Certifications from a JSON-lines file, one object per line (blank lines skipped).

    Raises
    ------
    DataError
        Naming the file, the line and the field of the first bad session.
    """
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise DataError("no such file", path=where)
    with p.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataError(f"invalid JSON: {exc.msg}", path=where, row=line_no) from None
            if not isinstance(data, dict):
                raise DataError("expected a JSON object", path=where, row=line_no)
            try:
                yield Certification.from_dict(data)
            except DataError as exc:
                raise DataError(exc.message, path=where, row=line_no, field=exc.field) from None


def replay(
    past_sessions: str | os.PathLike[str] | Iterable[Certification],
    rules: RuleSet,
    *,
    bank: ItemBank | None = None,
) -> pd.DataFrame:
    """Score every past session with ``rules``; one row per session.

    Parameters
    ----------
    past_sessions
        A JSON-lines file of certifications, or an iterable of :class:`Certification`.
    rules
        The rule set to score with.
    bank
        Needed by v3 rule sets to degrade tests abandoned by the candidate.

    Returns
    -------
    pandas.DataFrame
        ``certification_id``, ``status``, ``comment``, ``pix_score``, ``n_answers``,
        ``reproducibility_rate`` (v2), ``capacity`` and ``mesh_index`` (v3), ``level_<code>``
        per competence, ``error`` (the scoring error of a session the rules cannot score,
        else None), ``rules_id`` and ``rules_hash``.
    """
    sessions: Iterable[Certification]
    sessions = (
        read_sessions(past_sessions)
        if isinstance(past_sessions, str | os.PathLike)
        else past_sessions
    )
    rows: list[dict[str, Any]] = []
    for k, cert in enumerate(sessions):
        row: dict[str, Any] = {"certification_id": cert.id if cert.id is not None else str(k)}
        try:
            res = score(cert, rules, bank=bank)
        except ScoringError as exc:  # kept in the table: the jury must see which sessions fail
            row.update(status="error", comment=None, pix_score=np.nan, error=str(exc))
            rows.append(row)
            continue
        row.update(
            status=res.status,
            comment=res.comment,
            pix_score=res.pix_score,
            n_answers=res.n_answers,
            reproducibility_rate=res.reproducibility_rate,
            capacity=res.capacity,
            mesh_index=res.mesh_index,
            error=None,
        )
        for code, comp in res.competences.items():
            row[f"level_{code}"] = comp.level
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["rules_id"] = rules.id
    frame["rules_hash"] = rules.hash
    return frame


def counterfactual(
    past_sessions: str | os.PathLike[str] | Iterable[Certification],
    rules: RuleSet,
    bank: ItemBank,
    *,
    seed: int = 0,
    responder: Any = None,
) -> pd.DataFrame:
    """Re-run past sessions under rules whose selection differs: new tests, simulated answers.

    When a rule change alters *which* challenges are asked (test length, selection rules,
    an interval used by the estimator), the real answers no longer apply. Each past
    candidate is then given the ability estimated from their real answers (EAP under
    N(0, 1) with the bank's parameters, :func:`pixirt.calibration.score_persons`) and takes
    the new test in simulation (:func:`pixirt.simulation.simulate`), candidate ``i``
    of the file being simulated candidate ``i``.

    Returns
    -------
    pandas.DataFrame
        The simulation rows, with ``certification_id``, ``estimated_theta`` (the ability
        used) and ``counterfactual`` = True on every row, and a ``note`` saying that the
        answers are simulated.
    """
    from pixirt._response_log import ResponseLog
    from pixirt.calibration import score_persons
    from pixirt.simulation._population import Population
    from pixirt.simulation._simulate import simulate

    sessions: Iterable[Certification]
    sessions = (
        read_sessions(past_sessions)
        if isinstance(past_sessions, str | os.PathLike)
        else past_sessions
    )
    certs = list(sessions)
    if not certs:
        raise DataError("no past session", field="past_sessions")
    ids = [c.id if c.id is not None else str(k) for k, c in enumerate(certs)]
    known = set(bank.item_ids.tolist())
    rows = [
        (k, ch.challenge_id, int(ch.status == "ok"))
        for k, cert in enumerate(certs)
        for ch in cert.challenges
        if ch.status is not None
        and not ch.live_alert
        and not ch.neutralized
        and ch.challenge_id in known
    ]
    if not rows:
        raise DataError(
            "no answer of the past sessions is on a challenge of the bank", field="bank"
        )
    frame = pd.DataFrame(rows, columns=["person_id", "item_id", "correct"])
    log = ResponseLog.from_frame(frame)
    scores = score_persons(log, bank.subset(list(log.item_ids)), "EAP", prior=(0.0, 1.0))
    theta = np.zeros(len(certs))  # sessions without any usable answer: the population mean
    theta[scores["person_id"].to_numpy(dtype=np.int64)] = scores["theta"].to_numpy()
    table = pd.DataFrame(
        {
            "candidate_id": ids,
            "theta": theta,
            # the jury's real decisions follow each candidate into the new test
            "fraud": [bool(c.fraud) for c in certs],
            "cancelled": [bool(c.cancelled) for c in certs],
        }
    )
    for k, cert in enumerate(certs):
        for code, comp in cert.profile.items():
            table.loc[k, f"level_{code}"] = comp.level
            table.loc[k, f"pix_{code}"] = comp.pix
    population = Population.from_frame(
        table.fillna({c: 0 for c in table.columns if c.startswith(("level_", "pix_"))})
    )
    kwargs = {} if responder is None else {"responder": responder}
    result = simulate(population, bank, rules, len(certs), seed=seed, **kwargs)
    out = result.frame
    out.insert(0, "certification_id", ids)
    out.insert(1, "estimated_theta", theta)
    out["counterfactual"] = True
    out["note"] = "simulated answers at the ability estimated from the real answers (EAP)"
    return out
