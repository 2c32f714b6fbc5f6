"""Comparing two rule sets on real past sessions.

Rescored, or re-run in simulation when the selection changes.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pixirt._item_bank import ItemBank
from pixirt.exceptions import DataError
from pixirt.rules import RuleSet, RuleSetDiff
from pixirt.simulation._assumptions import _assumptions
from pixirt.simulation._comparison import Comparison, _analyse
from pixirt.simulation._comparison_names import Source, StageTick, selection_changes
from pixirt.simulation._exposure import _exposure_of
from pixirt.simulation._responders import Responder
from pixirt.simulation._sides import _codes, _Shared, _side_from_frame

if TYPE_CHECKING:
    from pixirt.cat._certification import Certification


# ====================================================================== past sessions
def _compare_past(
    base_rules: RuleSet,
    prop_rules: RuleSet,
    diff: RuleSetDiff,
    past_sessions: str | os.PathLike[str] | Iterable[Certification],
    *,
    bank: ItemBank | None,
    seed: int,
    responder: Responder | None,
    n_bootstrap: int,
    confidence_level: float,
    progress: StageTick,
    t0: float,
) -> Comparison:
    from pixirt.simulation._replay import read_sessions

    certs = list(
        read_sessions(past_sessions)
        if isinstance(past_sessions, str | os.PathLike)
        else past_sessions
    )
    if len(certs) < 2:
        raise DataError("at least 2 past sessions are needed", field="past_sessions")
    n = len(certs)
    if selection_changes(diff):
        source: Source = "counterfactual"
        frames, notes = _rerun(certs, (base_rules, prop_rules), bank, seed, responder, progress)
    else:
        source = "replay"
        frames, notes = _rescore(certs, (base_rules, prop_rules), bank, progress)
    errors = sum(int((f["status"] == "error").sum()) for f in frames)
    if errors:
        notes.append(("scoring_errors", errors))
    notes.append(("no_true_ability", n))
    codes = _codes(frames[0], frames[1])
    b = _side_from_frame(frames[0], base_rules, codes, None)
    p = _side_from_frame(frames[1], prop_rules, codes, None)
    if source == "counterfactual":
        runs = []
        for frame, rules in ((frames[0], base_rules), (frames[1], prop_rules)):
            runs.append(_exposure_of(frame, bank, rules) if bank is not None else None)
        b = replace(b, exposure=runs[0])
        p = replace(p, exposure=runs[1])
    return _analyse(
        b,
        p,
        _Shared(group=np.full(n, "all", dtype=object), theta=None, codes=codes, retest_rows=None),
        baseline_rules=base_rules,
        proposed_rules=prop_rules,
        source=source,
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence_level=confidence_level,
        notes=tuple(notes),
        population=None,
        bank_hash=bank.hash if bank is not None else None,
        t0=t0,
        progress=progress,
        n_items=bank.n_items if bank is not None else 0,
        assumptions=_assumptions(
            source,
            base_rules,
            prop_rules,
            bank=bank,
            population=None,
            responder=None,
            seed=seed,
            n=n,
            n_retest=0,
        ),
    )


def _rerun(
    certs: list[Certification],
    rule_sets: tuple[RuleSet, RuleSet],
    bank: ItemBank | None,
    seed: int,
    responder: Responder | None,
    progress: StageTick,
) -> tuple[list[pd.DataFrame], list[tuple[str, int]]]:
    """The past candidates re-run in simulation under both rule sets (the selection changes)."""
    from pixirt.simulation._replay import counterfactual

    if bank is None:
        raise DataError(
            "the proposed rules change which challenges are asked: re-running the past "
            "candidates needs the bank their sessions were taken on",
            field="bank",
        )
    n = len(certs)
    frames: list[pd.DataFrame] = []
    for key, rules in zip(("baseline", "proposed"), rule_sets, strict=True):
        progress(key, 0, n)
        kwargs: dict[str, Any] = {} if responder is None else {"responder": responder}
        frames.append(counterfactual(certs, rules, bank, seed=seed, **kwargs))
        progress(key, n, n)
    return frames, [("counterfactual", n)]


def _rescore(
    certs: list[Certification],
    rule_sets: tuple[RuleSet, RuleSet],
    bank: ItemBank | None,
    progress: StageTick,
) -> tuple[list[pd.DataFrame], list[tuple[str, int]]]:
    """The past sessions rescored with their real answers under both rule sets."""
    from pixirt.simulation._replay import replay

    n = len(certs)
    frames: list[pd.DataFrame] = []
    for key, rules in zip(("baseline", "proposed"), rule_sets, strict=True):
        progress(key, 0, n)
        frame = replay(certs, rules, bank=bank)
        frame = frame.rename(
            columns={
                c: "cert_level_" + c[len("level_") :]
                for c in frame.columns
                if c.startswith("level_")
            }
        )
        frames.append(frame)
        progress(key, n, n)
    return frames, [("rescored_only", n)]
