"""Simulated candidate populations: true abilities, groups and positioning profiles.

A :class:`Population` describes candidates by a general ability and 16 competence
abilities tied to it by a one-factor model (z₀, z_k independent standard normals)::

    θ   = mean + group_shift + sd · z₀
    θ_k = mean + competence_shift_k + λ_k (θ − mean) + sqrt(1 − λ_k²) · sd · z_k

so within a group every competence ability has the general ability's spread and
correlates ``λ_k`` (the loading) with it.

Positioning profiles come from the true competence abilities through the bank's
skills: the positioned ability of competence ``k`` is ``θ_k + N(0, positioning_noise)``;
a skill is validated when, at that ability, a typical challenge of the skill (mean
``a`` and ``b`` of its challenges) is answered right with probability at least
``positioning_success`` (0.7 by default: positioning validates what a candidate masters,
so a certification re-testing those skills succeeds about that often), i.e. when the
ability reaches ``b̄ + logit(positioning_success) / ā``; the pix of a competence is the sum of the validated skills'
``pix_value`` (floored, capped at ``8 · max_level``; sums get a 1e-9 tolerance so that
three skills of 8/3 pix make 8) and its level ``min(⌊Σ/8⌋,
max_level)``, as Pix computes them (``pix-rules.md`` §1.3). For each validated skill,
with probability ``direct_share``, one of its challenges (uniformly) was answered in
positioning — the ones v2 selection avoids.

Every draw is a counter-based function of ``(seed, candidate index, ...)``
(:mod:`pixirt._streams`), so candidate ``i`` is the same whichever batch, chunk or worker
produces it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import _streams as streams
from pixirt._item_bank import ItemBank
from pixirt.cat._profile import CompetenceProfile, Profile
from pixirt.exceptions import DataError
from pixirt.simulation._bank import framework

__all__ = ["Candidates", "ObservedPopulation", "Population", "PositioningAnswers"]

FloatArray = npt.NDArray[np.float64]


def _refuse_first(
    bad: npt.NDArray[np.bool_], expected: str, column: pd.Series, path: str | None, field: str
) -> None:
    """A :class:`DataError` naming the first bad row of a table column, if any."""
    if bad.any():
        row = int(np.flatnonzero(bad)[0]) + 1
        raise DataError(
            f"expected {expected}, got {column.iloc[row - 1]!r}", path=path, row=row, field=field
        )


def _competences() -> list[str]:
    return list(framework()["competence"])


@dataclass(frozen=True, slots=True)
class Population:
    """A population of candidates to simulate.

    Parameters
    ----------
    mean, sd
        Mean and standard deviation of the general ability (before group shifts).
    loading
        Correlation of each competence ability with the general ability: one value for
        all, or a mapping competence code → value (missing codes take 0.8).
    competence_shift
        Competence code → shift of that competence's mean ability (default 0).
    groups
        Group name → ``(share, mean shift)``; shares must sum to 1. Default: one group
        ``"all"``.
    positioning_noise
        SD of the noise between a competence's true ability and its positioned ability.
    direct_share
        Probability that a validated skill was validated directly, by answering one of
        its challenges in positioning.
    positioning_success
        Success probability at which positioning validates a skill (0.5: at its difficulty).
    max_level
        Highest level positioning can reach (Pix's ``MAX_REACHABLE_LEVEL``, 5 by default).
    """

    mean: float = 0.0
    sd: float = 1.0
    loading: float | Mapping[str, float] = 0.8
    competence_shift: Mapping[str, float] = field(default_factory=dict)
    groups: Mapping[str, tuple[float, float]] = field(default_factory=lambda: {"all": (1.0, 0.0)})
    positioning_noise: float = 0.5
    direct_share: float = 0.5
    positioning_success: float = 0.7
    max_level: int = 5

    def __post_init__(self) -> None:
        codes = set(_competences())
        if not (np.isfinite(self.mean) and np.isfinite(self.sd) and self.sd > 0):
            raise DataError(
                f"sd must be > 0 and mean finite, got mean {self.mean!r}, sd {self.sd!r}",
                field="sd",
            )
        loadings = self.loading if isinstance(self.loading, Mapping) else {"": self.loading}
        for code, lam in loadings.items():
            where = f"loading.{code}" if code else "loading"
            if code and code not in codes:
                raise DataError(f"unknown competence {code!r}", field=where)
            if not (0.0 < float(lam) <= 1.0):
                raise DataError(f"a loading must be in (0, 1], got {lam!r}", field=where)
        for code in self.competence_shift:
            if code not in codes:
                raise DataError(f"unknown competence {code!r}", field=f"competence_shift.{code}")
        if not self.groups:
            raise DataError("at least one group is needed", field="groups")
        shares = []
        for name, spec in self.groups.items():
            if not (isinstance(spec, tuple | list) and len(spec) == 2):
                raise DataError("expected (share, mean shift)", field=f"groups.{name}")
            share, shift = float(spec[0]), float(spec[1])
            if not (0.0 < share <= 1.0) or not np.isfinite(shift):
                raise DataError(
                    f"share must be in (0, 1] and shift finite, got {spec!r}",
                    field=f"groups.{name}",
                )
            shares.append(share)
        if not np.isclose(sum(shares), 1.0):
            raise DataError(f"group shares must sum to 1, got {sum(shares)!r}", field="groups")
        if not (0.0 <= self.positioning_noise < np.inf):
            raise DataError("positioning_noise must be >= 0", field="positioning_noise")
        if not (0.0 <= self.direct_share <= 1.0):
            raise DataError("direct_share must be in [0, 1]", field="direct_share")
        if not (0.0 < self.positioning_success < 1.0):
            raise DataError("positioning_success must be in (0, 1)", field="positioning_success")
        if not (1 <= int(self.max_level) <= 8):
            raise DataError("max_level must be in 1..8", field="max_level")

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> Population:
        """Read a population from TOML: the constructor's fields, ``[groups]`` as ``name = [share, shift]``.

        Example::

            mean = 0.0
            sd = 1.0
            loading = 0.8
            positioning_noise = 0.5
            [groups]
            school = [0.4, -0.2]
            adult = [0.6, 0.1]

        Raises
        ------
        DataError
            Naming the file and the field (unknown field, bad value).
        """
        import tomllib

        p = Path(path)
        where = str(p)
        if not p.exists():
            raise DataError("no such file", path=where)
        try:
            data = tomllib.loads(p.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise DataError(f"invalid TOML: {exc}", path=where) from None
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(
                f"unknown field(s) {unknown}; known: {sorted(known)}", path=where, field=unknown[0]
            )
        if "groups" in data:
            if not isinstance(data["groups"], dict):
                raise DataError(
                    "expected a table name = [share, shift]", path=where, field="groups"
                )
            data["groups"] = {
                str(k): tuple(v) if isinstance(v, list) else v for k, v in data["groups"].items()
            }
        try:
            return cls(**data)
        except DataError as exc:
            raise DataError(exc.message, path=where, field=exc.field) from None
        except (TypeError, ValueError) as exc:
            raise DataError(f"invalid value: {exc}", path=where) from None

    @staticmethod
    def from_frame(df: pd.DataFrame, *, path: str | None = None) -> ObservedPopulation:
        """Real candidates: one row each, for simulating their certifications.

        Parameters
        ----------
        df
            Columns ``candidate_id`` and ``theta`` (the ability their answers are drawn
            at), optional ``group``, ``theta_<code>``, for v2 profiles ``level_<code>``,
            ``pix_<code>`` and ``skills_<code>`` (validated skills, ``;``-separated), and
            the real jury decisions ``fraud`` and ``cancelled`` (true/false: applied to
            every simulated test of the candidate, as the jury applied them).
        path
            Source file, named in errors.

        Returns
        -------
        ObservedPopulation
            The candidates, in table order.

        Raises
        ------
        DataError
            A missing column or a bad value, naming the row and field.
        """
        if not isinstance(df, pd.DataFrame):
            raise DataError(f"expected a DataFrame, got {type(df).__name__}", path=path)
        for col in ("candidate_id", "theta"):
            if col not in df.columns:
                raise DataError(
                    f"missing column; columns are {list(df.columns)}", path=path, field=col
                )
        if len(df) == 0:
            raise DataError("no candidates", path=path)
        codes = set(_competences())
        for col in df.columns:
            name = str(col)
            prefix, _, code = name.partition("_")
            if (
                prefix in ("level", "pix", "skills")
                and name not in ("level", "pix")
                and code not in codes
            ):
                raise DataError(
                    f"unknown competence {code!r} in a column name", path=path, field=name
                )
            if name == "theta" or (prefix == "theta" and code in codes):
                values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
                _refuse_first(~np.isfinite(values), "a finite number", df[col], path, name)
            if name in ("fraud", "cancelled"):
                flags = df[col].to_numpy(dtype=object)
                bad = np.array([not isinstance(v, bool | np.bool_) for v in flags])
                _refuse_first(bad, "true or false", df[col], path, name)
            if prefix in ("level", "pix") and code in codes:
                values = pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64)
                high = 8 if prefix == "level" else 64
                bad = (
                    ~np.isfinite(values)
                    | (values != np.round(values))
                    | (values < 0)
                    | (values > high)
                )
                _refuse_first(bad, f"an integer in [0, {high}]", df[col], path, name)
        return ObservedPopulation(df.reset_index(drop=True).copy())

    def loadings(self) -> FloatArray:
        """Loading of each competence, in framework order."""
        codes = _competences()
        if isinstance(self.loading, Mapping):
            return np.array([float(self.loading.get(c, 0.8)) for c in codes])
        return np.full(len(codes), float(self.loading))

    def sample(
        self, n: int, *, seed: int = 0, start: int = 0, bank: ItemBank | None = None
    ) -> Candidates:
        """Draw candidates ``start .. start + n − 1``.

        Parameters
        ----------
        n
            Number of candidates.
        seed
            Non-negative seed; candidate ``i`` depends only on ``(seed, i)``.
        start
            Index of the first candidate (to draw a population chunk by chunk).
        bank
            A bank with ``competence``, ``skill`` and ``pix_value`` metadata: when given,
            positioning profiles are generated too.

        Returns
        -------
        Candidates
            Arrays over the candidates.
        """
        if n < 0 or start < 0:
            raise DataError("n and start must be >= 0", field="n")
        if not isinstance(seed, int | np.integer) or seed < 0:
            raise DataError(f"seed must be a non-negative int, got {seed!r}", field="seed")
        seed = int(seed)
        codes = _competences()
        idx = np.arange(start, start + n, dtype=np.int64)
        names = list(self.groups)
        shares = np.array([float(self.groups[g][0]) for g in names])
        shifts = np.array([float(self.groups[g][1]) for g in names])
        u = streams.uniform(seed, "population.group", idx)
        group = np.minimum(np.searchsorted(np.cumsum(shares), u, side="right"), len(names) - 1)
        theta = (
            self.mean + shifts[group] + self.sd * streams.normal(seed, "population.general", idx)
        )
        lam = self.loadings()
        z = streams.normal(
            seed, "population.competence", idx[:, None], np.arange(len(codes))[None, :]
        )
        shift_k = np.array([float(self.competence_shift.get(c, 0.0)) for c in codes])
        comp = (
            self.mean
            + shift_k[None, :]
            + lam[None, :] * (theta[:, None] - self.mean)
            + np.sqrt(1.0 - lam**2)[None, :] * self.sd * z
        )
        cands = Candidates(
            index=idx,
            group=np.asarray(names, dtype=object)[group],
            theta=theta,
            competence_theta=comp,
            competences=tuple(codes),
            seed=seed,
        )
        if bank is None:
            return cands
        return self._position(cands, bank)

    def _position(self, cands: Candidates, bank: ItemBank) -> Candidates:
        meta = bank.metadata
        for col in ("competence", "skill", "pix_value"):
            if col not in meta.columns:
                raise DataError("the bank needs this metadata column for positioning", field=col)
        codes = list(cands.competences)
        skills = (
            meta.reset_index()
            .groupby("skill", sort=True)
            .agg(competence=("competence", "first"), pix_value=("pix_value", "first"))
        )
        skill_b = pd.Series(bank.b, index=meta["skill"].to_numpy()).groupby(level=0).mean()
        skill_a = pd.Series(bank.a, index=meta["skill"].to_numpy()).groupby(level=0).mean()
        q = self.positioning_success
        threshold = (
            skill_b.loc[skills.index].to_numpy()
            + np.log(q / (1 - q)) / skill_a.loc[skills.index].to_numpy()
        )
        comp_of_skill = pd.Index(codes).get_indexer(pd.Index(skills["competence"]))
        if (comp_of_skill < 0).any():
            bad = skills.index[comp_of_skill < 0][0]
            raise DataError(f"skill {bad!r} has an unknown competence", field="competence")
        n_skills = len(skills)
        positioned = cands.competence_theta + self.positioning_noise * streams.normal(
            cands.seed,
            "population.positioning",
            cands.index[:, None],
            np.arange(len(codes))[None, :],
        )
        validated = positioned[:, comp_of_skill] >= threshold[None, :]
        onehot = np.zeros((n_skills, len(codes)))
        onehot[np.arange(n_skills), comp_of_skill] = 1.0
        total = (validated * skills["pix_value"].to_numpy()[None, :]) @ onehot
        cap = 8 * int(self.max_level)
        pix = np.minimum(np.floor(total + 1e-9), cap).astype(np.int16)
        level = np.minimum(np.floor((total + 1e-9) / 8.0), self.max_level).astype(np.int8)
        # directly validated skills: one of their challenges was answered in positioning,
        # drawn on demand (counter-based: the same numbers whichever pairs are asked)
        challenge_skill = pd.Index(skills.index).get_indexer(meta["skill"].to_numpy())
        order = np.argsort(challenge_skill, kind="stable")
        counts = np.bincount(challenge_skill, minlength=n_skills)
        first = np.concatenate([[0], np.cumsum(counts)[:-1]])
        answered = PositioningAnswers(
            seed=cands.seed,
            index=cands.index,
            validated=validated,
            direct_share=float(self.direct_share),
            items=order.astype(np.int64),
            first=first.astype(np.int64),
            counts=counts.astype(np.int64),
        )
        return replace(
            cands,
            levels=level,
            pix=pix,
            validated=validated,
            positioning_answers=answered,
            skill_names=tuple(skills.index),
            skill_competence=comp_of_skill.astype(np.int64),
            challenge_ids=tuple(bank.item_ids.tolist()),
        )


@dataclass(frozen=True, slots=True, eq=False)
class PositioningAnswers:
    """The challenge each validated skill's direct validation answered in positioning.

    A skill validated in positioning is *directly* validated with probability
    ``direct_share`` (draw ``population.direct``), and then one of its challenges, uniform
    (draw ``population.direct.pick``), was answered. Called with ``(rows, skills)`` pairs
    (row in the batch, skill column), it returns those challenges' bank positions (−1:
    none); draws are counter-based, so only the pairs asked are drawn and the numbers do
    not depend on which.
    """

    seed: int
    index: npt.NDArray[np.int64]
    validated: npt.NDArray[np.bool_]
    direct_share: float
    items: npt.NDArray[np.int64]
    first: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]

    @classmethod
    def none(
        cls, index: npt.NDArray[np.int64], validated: npt.NDArray[np.bool_]
    ) -> PositioningAnswers:
        """Nothing answered in positioning."""
        zero = np.zeros(validated.shape[1], dtype=np.int64)
        return cls(0, index, validated, 0.0, np.zeros(0, dtype=np.int64), zero, zero)

    def __call__(
        self, rows: npt.NDArray[np.int64], skills: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """The challenges answered in positioning for ``(rows, skills)`` pairs (−1: none)."""
        rows = np.asarray(rows, dtype=np.int64)
        skills = np.asarray(skills, dtype=np.int64)
        out = np.full(rows.shape, -1, dtype=np.int64)
        if self.direct_share <= 0.0 or not len(rows):
            return out
        idx = self.index[rows]
        direct = self.validated[rows, skills]
        direct &= streams.uniform(self.seed, "population.direct", idx, skills) < self.direct_share
        r, k = rows[direct], skills[direct]
        pick = streams.uniform(self.seed, "population.direct.pick", self.index[r], k)
        n = self.counts[k]
        offset = np.minimum((pick * n).astype(np.int64), n - 1)
        out[direct] = self.items[self.first[k] + offset]
        return out


@dataclass(frozen=True, slots=True, eq=False)
class Candidates:
    """Sampled candidates, as arrays (row ``r`` is candidate ``index[r]``).

    Attributes
    ----------
    index
        Global candidate indices (the counter of every random draw).
    group
        Group name per candidate.
    theta
        True general ability.
    competence_theta
        True competence abilities, shape ``(n, 16)``, columns in ``competences`` order.
    competences
        Competence codes.
    seed
        The population seed.
    levels, pix
        Positioned level and pix per competence, shape ``(n, 16)`` (with a bank).
    validated
        Skills validated in positioning, ``(n, n_skills)`` booleans, columns in ``skill_names`` order.
    positioning_answers
        Per candidate and skill, the bank position of the challenge answered in
        positioning, or −1 (:class:`PositioningAnswers`; :attr:`answered` as a matrix).
    skill_names, skill_competence
        The bank's skills (sorted) and the position of each one's competence in ``competences``.
    challenge_ids
        The bank's item ids (what ``answered`` indexes).
    fraud, cancelled
        Real jury decisions per candidate (observed populations), or None.
    """

    index: npt.NDArray[np.int64]
    group: npt.NDArray[Any]
    theta: FloatArray
    competence_theta: FloatArray
    competences: tuple[str, ...]
    seed: int
    levels: npt.NDArray[np.int8] | None = None
    pix: npt.NDArray[np.int16] | None = None
    validated: npt.NDArray[np.bool_] | None = None
    positioning_answers: PositioningAnswers | None = None
    skill_names: tuple[str, ...] = ()
    skill_competence: npt.NDArray[np.int64] | None = None
    challenge_ids: tuple[Any, ...] = ()
    fraud: npt.NDArray[np.bool_] | None = None
    cancelled: npt.NDArray[np.bool_] | None = None

    def __len__(self) -> int:
        return len(self.index)

    @property
    def answered(self) -> npt.NDArray[np.int32] | None:
        """``(n, n_skills)``: the challenge answered in positioning per skill (−1: none)."""
        if self.positioning_answers is None or self.validated is None:
            return None
        rows, cols = np.nonzero(self.validated)
        out = np.full(self.validated.shape, -1, dtype=np.int32)
        out[rows, cols] = self.positioning_answers(rows, cols)
        return out

    @property
    def candidate_ids(self) -> list[str]:
        """Ids ``c<index>``."""
        return [f"c{i}" for i in self.index.tolist()]

    def profile(self, row: int) -> Profile:
        """The positioning profile of the candidate in ``row`` (needs a bank at sampling)."""
        if (
            self.levels is None
            or self.pix is None
            or self.validated is None
            or self.positioning_answers is None
            or self.skill_competence is None
        ):
            raise DataError(
                "these candidates were sampled without a bank: no profiles", field="bank"
            )
        skills = np.asarray(self.skill_names, dtype=object)
        comps: dict[str, CompetenceProfile] = {}
        valid = self.validated[row]
        by_comp = self.skill_competence
        for k, code in enumerate(self.competences):
            mask = valid & (by_comp == k)
            comps[code] = CompetenceProfile(
                level=int(self.levels[row, k]),
                pix=int(self.pix[row, k]),
                skills=tuple(skills[mask].tolist()),
            )
        cols = np.flatnonzero(valid)
        chosen = self.positioning_answers(np.full(len(cols), row), cols)
        answered = tuple(str(self.challenge_ids[j]) for j in chosen[chosen >= 0].tolist())
        return Profile(competences=comps, answered_challenges=answered)

    def to_frame(self) -> pd.DataFrame:
        """One row per candidate: index, id, group, true abilities, positioned levels and pix."""
        out = pd.DataFrame(
            {
                "candidate_id": self.candidate_ids,
                "index": self.index,
                "group": self.group,
                "theta": self.theta,
            }
        )
        for k, code in enumerate(self.competences):
            out[f"theta_{code}"] = self.competence_theta[:, k]
        if self.levels is not None and self.pix is not None:
            for k, code in enumerate(self.competences):
                out[f"level_{code}"] = self.levels[:, k]
                out[f"pix_{code}"] = self.pix[:, k]
        return out


@dataclass(frozen=True, slots=True, eq=False)
class ObservedPopulation:
    """Real candidates from a table (:meth:`Population.from_frame`), in table order.

    ``sample(n, start=i)`` returns rows ``i .. i + n − 1`` (candidate index = row number),
    so :func:`pixirt.simulation.simulate` runs these very candidates; ``n`` cannot
    exceed the table. Their answers are drawn at ``theta`` (and ``theta_<code>`` for the
    competence responder) — an ability estimated from their real answers, for instance.
    """

    frame: pd.DataFrame
    positioning_success: float = 0.7

    def __len__(self) -> int:
        return len(self.frame)

    def sample(
        self, n: int, *, seed: int = 0, start: int = 0, bank: ItemBank | None = None
    ) -> Candidates:
        """Rows ``start .. start + n − 1`` as :class:`Candidates` (``seed`` is not used: nothing is drawn)."""
        if start < 0 or n < 0 or start + n > len(self.frame):
            raise DataError(
                f"the table has {len(self.frame)} candidates; rows {start}..{start + n - 1} requested",
                field="n",
            )
        codes = _competences()
        rows = self.frame.iloc[start : start + n]
        theta = rows["theta"].to_numpy(dtype=np.float64)
        comp = np.column_stack(
            [
                rows[f"theta_{c}"].to_numpy(dtype=np.float64) if f"theta_{c}" in rows else theta
                for c in codes
            ]
        )
        cands = Candidates(
            index=np.arange(start, start + n, dtype=np.int64),
            group=rows["group"].astype(str).to_numpy(dtype=object)
            if "group" in rows
            else np.full(n, "all", dtype=object),
            theta=theta,
            competence_theta=comp,
            competences=tuple(codes),
            seed=int(seed),
            fraud=rows["fraud"].to_numpy(dtype=bool) if "fraud" in rows else None,
            cancelled=rows["cancelled"].to_numpy(dtype=bool) if "cancelled" in rows else None,
        )
        if bank is None:
            return cands
        return self._profiles(cands, rows, bank)

    def _profiles(self, cands: Candidates, rows: pd.DataFrame, bank: ItemBank) -> Candidates:
        """Profiles from the table's levels and pix.

        Validated skills come from ``skills_<code>`` (``;``-separated) when given, else every
        skill of the competence at a level ≤ the positioned level.
        """
        meta = bank.metadata
        for col in ("competence", "skill", "level"):
            if col not in meta.columns:
                raise DataError("the bank needs this metadata column for profiles", field=col)
        codes = list(cands.competences)
        skills = (
            meta.reset_index()
            .groupby("skill", sort=True)
            .agg(competence=("competence", "first"), level=("level", "first"))
        )
        names = list(skills.index)
        comp_of_skill = pd.Index(codes).get_indexer(pd.Index(skills["competence"]))
        n = len(cands)
        levels = np.zeros((n, len(codes)), dtype=np.int8)
        pix = np.zeros((n, len(codes)), dtype=np.int16)
        validated = np.zeros((n, len(names)), dtype=bool)
        lookup = {s: k for k, s in enumerate(names)}
        for k, code in enumerate(codes):
            if f"level_{code}" in rows:
                levels[:, k] = rows[f"level_{code}"].to_numpy(dtype=np.int64)
            if f"pix_{code}" in rows:
                pix[:, k] = rows[f"pix_{code}"].to_numpy(dtype=np.int64)
            col = f"skills_{code}"
            if col in rows:
                for r, text in enumerate(rows[col].fillna("").astype(str).tolist()):
                    for s in filter(None, (x.strip() for x in text.split(";"))):
                        if s in lookup:
                            validated[r, lookup[s]] = True
            else:
                mask = comp_of_skill == k
                validated[:, mask] = skills["level"].to_numpy()[mask][None, :] <= levels[:, [k]]
        return replace(
            cands,
            levels=levels,
            pix=pix,
            validated=validated,
            positioning_answers=PositioningAnswers.none(cands.index, validated),
            skill_names=tuple(names),
            skill_competence=comp_of_skill.astype(np.int64),
            challenge_ids=tuple(bank.item_ids.tolist()),
        )
