"""The engine's runtime: what it derives once from a bank and a rule set (:mod:`pixirt.cat._engine`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pixirt._item_bank import ItemBank
from pixirt.cat._capacity import CapacityModel
from pixirt.cat._selection import BankStructure
from pixirt.cat._v2_tables import V2Tables
from pixirt.exceptions import DataError
from pixirt.rules import RuleSet


@dataclass(frozen=True, slots=True, eq=False)
class Runtime:
    """What the engine derives once from a bank and a rule set (not serialized)."""

    bank: ItemBank
    rules: RuleSet
    structure: BankStructure
    model: CapacityModel | None
    item_type: tuple[str | None, ...]
    v2_tables: V2Tables | None


def build_runtime(bank: ItemBank, rules: RuleSet) -> Runtime:
    """Derive the engine's per-(bank, rules) structures (built once per bank object)."""
    if not isinstance(bank, ItemBank):
        raise DataError(f"expected an ItemBank, got {type(bank).__name__}", field="bank")
    if not isinstance(rules, RuleSet):
        raise DataError(f"expected a RuleSet, got {type(rules).__name__}", field="rules")
    runtime: Runtime = bank.derived(
        f"cat.runtime/{rules.hash}", lambda: _build_runtime(bank, rules)
    )
    return runtime


def _build_runtime(bank: ItemBank, rules: RuleSet) -> Runtime:
    structure = BankStructure.of(bank)
    meta = bank.metadata
    item_type = (
        tuple(None if v is None or v != v else str(v) for v in meta["type"].tolist())
        if "type" in meta.columns
        else (None,) * bank.n_items
    )
    v2_tables = None
    model = None
    if rules.algorithm == "v2":
        v2_tables = V2Tables.of(bank, structure)
    else:
        _refuse_non_positive_slopes(bank)
        model = CapacityModel.from_rules(rules)
    return Runtime(bank, rules, structure, model, item_type, v2_tables)


def _refuse_non_positive_slopes(bank: ItemBank) -> None:
    """v3 ranks and scores with increasing item curves: a bank with a ≤ 0 is refused.

    An :class:`ItemBank` holds negative slopes (mirt's estimates of a reversed item,
    for scoring and diagnostics); the engine does not.
    """
    bad = np.flatnonzero(~(bank.a > 0))
    if len(bad):
        shown = ", ".join(f"{bank.item_ids[i]!r} (a={bank.a[i]:.3g})" for i in bad[:5].tolist())
        raise DataError(
            f"{len(bad)} item(s) have a non-positive discrimination: {shown}; a bank needs "
            "a > 0: check their answer key, drop them, or use priors='default' (its "
            "log-normal prior keeps a > 0)",
            row=int(bad[0]) + 1,
            field="a",
        )
