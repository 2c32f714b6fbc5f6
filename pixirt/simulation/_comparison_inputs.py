"""Checks of a comparison's arguments.

Language, bootstrap settings, rule sets; the silent progress callback.
"""

from __future__ import annotations

import os
from typing import cast

from pixirt import rules as rules_mod
from pixirt.exceptions import DataError
from pixirt.rules import RuleSet
from pixirt.simulation._comparison_names import Lang


# ====================================================================== inputs
def _no_progress(stage: str, done: int, total: int) -> None:
    return None


def _check_lang(lang: str) -> Lang:
    if lang not in ("fr", "en"):
        raise DataError(f"lang must be 'fr' or 'en', got {lang!r}", field="lang")
    return cast(Lang, lang)


def _check_bootstrap(n_bootstrap: int, confidence_level: float) -> tuple[int, float]:
    if not isinstance(n_bootstrap, int) or isinstance(n_bootstrap, bool) or n_bootstrap < 100:
        raise DataError(
            f"n_bootstrap must be an int >= 100, got {n_bootstrap!r}", field="n_bootstrap"
        )
    level = float(confidence_level)
    if not (0.5 <= level < 1.0):
        raise DataError(
            f"confidence_level must be in [0.5, 1), got {confidence_level!r}",
            field="confidence_level",
        )
    return n_bootstrap, level


def _load_rules(value: RuleSet | str | os.PathLike[str], name: str) -> RuleSet:
    if isinstance(value, RuleSet):
        return value
    if isinstance(value, str | os.PathLike):
        return rules_mod.load(value)
    raise DataError(
        f"expected a RuleSet, a shipped name or a TOML path, got {type(value).__name__}",
        field=name,
    )
