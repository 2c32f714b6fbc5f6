"""Loading rule sets, shipped or from a file (:mod:`pixirt.rules`)."""

from __future__ import annotations

import os
import tomllib
from importlib import resources
from pathlib import Path

from pixirt._ruleset import RuleSet
from pixirt.exceptions import RuleError

_RULESET_PACKAGE = "pixirt"


_RULESET_DIR = "rulesets"


# --------------------------------------------------------------------------- loading
def available() -> tuple[str, ...]:
    """Names of the rule sets shipped with pixirt.

    Returns
    -------
    tuple of str
        Sorted names, each accepted by :func:`load`.

    Examples
    --------
    >>> available()
    ('pix-v2', 'pix-v3', 'pix-v3-2023')
    """
    folder = resources.files(_RULESET_PACKAGE).joinpath(_RULESET_DIR)
    names = [p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml")]
    return tuple(sorted(names))


def load(name_or_path: str | os.PathLike[str]) -> RuleSet:
    """Load and validate a rule set.

    Parameters
    ----------
    name_or_path
        A shipped name (see :func:`available`) or the path of a TOML file.

    Returns
    -------
    RuleSet
        The validated, frozen rule set.

    Raises
    ------
    RuleError
        If the name is unknown, the file cannot be read or parsed, or its content is
        invalid; the message names the file and the field path.

    Examples
    --------
    >>> load("pix-v3").capacity.grid_quirk
    True
    """
    if isinstance(name_or_path, str) and name_or_path in available():
        label = f"{name_or_path}.toml"
        resource = resources.files(_RULESET_PACKAGE).joinpath(_RULESET_DIR, label)
        text = resource.read_text(encoding="utf-8")
        return _from_toml(text, label, source=f"pixirt:{label}")
    path = Path(name_or_path)
    label = os.fspath(name_or_path)
    if not path.is_file():
        raise RuleError(
            f"{label}: no such rule set file, and not a shipped rule set name "
            f"(shipped: {', '.join(available())})"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{label}: cannot read the file: {exc}") from None
    return _from_toml(text, label, source=label)


def _from_toml(text: str, label: str, *, source: str) -> RuleSet:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"{label}: invalid TOML: {exc}") from None
    rs = RuleSet.from_dict(data, source=label)
    rs._source = source
    return rs
