"""Positioning profiles: what a candidate brings to the v2 certification.

A :class:`Profile` holds, per competence code (``"1.1"`` … ``"5.2"``), the positioned
``level`` and ``pix`` and the ``skills`` validated in positioning, plus the challenge ids
the candidate already answered there (``answered_challenges``, excluded from v2
selection where possible, ``pix-rules.md`` §2.1). A competence is certifiable at level ≥ 1
and a profile is certifiable with at least 5 certifiable competences (§1.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pixirt._json import from_dict, to_dict
from pixirt.exceptions import DataError

__all__ = ["CompetenceProfile", "Profile", "code_key"]

MIN_CERTIFIABLE_LEVEL = 1
MIN_CERTIFIABLE_COMPETENCES = 5


@dataclass(frozen=True, slots=True)
class CompetenceProfile:
    """One competence of a profile.

    Attributes
    ----------
    level
        Positioned level (0–8).
    pix
        Positioned pix of the competence (≥ 0).
    skills
        Names of the skills validated in positioning (e.g. ``"@tube3"``).
    """

    level: int
    pix: int
    skills: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict."""
        return to_dict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CompetenceProfile:
        """Inverse of :meth:`to_dict` (``skills`` may be missing)."""
        return from_dict(cls, data)


@dataclass(frozen=True, slots=True)
class Profile:
    """A candidate's positioning profile (JSON round trip with :meth:`to_dict` / :meth:`from_dict`).

    Attributes
    ----------
    competences
        Competence code → :class:`CompetenceProfile` (read-only mapping).
    answered_challenges
        Challenge ids answered (directly validated) in positioning.
    """

    competences: Mapping[str, CompetenceProfile]
    answered_challenges: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "competences", MappingProxyType(dict(self.competences)))

    def certifiable_competences(self, min_level: int = MIN_CERTIFIABLE_LEVEL) -> list[str]:
        """Codes of the competences at level ≥ ``min_level``, in code order."""
        return sorted(
            (code for code, comp in self.competences.items() if comp.level >= min_level),
            key=code_key,
        )

    def is_certifiable(
        self,
        min_competences: int = MIN_CERTIFIABLE_COMPETENCES,
        min_level: int = MIN_CERTIFIABLE_LEVEL,
    ) -> bool:
        """Whether the profile has at least ``min_competences`` certifiable competences."""
        return len(self.certifiable_competences(min_level)) >= min_competences

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict: ``{"competences": {code: {level, pix, skills}}, "answered_challenges": [...]}``."""
        return {
            "competences": {
                code: self.competences[code].to_dict()
                for code in sorted(self.competences, key=code_key)
            },
            "answered_challenges": list(self.answered_challenges),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, path: str | None = None) -> Profile:
        """Build a profile from :meth:`to_dict` output or the short form ``{code: {level, pix}}``.

        Raises
        ------
        DataError
            Naming the field (e.g. ``competences.1.1.level``) on a missing or invalid value.
        """
        if not isinstance(data, Mapping):
            raise DataError(
                f"expected an object, got {type(data).__name__}", path=path, field="profile"
            )
        if "competences" in data:
            unknown = set(data) - {"competences", "answered_challenges"}
            if unknown:
                raise DataError(f"unknown field(s) {sorted(unknown)}", path=path, field="profile")
            comps_raw = data["competences"]
            answered_raw = data.get("answered_challenges", [])
        else:
            comps_raw, answered_raw = data, []
        if not isinstance(comps_raw, Mapping):
            raise DataError("expected an object of competences", path=path, field="competences")
        comps: dict[str, CompetenceProfile] = {}
        for code, raw in comps_raw.items():
            where = f"competences.{code}"
            if not isinstance(raw, Mapping):
                raise DataError("expected an object with level and pix", path=path, field=where)
            unknown = set(raw) - {"level", "pix", "skills"}
            if unknown:
                raise DataError(f"unknown field(s) {sorted(unknown)}", path=path, field=where)
            level = _int_field(raw, "level", where, path, low=0, high=8)
            pix = _int_field(raw, "pix", where, path, low=0, high=None)
            skills = raw.get("skills", [])
            if not isinstance(skills, list | tuple) or not all(isinstance(s, str) for s in skills):
                raise DataError(
                    "expected a list of skill names", path=path, field=f"{where}.skills"
                )
            comps[str(code)] = CompetenceProfile(level=level, pix=pix, skills=tuple(skills))
        if not isinstance(answered_raw, list | tuple) or not all(
            isinstance(c, str | int) and not isinstance(c, bool) for c in answered_raw
        ):
            raise DataError(
                "expected a list of challenge ids", path=path, field="answered_challenges"
            )
        return cls(competences=comps, answered_challenges=tuple(str(c) for c in answered_raw))


def _int_field(
    raw: Mapping[str, Any], name: str, where: str, path: str | None, *, low: int, high: int | None
) -> int:
    if name not in raw:
        raise DataError("missing value", path=path, field=f"{where}.{name}")
    value = raw[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise DataError(f"expected an integer, got {value!r}", path=path, field=f"{where}.{name}")
    if value < low or (high is not None and value > high):
        bound = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise DataError(
            f"expected an integer {bound}, got {value}", path=path, field=f"{where}.{name}"
        )
    return value


def code_key(code: str) -> tuple[int | str, ...]:
    """Sort key of competence codes: ``"1.10"`` after ``"1.9"``."""
    return tuple(int(p) if p.isdigit() else p for p in str(code).split("."))
