"""Field-by-field differences of two rule sets (:mod:`pixirt.rules`)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd

from pixirt._json import from_dict, json_value
from pixirt._rule_checks import Loc
from pixirt._rule_messages import _format_path
from pixirt.exceptions import DataError

if TYPE_CHECKING:
    from pixirt._ruleset import RuleSet


# --------------------------------------------------------------------------- diff
@dataclass(frozen=True, slots=True)
class FieldChange:
    """One difference between two rule sets.

    Attributes
    ----------
    path
        Field path, e.g. ``[scoring.v2.table](3, 1, 1).rr_below_70``.
    kind
        ``changed``, ``added`` (only in the second) or ``removed`` (only in the first).
    before, after
        The JSON values (None when absent).
    """

    path: str
    kind: Literal["changed", "added", "removed"]
    before: Any
    after: Any

    def __str__(self) -> str:
        if self.kind == "added":
            return f"{self.path}: added {_show(self.after)}"
        if self.kind == "removed":
            return f"{self.path}: removed (was {_show(self.before)})"
        return f"{self.path}: {_show(self.before)} → {_show(self.after)}"


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True, slots=True)
class RuleSetDiff:
    """What differs between two rule sets, field by field (see :func:`diff`).

    Attributes
    ----------
    a_id, b_id, a_hash, b_hash
        The two rule sets compared.
    changes
        The differences, in file order.
    """

    a_id: str
    b_id: str
    a_hash: str
    b_hash: str
    changes: tuple[FieldChange, ...]

    def __bool__(self) -> bool:
        return bool(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __iter__(self) -> Iterator[FieldChange]:
        return iter(self.changes)

    def __str__(self) -> str:
        head = f"{self.a_id} ({self.a_hash[:12]}) → {self.b_id} ({self.b_hash[:12]})"
        if not self.changes:
            return head + ": identical content"
        n = len(self.changes)
        return "\n".join(
            [f"{head}: {n} difference{'s' if n > 1 else ''}", *(f"  {c}" for c in self.changes)]
        )

    def to_frame(self) -> pd.DataFrame:
        """The changes as a table (``path``, ``kind``, ``before``, ``after``)."""
        return pd.DataFrame(
            [(c.path, c.kind, _show(c.before), _show(c.after)) for c in self.changes],
            columns=["path", "kind", "before", "after"],
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form: the two rule sets as ``{id, hash}``, then the changes."""
        return {
            "a": {"id": self.a_id, "hash": self.a_hash},
            "b": {"id": self.b_id, "hash": self.b_hash},
            "changes": [json_value(c) for c in self.changes],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RuleSetDiff:
        """Inverse of :meth:`to_dict`.

        Raises
        ------
        DataError
            On a missing, unknown or ill-typed field, naming it.
        """
        if not isinstance(data, Mapping):
            raise DataError(f"expected an object, got {type(data).__name__}", field="rules_diff")
        for key in ("a", "b", "changes"):
            if key not in data:
                raise DataError("missing required field", field=key)
        sides = {}
        for key in ("a", "b"):
            side = data[key]
            if not isinstance(side, Mapping) or set(side) != {"id", "hash"}:
                raise DataError(f"expected {{id, hash}}, got {side!r}", field=key)
            sides[f"{key}_id"], sides[f"{key}_hash"] = side["id"], side["hash"]
        return from_dict(cls, {**sides, "changes": data["changes"]})


#: Lists whose rows are matched by a key rather than by position (the jury reads
#: "row (3, 1, 1)", not "row 4").
_KEYED_LISTS: dict[Loc, tuple[str, ...]] = {
    ("incidents", "resolution"): ("subcategory",),
    ("scoring", "v2", "table"): ("challenges", "correct", "neutralized"),
}


def diff(a: RuleSet, b: RuleSet) -> RuleSetDiff:
    """Compare two rule sets field by field.

    Parameters
    ----------
    a, b
        The rule sets (``a`` is "before").

    Returns
    -------
    RuleSetDiff
        Every changed, added or removed field with its path; rows of the v2 level table
        are matched by ``(challenges, correct, neutralized)``, other arrays by position.
        Empty (falsy) when the contents are identical.

    Examples
    --------
    >>> d = diff(load("pix-v3"), load("pix-v3-2023"))
    >>> any(c.path == "[scoring.v3].formula" for c in d)
    True
    """
    changes: list[FieldChange] = []
    _diff_values(a.to_dict(), b.to_dict(), (), changes)
    return RuleSetDiff(a_id=a.id, b_id=b.id, a_hash=a.hash, b_hash=b.hash, changes=tuple(changes))


def _diff_values(x: Any, y: Any, loc: Loc, out: list[FieldChange]) -> None:
    if isinstance(x, dict) and isinstance(y, dict):
        for k in list(x) + [k for k in y if k not in x]:
            sub = (*loc, k)
            if k not in y:
                out.append(FieldChange(_format_path(sub), "removed", x[k], None))
            elif k not in x:
                out.append(FieldChange(_format_path(sub), "added", None, y[k]))
            else:
                _diff_values(x[k], y[k], sub, out)
        return
    if isinstance(x, list) and isinstance(y, list):
        keys = _KEYED_LISTS.get(loc)
        if keys is not None and all(isinstance(r, dict) for r in x + y):
            xs = {tuple(r.get(k) for k in keys): r for r in x}
            ys = {tuple(r.get(k) for k in keys): r for r in y}
            for key in list(xs) + [k for k in ys if k not in xs]:
                label = (
                    "["
                    + ".".join(str(p) for p in loc)
                    + "]("
                    + ", ".join(str(v) for v in key)
                    + ")"
                )
                if key not in ys:
                    out.append(FieldChange(label, "removed", xs[key], None))
                elif key not in xs:
                    out.append(FieldChange(label, "added", None, ys[key]))
                else:
                    for f in xs[key]:
                        if xs[key][f] != ys[key].get(f):
                            out.append(
                                FieldChange(f"{label}.{f}", "changed", xs[key][f], ys[key].get(f))
                            )
            return
        for i in range(max(len(x), len(y))):
            sub = (*loc, i)
            if i >= len(y):
                out.append(FieldChange(_format_path(sub), "removed", x[i], None))
            elif i >= len(x):
                out.append(FieldChange(_format_path(sub), "added", None, y[i]))
            else:
                _diff_values(x[i], y[i], sub, out)
        return
    if x != y:
        out.append(FieldChange(_format_path(loc), "changed", x, y))
