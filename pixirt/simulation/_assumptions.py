"""What a comparison assumes.

Data, bank, population, responder, and the changed rules no simulated incident can set
off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, fields
from typing import Any

import pandas as pd

from pixirt import rules as rules_mod
from pixirt._item_bank import ItemBank
from pixirt.rules import RuleSet, RuleSetDiff
from pixirt.simulation._population import ObservedPopulation, Population
from pixirt.simulation._responders import Responder

#: Changed rules that act only through a simulated incident: (path pattern, the rates
#: of which one at least must be positive).
_INCIDENT_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (r"^\[scoring\.v2\.table\]\(\d+, \d+, [1-9]\d*\)", ("neutralize_rate",)),
    (r"^scoring\.v2\.trust_ratio$", ("neutralize_rate",)),
    (r"^scoring\.v3\.degrade_abandoned$", ("abandon_rate",)),
    (r"^scoring\.v3\.minimum_answers$", ("abandon_rate", "technical_abort_rate")),
    (r"^\[?incidents", ("issue_rates", "session_issue_rates")),
)


def _positive(responder: Responder, name: str) -> bool:
    value = getattr(responder, name)
    if isinstance(value, Mapping):
        return any(float(v) > 0 for v in value.values())
    return bool(value > 0)


def _inactive_changes(diff: RuleSetDiff, responder: Responder | None) -> list[dict[str, Any]]:
    """The changed rules no simulated incident can set off (none for real sessions)."""
    if responder is None:
        return []
    out = []
    for change in diff:
        for pattern, rates in _INCIDENT_RULES:
            if re.match(pattern, change.path) and not any(_positive(responder, r) for r in rates):
                out.append({"path": change.path, "needs": list(rates)})
                break
    return out


def _assumptions(
    data: str,
    baseline: RuleSet,
    proposed: RuleSet,
    *,
    bank: ItemBank | None,
    population: dict[str, Any] | None,
    responder: Responder | None,
    seed: int,
    n: int,
    n_retest: int,
) -> dict[str, Any]:
    """What the comparison assumes (see :attr:`Comparison.assumptions`)."""
    from pixirt.simulation._bank import pix_like_bank

    responder_dict = None
    if responder is not None:
        responder_dict = {
            k: list(v) if isinstance(v, tuple) else v for k, v in asdict(responder).items()
        }
    return {
        "data": data,
        "bank": None
        if bank is None
        else {
            "hash": bank.hash,
            "n_items": bank.n_items,
            "synthetic": bank.hash == pix_like_bank(0).hash,
        },
        "population": population,
        "responder": responder_dict,
        "seed": seed,
        "n": n,
        "n_retest": n_retest,
        "rules": {
            "baseline": {"id": baseline.id, "hash": baseline.hash},
            "proposed": {"id": proposed.id, "hash": proposed.hash},
        },
        "inactive": _inactive_changes(rules_mod.diff(baseline, proposed), responder),
    }


def _error_notes(*frames: pd.DataFrame) -> tuple[tuple[str, int], ...]:
    """The ``scoring_errors`` note: certifications Pix's scoring refuses, under either rule set."""
    errors = sum(int((f["status"] == "error").sum()) for f in frames)
    return (("scoring_errors", errors),) if errors else ()


def _population_dict(population: Population | ObservedPopulation) -> dict[str, Any]:
    if isinstance(population, ObservedPopulation):
        return {"kind": "observed", "n": len(population)}
    out: dict[str, Any] = {"kind": "simulated"}
    for f in fields(population):
        value = getattr(population, f.name)
        if isinstance(value, Mapping):
            value = {str(k): list(v) if isinstance(v, tuple) else v for k, v in value.items()}
        out[f.name] = value
    return out
