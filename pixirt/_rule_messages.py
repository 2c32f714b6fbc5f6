"""The messages of a rule set's validation errors (:mod:`pixirt.rules`)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError


# --------------------------------------------------------------------------- errors
def _format_path(loc: Sequence[str | int]) -> str:
    """Render a field location the way a TOML reader looks for it.

    ``("scoring", "v2", "table", 4, "rr_below_70")`` → ``[scoring.v2.table][4].rr_below_70``;
    ``("capacity", "grid_steps")`` → ``[capacity].grid_steps``; ``("id",)`` → ``id``.
    """

    def key(k: str) -> str:
        bare = k.replace("_", "").replace("-", "").isalnum() and k.isascii()
        return k if bare else json.dumps(k)

    parts = list(loc)
    if not parts:
        return "(top level)"
    first_int = next((i for i, p in enumerate(parts) if isinstance(p, int)), None)
    if first_int is None:
        if len(parts) == 1:
            return key(str(parts[0]))
        return "[" + ".".join(key(str(p)) for p in parts[:-1]) + "]." + key(str(parts[-1]))
    out = "[" + ".".join(key(str(p)) for p in parts[:first_int]) + "]"
    for p in parts[first_int:]:
        out += f"[{p}]" if isinstance(p, int) else "." + key(str(p))
    return out


def _expected_choices(ctx: Mapping[str, Any] | None) -> str:
    raw = str((ctx or {}).get("expected", ""))
    items = [s.strip().strip("'\"") for s in raw.replace(" or ", ", ").split(",")]
    return "/".join(i for i in items if i)


def _error_message(err: Mapping[str, Any]) -> str:
    kind = err.get("type", "")
    got = err.get("input")
    if kind == "missing":
        return "missing required field"
    if kind == "extra_forbidden":
        return "unknown field (not part of the rule-set format; see docs/rules.md)"
    if kind == "literal_error":
        return f"expected one of {_expected_choices(err.get('ctx'))}, got {got!r}"
    if kind == "union_tag_invalid":
        ctx = err.get("ctx") or {}
        tags = _expected_choices({"expected": ctx.get("expected_tags", "")})
        return f"expected type one of {tags}, got {ctx.get('tag')!r}"
    if kind in {"int_type", "int_parsing", "int_from_float"}:
        return f"expected an integer, got {got!r}"
    if kind in {"float_type", "float_parsing"}:
        return f"expected a number, got {got!r}"
    if kind == "finite_number":
        return f"expected a finite number, got {got!r}"
    if kind in {"bool_type", "bool_parsing"}:
        return f"expected true or false, got {got!r}"
    if kind == "string_type":
        return f"expected a string, got {got!r}"
    if kind in {"dict_type", "model_type", "model_attributes_type"}:
        return f"expected a table, got {got!r}"
    if kind in {"tuple_type", "list_type"}:
        return f"expected an array, got {got!r}"
    msg = str(err.get("msg", "invalid value"))
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    return f"{msg[:1].lower()}{msg[1:]}, got {got!r}"


def _format_validation_error(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p in {"fixed", "linear"})]
        lines.append(f"{source} {_format_path(loc)}: {_error_message(err)}")
    return "\n".join(lines)
