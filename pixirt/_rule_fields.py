"""Field types of the rule sets: actions, features, bounds, dates, counts, percents (:mod:`pixirt.rules`)."""

from __future__ import annotations

import math
from datetime import date
from typing import Annotated, Any, Literal, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    Strict,
    StrictInt,
)

from pixirt._json import encode_float

#: What the v2 level table does to the positioned level: keep it, lower it by one, or
#: invalidate the competence (level −1).
Action = Literal["validate", "downgrade", "invalidate"]


#: Challenge features an incident resolution can check (bank columns of the same names).
Feature = Literal["image", "embed", "attachment", "timed", "focus"]


FEATURES: tuple[str, ...] = ("image", "embed", "attachment", "timed", "focus")


#: What an automatic resolution does to the reported challenge's answer.
ResolutionAction = Literal["neutralize", "validate_focused_out"]


#: Answer statuses (``pix-rules.md`` §2.1).
StatusName = Literal["ok", "ko", "aband", "timedout", "focusedOut", "partially", "unimplemented"]


# --------------------------------------------------------------------------- field types
def _parse_bound(value: Any) -> Any:
    """Accept ``"inf"``/``"-inf"`` strings for interval bounds (the JSON form of ±∞)."""
    if isinstance(value, str) and value.strip().lower() in {
        "inf",
        "+inf",
        "-inf",
        "infinity",
        "-infinity",
    }:
        return float(value)
    return value


def _reject_nan(value: float) -> float:
    if math.isnan(value):
        raise ValueError("expected a number or ±inf, got nan")
    return value


def _bound_to_json(value: float) -> float | str | None:
    return encode_float(value)  # the one convention (pixirt._json)


def _parse_until(value: Any) -> int | str:
    if value == "all" or (isinstance(value, int) and not isinstance(value, bool) and value >= 0):
        return cast(int | str, value)
    raise ValueError(f'expected a non-negative answer index or "all", got {value!r}')


def _parse_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected a date like 2024-11-01, got {value!r}") from None
    return value


#: A finite number (TOML integer or float).
Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


#: An interval bound: a number, ``inf`` or ``-inf`` (written ``"inf"`` in JSON).
Bound = Annotated[
    float,
    BeforeValidator(_parse_bound),
    Strict(),
    AfterValidator(_reject_nan),
    PlainSerializer(_bound_to_json, when_used="json"),
]


Day = Annotated[date, BeforeValidator(_parse_date), Strict()]


Count = Annotated[StrictInt, Field(ge=0)]


Percent = Annotated[StrictInt, Field(ge=0, le=100)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
