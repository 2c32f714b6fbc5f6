"""The impact of a rule change: the same candidates under two rule sets, side by side.

:func:`compare` runs the same candidates under a baseline and a proposed rule set and
returns a :class:`Comparison`: who changes outcome, score and certified levels, by how
much, in which group, how well each rule set measures, and how sure we are of each
headline difference.

Same candidates, same draws
    Every draw of the simulator is keyed by ``(seed, candidate index, step)``
    (:mod:`pixirt.streams`), so two :func:`~pixirt.simulation.runner.simulate` calls with
    the same population, seed and indices are *common random numbers*: the same
    candidates, the same true abilities and, step by step, the same answer draws. A
    difference between the two runs is the rule change's doing, not the luck of the
    draw. Past sessions (``past_sessions``) are rescored with their real answers
    (:func:`~pixirt.simulation.replay.replay`); when the proposed rules change *which*
    challenges are asked, a rescoring cannot say what would have happened, and both rule
    sets re-run the past candidates in simulation instead, at the ability estimated from
    their real answers (:func:`~pixirt.simulation.replay.counterfactual`, same seed).

What is compared (per candidate, then summed)
    Outcome (validated, rejected, cancelled, not certifiable), pix score and the level
    written on the certificate for each competence: the competence's level when the
    certification is validated, "no level" otherwise (not tested, uncertified, or the
    certification not validated). A candidate is *worse off* when the change costs them
    their certification, or, certified under both, lowers their score or one of their
    certified levels, and gains nothing on another count; *better off* symmetrically;
    *mixed* when both happen.

Uncertainty
    Every headline difference carries a percentile bootstrap interval: the candidates are
    resampled with replacement (``n_bootstrap`` times) *as pairs*, so the interval
    measures how much the difference would move with other candidates drawn from the same
    population, for the same rule change. For past sessions it says how much the
    difference depends on which sessions happened to be held. The percentile bootstrap
    needs a few affected candidates in the sample: a difference that rests on a handful
    of candidates gets a rough interval (and an interval of width 0 when none is
    affected).

Fairness
    For every pair of groups and for the pass rate, the mean score and the share of
    candidates worse off, the *gap* is the difference between the two groups' changes.
    A gap is flagged as unequal treatment when its interval, widened for the number of
    gaps examined (Bonferroni), excludes 0, the group it puts at a disadvantage is indeed
    hurt by the change, the gap at equal true ability (simulations) keeps its direction
    with its widened interval excluding 0, and — when the rules change the tests — it is
    larger than the noise floor, the gap a second sitting alone makes between the groups;
    one beyond chance that fails another condition is listed "to watch". In
    simulations the gap is also computed *at equal true ability* (the groups' changes are
    the group terms of a least-squares regression of each candidate's change on a linear
    spline of the true ability and the groups): a gap that vanishes there comes from the
    groups' different levels, not from the rules treating equally able candidates
    differently.

Measurement quality (simulations)
    Against the true ability: bias, RMSE and correlation of the score with the *true
    score* (the score the rules give the true ability, without measurement error), of the
    v3 capacity with the true ability; classification accuracy of the certified levels
    (share of competence levels equal to the true level: for v3 the level the rules give
    the true ability, for v2 the level an error-free positioning would give) and their
    consistency (share equal in a second, independent administration to the first
    ``n_retest`` candidates: same candidates, new answer draws), and the test-retest
    correlation of the score. For v3, challenge exposure and test overlap.

Examples
--------
>>> from pixirt import rules
>>> from pixirt.simulation.population import Population
>>> from pixirt.simulation.rule_comparison import compare
>>> v3 = rules.load("pix-v3")
>>> same = compare(v3, v3, population=Population(), n=30, seed=1, n_bootstrap=100)
>>> same.headline()["changed"], same.headline()["pass_rate_difference"]
(0, 0.0)
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

import numpy as np
import numpy.typing as npt
import pandas as pd

from pixirt import rules as rules_mod
from pixirt import streams
from pixirt.exceptions import DataError
from pixirt.item_bank import ItemBank
from pixirt.rules import FieldChange, RuleSet, RuleSetDiff
from pixirt.simulation.population import ObservedPopulation, Population
from pixirt.simulation.responders import Responder

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from pixirt.cat.scoring import Certification

__all__ = ["Comparison", "RuleSetInfo", "compare"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjArray = npt.NDArray[np.object_]
Lang = Literal["fr", "en"]
Source = Literal["simulation", "replay", "counterfactual"]
#: ``progress(stage, done, total)``: called as the work advances.
Progress = Callable[[str, int, int], None]

#: Outcome categories, in display order.
STATUSES: tuple[str, ...] = (
    "validated",
    "rejected",
    "cancelled",
    "cancelled_by_jury",
    "not_certifiable",
    "error",
)
#: The label of "no level on the certificate" in the level tables.
NO_LEVEL = "none"
#: Metrics of the ``differences`` table (baseline value, proposed value, difference).
DIFFERENCE_METRICS: tuple[str, ...] = ("pass_rate", "mean_score", "mean_level", "jury_review")
#: Metrics of the ``changes`` table (share of candidates).
CHANGE_METRICS: tuple[str, ...] = (
    "changed",
    "worse_off",
    "better_off",
    "mixed",
    "lost_certification",
    "gained_certification",
    "score_down",
    "score_up",
    "level_down",
    "level_up",
)
#: Metrics whose group gaps are examined for fairness, and the direction that hurts.
GAP_METRICS: dict[str, int] = {"pass_rate": -1, "mean_score": -1, "worse_off": 1}
#: Fewer candidates (or sessions) than this: no interval is given, and no gap flagged.
MIN_SAMPLE = 30
#: Metrics of the ``quality`` table.
QUALITY_METRICS: tuple[str, ...] = (
    "score_bias",
    "score_rmse",
    "score_correlation",
    "capacity_bias",
    "capacity_rmse",
    "level_accuracy",
    "level_accuracy_within_one",
    "global_level_accuracy",
    "level_consistency",
    "score_test_retest",
)
#: Rule fields that change which challenges are asked (prefixes of :func:`pixirt.rules.diff` paths).
SELECTION_FIELDS: tuple[str, ...] = (
    "algorithm",
    "[selection]",
    "[selection.",
    "[capacity]",
    "[scoring.v2].challenges_per_competence",
    "[scoring.v2].minimum_competence_level",
    "[scoring.v2].minimum_certifiable_competences",
)
_ABILITY_BINS = 10
_BLOCK = 10_000


# ====================================================================== result
@dataclass(frozen=True, slots=True)
class RuleSetInfo:
    """Identity of a compared rule set.

    Attributes
    ----------
    id, hash, algorithm, source
        As on :class:`~pixirt.rules.RuleSet`.
    content
        :meth:`RuleSet.to_dict() <pixirt.rules.RuleSet.to_dict>` (to describe the changes).
    """

    id: str
    hash: str
    algorithm: str
    source: str
    content: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def of(cls, rules: RuleSet) -> RuleSetInfo:
        """The identity of ``rules``."""
        return cls(rules.id, rules.hash, rules.algorithm, rules.source, rules.to_dict())


@dataclass(frozen=True, slots=True, eq=False)
class Comparison:
    """Two rule sets applied to the same candidates (see the module doc and :func:`compare`).

    Every table holds plain numbers, so :meth:`to_dict` / :meth:`from_dict` round-trip the
    whole comparison, and :meth:`report` and the ``plot_*`` methods work from them.
    Shares are fractions (0.25 for 25 %), differences are proposed − baseline, intervals
    are percentile bootstrap intervals at ``confidence_level``.

    Attributes
    ----------
    baseline, proposed
        The rule sets compared.
    rules_diff
        :func:`pixirt.rules.diff` of the two.
    source
        ``"simulation"`` (a simulated population), ``"replay"`` (past sessions rescored
        with their real answers) or ``"counterfactual"`` (past candidates re-run in
        simulation because the selection changes).
    n
        Number of candidates (or sessions).
    seed
        Seed of the simulation and of the bootstrap.
    n_bootstrap, confidence_level
        Bootstrap replicates and interval level.
    groups
        The candidate groups (``("all",)`` without groups).
    selection_changed
        Whether the rule change alters which challenges are asked.
    outcomes
        Transition counts: baseline outcome (rows) × proposed outcome (columns).
    differences
        ``metric`` (``pass_rate``, ``mean_score``, ``mean_level``, ``jury_review``: the
        share of certifications an unresolved impactful issue report sends to a human
        jury — the jury's workload), ``group`` (``"all"``
        and each group), ``n``, ``baseline``, ``proposed``, ``difference``, ``low``,
        ``high``.
    changes
        ``metric`` (:data:`CHANGE_METRICS`), ``group``, ``n``, ``count``, ``share``,
        ``low``, ``high``: how many candidates change, and how.
    gaps
        One row per metric of :data:`GAP_METRICS` and pair of groups: ``change_a``,
        ``change_b``, ``gap`` (= change_a − change_b), ``low``/``high`` (plain interval),
        ``adj_low``/``adj_high`` (Bonferroni-widened), ``cond_gap``/``cond_low``/
        ``cond_high``/``cond_adj_low``/``cond_adj_high`` (at equal true ability; NaN
        without true abilities), ``noise_floor`` (the largest gap a second sitting alone
        makes between the two groups, its interval's farther end; NaN when the tests do
        not change or no candidate sat twice), ``flagged`` (unequal treatment: the
        widened interval excludes 0, the disadvantaged group is hurt, the gap at equal
        true ability keeps its direction beyond chance, and it exceeds the noise floor),
        ``watch`` (beyond chance on the plain interval only).
    score_changes
        Histogram of the score differences: ``low``, ``high`` (inclusive integer bounds),
        ``count``.
    score_change_stats
        ``mean``, ``min``, ``max`` and quantiles ``q01`` … ``q99`` of the score
        differences; ``share_up``, ``share_down``.
    scores
        Histograms of both score distributions on common bins: ``low``, ``high``,
        ``baseline``, ``proposed``.
    levels
        Certified-level transitions: ``competence``, ``baseline``, ``proposed`` (level
        labels, ``"none"`` for no level), ``count``.
    quality
        ``metric`` (:data:`QUALITY_METRICS`), ``n``, ``baseline``, ``proposed``,
        ``difference``, ``low``, ``high`` (empty without true abilities).
    quality_by_ability
        By decile of true ability: ``bin``, ``theta_low``, ``theta_high``, ``n``, and per
        rule set (``rules`` = baseline / proposed) ``score_bias``, ``score_rmse``,
        ``level_accuracy``.
    exposure
        v3 only, one row per rule set: ``rules``, ``n_items``, ``n_used``,
        ``share_unused``, ``max_exposure``, ``share_over_20``, ``mean_length``,
        ``overlap``.
    exposure_curves
        Per rule set, every bank challenge's exposure rate, highest first.
    retest_noise
        The noise floor: ``metric`` (:data:`CHANGE_METRICS`), ``n``, ``count``, ``share``
        of the candidates whose result moves between two independent sittings under the
        *baseline* rules (the first ``n_retest`` candidates; empty without them). When the
        selection changes, individual moves include this much re-measurement chance.
    notes
        Codes of what the reader must know (``rescored_only``, ``counterfactual``,
        ``scoring_errors``, ``no_true_ability``), with their numbers.
    n_retest
        Candidates given a second administration (consistency).
    population
        The simulated population's parameters (None for past sessions).
    bank_hash, pixirt_version
        Provenance.
    seconds
        Wall time.
    assumptions
        What the numbers assume, for the report's first screen and its JSON: ``data``
        (``synthetic`` for a simulation, else the source), ``bank`` (hash, size, whether
        it is the built-in synthetic Pix-like bank), ``population``, ``responder`` (misfit
        and incident rates), ``seed``, ``n``, ``n_retest``, the rule sets' ids and hashes,
        and ``inactive``: the changed rules the simulated incidents cannot set off (a
        neutralization rule with no neutralization simulated), each with the rate it needs.
    candidates
        One row per candidate with both rule sets' results (not in :meth:`to_dict`).
    """

    baseline: RuleSetInfo
    proposed: RuleSetInfo
    rules_diff: RuleSetDiff
    source: Source
    n: int
    seed: int
    n_bootstrap: int
    confidence_level: float
    groups: tuple[str, ...]
    selection_changed: bool
    outcomes: pd.DataFrame
    differences: pd.DataFrame
    changes: pd.DataFrame
    gaps: pd.DataFrame
    score_changes: pd.DataFrame
    score_change_stats: dict[str, float]
    scores: pd.DataFrame
    levels: pd.DataFrame
    quality: pd.DataFrame
    quality_by_ability: pd.DataFrame
    exposure: pd.DataFrame
    exposure_curves: dict[str, list[float]]
    retest_noise: pd.DataFrame
    notes: tuple[tuple[str, int], ...]
    n_retest: int
    population: dict[str, Any] | None
    bank_hash: str | None
    pixirt_version: str
    seconds: float = 0.0
    assumptions: dict[str, Any] | None = None
    candidates: pd.DataFrame | None = field(default=None, repr=False)

    # -- numbers -------------------------------------------------------------------------
    def headline(self) -> dict[str, Any]:
        """The first-screen numbers (overall, no group).

        Returns
        -------
        dict
            ``n``, ``changed``, ``worse_off``, ``better_off``, ``lost_certification``,
            ``gained_certification``, ``level_down`` (counts); ``pass_rate_baseline``,
            ``pass_rate_proposed``, ``pass_rate_difference`` with ``_low``/``_high``;
            likewise ``mean_score_*`` and ``mean_level_*``; ``worse_off_share`` with its
            interval; ``n_flags``.
        """
        out: dict[str, Any] = {"n": self.n}
        ch = {r["metric"]: r for r in _rows(self.changes) if r["group"] == "all"}
        for m in CHANGE_METRICS:
            out[m] = int(ch[m]["count"])
        for m in ("worse_off", "better_off", "lost_certification", "changed"):
            out[f"{m}_share"] = float(ch[m]["share"])
            out[f"{m}_low"] = float(ch[m]["low"])
            out[f"{m}_high"] = float(ch[m]["high"])
        diff = {r["metric"]: r for r in _rows(self.differences) if r["group"] == "all"}
        for m in DIFFERENCE_METRICS:
            if m not in diff:
                continue  # a comparison saved before the metric existed
            for col in ("baseline", "proposed", "difference", "low", "high"):
                out[f"{m}_{col}"] = float(diff[m][col])
        out["n_flags"] = int(self.gaps["flagged"].sum()) if len(self.gaps) else 0
        return out

    def level_summary(self) -> pd.DataFrame:
        """Per competence: certified levels raised, lowered, gained and lost.

        Returns
        -------
        pandas.DataFrame
            Indexed by ``competence``: ``n_changed``, ``n_up``, ``n_down`` (a level under
            both rule sets, higher / lower), ``n_gained``, ``n_lost`` (a level under one
            rule set only), ``share_changed``.
        """
        lv = self.levels
        rows = []
        for code, part in lv.groupby("competence", sort=False):
            b = part["baseline"].astype(str)
            p = part["proposed"].astype(str)
            cnt = part["count"].to_numpy()
            nb = b == NO_LEVEL
            np_ = p == NO_LEVEL
            both = (~nb & ~np_).to_numpy()
            bl = pd.to_numeric(b.where(~nb), errors="coerce").to_numpy()
            pl = pd.to_numeric(p.where(~np_), errors="coerce").to_numpy()
            up = int(cnt[both & (pl > bl)].sum()) if both.any() else 0
            down = int(cnt[both & (pl < bl)].sum()) if both.any() else 0
            gained = int(cnt[(nb & ~np_).to_numpy()].sum())
            lost = int(cnt[(~nb & np_).to_numpy()].sum())
            total = int(cnt.sum())
            changed = up + down + gained + lost
            rows.append((code, changed, up, down, gained, lost, changed / total if total else 0.0))
        return pd.DataFrame(
            rows,
            columns=[
                "competence",
                "n_changed",
                "n_up",
                "n_down",
                "n_gained",
                "n_lost",
                "share_changed",
            ],
        ).set_index("competence")

    def level_matrix(self, competence: str | None = None) -> pd.DataFrame:
        """Certified-level transitions as a matrix (baseline rows × proposed columns).

        Parameters
        ----------
        competence
            A competence code, or None for all competences pooled.

        Returns
        -------
        pandas.DataFrame
            Counts; labels ``"none"`` then the levels in increasing order.
        """
        lv = (
            self.levels
            if competence is None
            else self.levels[self.levels["competence"] == competence]
        )
        if competence is not None and lv.empty:
            raise DataError(f"unknown competence {competence!r}", field="competence")
        labels = _level_labels(
            set(self.levels["baseline"].astype(str)) | set(self.levels["proposed"].astype(str))
        )
        mat = lv.pivot_table(
            index="baseline", columns="proposed", values="count", aggfunc="sum", fill_value=0
        )
        return mat.reindex(index=labels, columns=labels, fill_value=0).astype(np.int64)

    def flags(self, lang: Lang = "fr") -> list[str]:
        """The fairness flags in plain words (empty when no group is hurt more than another).

        Parameters
        ----------
        lang
            ``"fr"`` or ``"en"``.

        Returns
        -------
        list of str
            One sentence per flagged gap, largest first.
        """
        from pixirt.simulation import report

        return report.flag_sentences(self, _check_lang(lang))

    def summary(self, lang: Lang = "fr") -> str:
        """The first-screen text: what changes, for how many candidates, who is hurt.

        Parameters
        ----------
        lang
            ``"fr"`` or ``"en"``.
        """
        from pixirt.simulation import report

        return report.summary_text(self, _check_lang(lang))

    def _repr_html_(self) -> str:
        from pixirt.simulation import report

        return report.first_screen_html(self, "fr")

    def __repr__(self) -> str:
        h = self.headline()
        return (
            f"Comparison({self.baseline.id} → {self.proposed.id}, {self.source}, n={self.n}, "
            f"changed={h['changed']}, pass rate {h['pass_rate_difference']:+.4f}, "
            f"flags={h['n_flags']})"
        )

    # -- output --------------------------------------------------------------------------
    def report(self, path: str | os.PathLike[str], lang: Lang = "fr") -> Path:
        """Write the self-contained HTML report (figures embedded; no external resource).

        Parameters
        ----------
        path
            The HTML file to write (atomically).
        lang
            ``"fr"`` (default: the jury works in French) or ``"en"``.

        Returns
        -------
        pathlib.Path
            The file written.
        """
        from pixirt.simulation import report

        return report.write_report(self, path, _check_lang(lang))

    def to_dict(self) -> dict[str, Any]:
        """Every number, JSON-safe (NaN as None); :meth:`from_dict` gives the comparison back.

        The per-candidate table (:attr:`candidates`) is left out.
        """
        out: dict[str, Any] = {
            "kind": "pixirt.Comparison",
            "baseline": _info_dict(self.baseline),
            "proposed": _info_dict(self.proposed),
            "rules_diff": self.rules_diff.to_dict(),
            "source": self.source,
            "n": self.n,
            "seed": self.seed,
            "n_bootstrap": self.n_bootstrap,
            "confidence_level": self.confidence_level,
            "groups": list(self.groups),
            "selection_changed": self.selection_changed,
            "outcomes": {
                "index": [str(i) for i in self.outcomes.index],
                "columns": [str(c) for c in self.outcomes.columns],
                "counts": self.outcomes.to_numpy(dtype=np.int64).tolist(),
            },
            "score_change_stats": _json_map(self.score_change_stats),
            "exposure_curves": {k: list(v) for k, v in self.exposure_curves.items()},
            "notes": [[code, value] for code, value in self.notes],
            "n_retest": self.n_retest,
            "population": self.population,
            "bank_hash": self.bank_hash,
            "pixirt_version": self.pixirt_version,
            "seconds": self.seconds,
            "assumptions": self.assumptions,
            "headline": _json_map(self.headline()),
        }
        for name in _TABLES:
            out[name] = _table_to_dict(getattr(self, name))
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Comparison:
        """Rebuild a comparison from :meth:`to_dict` (without the per-candidate table).

        Raises
        ------
        DataError
            Naming the first missing or malformed field.
        """
        if data.get("kind") != "pixirt.Comparison":
            raise DataError("not a pixirt comparison (kind)", field="kind")
        try:
            diff = data["rules_diff"]
            rules_diff = RuleSetDiff(
                a_id=diff["a"]["id"],
                b_id=diff["b"]["id"],
                a_hash=diff["a"]["hash"],
                b_hash=diff["b"]["hash"],
                changes=tuple(
                    FieldChange(c["path"], c["kind"], c["before"], c["after"])
                    for c in diff["changes"]
                ),
            )
            oc = data["outcomes"]
            outcomes = pd.DataFrame(
                np.asarray(oc["counts"], dtype=np.int64).reshape(
                    len(oc["index"]), len(oc["columns"])
                ),
                index=pd.Index(oc["index"], name="baseline"),
                columns=pd.Index(oc["columns"], name="proposed"),
            )
            tables = {name: _table_from_dict(data[name], name) for name in _TABLES}
            return cls(
                baseline=RuleSetInfo(**data["baseline"]),
                proposed=RuleSetInfo(**data["proposed"]),
                rules_diff=rules_diff,
                source=data["source"],
                n=int(data["n"]),
                seed=int(data["seed"]),
                n_bootstrap=int(data["n_bootstrap"]),
                confidence_level=float(data["confidence_level"]),
                groups=tuple(data["groups"]),
                selection_changed=bool(data["selection_changed"]),
                outcomes=outcomes,
                score_change_stats={
                    k: (math.nan if v is None else float(v))
                    for k, v in data["score_change_stats"].items()
                },
                exposure_curves={
                    k: [float(x) for x in v] for k, v in data["exposure_curves"].items()
                },
                notes=tuple((str(c), int(v)) for c, v in data["notes"]),
                n_retest=int(data["n_retest"]),
                population=data["population"],
                bank_hash=data["bank_hash"],
                pixirt_version=str(data["pixirt_version"]),
                seconds=float(data["seconds"]),
                assumptions=data.get("assumptions"),
                **tables,
            )
        except KeyError as exc:
            raise DataError("missing field", field=str(exc.args[0])) from None

    # -- figures -------------------------------------------------------------------------
    def plot_outcomes(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """Outcome transitions, baseline (rows) → proposed (columns), as a count matrix."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.4, 4.2))
        mat = self.outcomes
        keep_r = mat.sum(axis=1) > 0
        keep_c = mat.sum(axis=0) > 0
        mat = mat.loc[keep_r, keep_c]
        rows = [report.status_label(str(s), lang) for s in mat.index]
        cols = [report.status_label(str(s), lang) for s in mat.columns]
        _heatmap(ax, mat.to_numpy(), rows, cols)
        ax.set_xlabel(report.text("proposed_rules", lang, id=self.proposed.id))
        ax.set_ylabel(report.text("baseline_rules", lang, id=self.baseline.id))
        ax.set_title(report.text("fig_outcomes", lang))
        fig.tight_layout()
        return fig

    def plot_score_changes(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """Histogram of the score differences (proposed − baseline), one bar per change size."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.4, 3.6))
        sc = self.score_changes
        mid = (sc["low"].to_numpy() + sc["high"].to_numpy()) / 2
        width = np.maximum(sc["high"].to_numpy() - sc["low"].to_numpy() + 1, 1) * 0.9
        counts = sc["count"].to_numpy()
        colors = ["#c0392b" if m < 0 else "#2e86c1" if m > 0 else "#95a5a6" for m in mid]
        ax.bar(mid, counts, width=width, color=colors)
        ax.set_yscale("symlog", linthresh=1)
        _numbers(lang, ax.xaxis, ax.yaxis)
        ax.set_xlabel(report.text("fig_score_changes_x", lang))
        ax.set_ylabel(report.text("candidates", lang))
        ax.set_title(report.text("fig_score_changes", lang))
        fig.tight_layout()
        return fig

    def plot_scores(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """The two score distributions on common bins."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.4, 3.6))
        sc = self.scores
        edges = np.append(sc["low"].to_numpy(), sc["high"].to_numpy()[-1])
        for col, color, label in (
            ("baseline", "#7f8c8d", self.baseline.id),
            ("proposed", "#3d68ff", self.proposed.id),
        ):
            ax.stairs(sc[col].to_numpy(), edges, color=color, linewidth=2, label=label)
        _numbers(lang, ax.xaxis, ax.yaxis)
        ax.set_xlabel(report.text("pix_score", lang))
        ax.set_ylabel(report.text("candidates", lang))
        ax.set_title(report.text("fig_scores", lang))
        ax.legend()
        fig.tight_layout()
        return fig

    def plot_groups(self, *, lang: Lang = "fr", axes: Sequence[Axes] | None = None) -> Figure:
        """Change of the pass rate, the mean score and the share worse off, by group, with intervals."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        import matplotlib.pyplot as plt

        if axes is None:
            fig, ax_arr = plt.subplots(
                1, 3, figsize=(11, 0.7 + 0.45 * (len(self.groups) + 1) + 1.2)
            )
            axs = list(np.atleast_1d(ax_arr))
        else:
            axs = list(axes)
            fig = axs[0].figure
        names = ["all", *[g for g in self.groups if g != "all"]]
        labels = [report.group_label(g, lang) for g in names]
        specs = (
            ("pass_rate", self.differences, "difference", 100.0, "fig_groups_pass"),
            ("mean_score", self.differences, "difference", 1.0, "fig_groups_score"),
            ("worse_off", self.changes, "share", 100.0, "fig_groups_worse"),
        )
        for ax, (metric, table, col, scale, title) in zip(axs, specs, strict=False):
            t = table[table["metric"] == metric].set_index("group").reindex(names)
            y = np.arange(len(names))[::-1]
            val = t[col].to_numpy(dtype=float) * scale
            lo = t["low"].to_numpy(dtype=float) * scale
            hi = t["high"].to_numpy(dtype=float) * scale
            err = np.vstack([np.maximum(val - lo, 0), np.maximum(hi - val, 0)])
            colors = ["#34495e" if g == "all" else "#3d68ff" for g in names]
            ax.errorbar(val, y, xerr=err, fmt="none", ecolor="#7f8c8d", capsize=4)
            ax.scatter(val, y, color=colors, zorder=3)
            ax.axvline(0, color="#bdc3c7", linewidth=1)
            ax.set_yticks(y, labels)
            _numbers(lang, ax.xaxis)
            ax.set_title(report.text(title, lang), fontsize=10)
            ax.margins(x=0.15)
        fig.tight_layout()
        return fig

    def plot_levels(
        self, competence: str | None = None, *, lang: Lang = "fr", ax: Axes | None = None
    ) -> Figure:
        """Certified-level transitions (one competence, or all pooled) as a count matrix."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.0, 5.0))
        mat = self.level_matrix(competence)
        labels = [report.level_label(str(x), lang) for x in mat.index]
        _heatmap(ax, mat.to_numpy(), labels, labels)
        ax.set_xlabel(report.text("proposed_rules", lang, id=self.proposed.id))
        ax.set_ylabel(report.text("baseline_rules", lang, id=self.baseline.id))
        key = "fig_levels_all" if competence is None else "fig_levels_one"
        ax.set_title(report.text(key, lang, code=competence or ""))
        fig.tight_layout()
        return fig

    def plot_quality(self, *, lang: Lang = "fr", axes: Sequence[Axes] | None = None) -> Figure:
        """Score bias and RMSE, and level accuracy, by decile of true ability, for both rule sets."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        import matplotlib.pyplot as plt

        if axes is None:
            fig, ax_arr = plt.subplots(1, 3, figsize=(12, 3.6))
            axs = list(np.atleast_1d(ax_arr))
        else:
            axs = list(axes)
            fig = axs[0].figure
        q = self.quality_by_ability
        if q.empty:
            for ax in axs:
                ax.text(0.5, 0.5, report.text("no_true_ability", lang), ha="center", va="center")
                ax.set_axis_off()
            return fig
        for ax, col, title in zip(
            axs,
            ("score_bias", "score_rmse", "level_accuracy"),
            ("fig_quality_bias", "fig_quality_rmse", "fig_quality_accuracy"),
            strict=False,
        ):
            for side, color, label in (
                ("baseline", "#7f8c8d", self.baseline.id),
                ("proposed", "#3d68ff", self.proposed.id),
            ):
                part = q[q["rules"] == side]
                x = (part["theta_low"].to_numpy() + part["theta_high"].to_numpy()) / 2
                ax.plot(x, part[col].to_numpy(dtype=float), marker="o", color=color, label=label)
            if col == "score_bias":
                ax.axhline(0, color="#bdc3c7", linewidth=1)
            _numbers(lang, ax.xaxis, ax.yaxis)
            ax.set_xlabel(report.text("true_ability", lang))
            ax.set_title(report.text(title, lang), fontsize=10)
        axs[0].legend(fontsize=8)
        fig.tight_layout()
        return fig

    def plot_exposure(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """v3: every challenge's exposure rate, highest first, for both rule sets."""
        from pixirt.simulation import report

        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.4, 3.6))
        if not self.exposure_curves:
            ax.text(0.5, 0.5, report.text("no_exposure", lang), ha="center", va="center")
            ax.set_axis_off()
            return fig
        for side, color, label in (
            ("baseline", "#7f8c8d", self.baseline.id),
            ("proposed", "#3d68ff", self.proposed.id),
        ):
            curve = np.asarray(self.exposure_curves.get(side, []))
            if len(curve):
                ax.plot(np.arange(1, len(curve) + 1), 100 * curve, color=color, label=label)
        ax.set_xscale("log")
        _numbers(lang, ax.xaxis, ax.yaxis)
        ax.set_xlabel(report.text("fig_exposure_x", lang))
        ax.set_ylabel(report.text("fig_exposure_y", lang))
        ax.set_title(report.text("fig_exposure", lang))
        ax.legend()
        fig.tight_layout()
        return fig

    # -- construction from simulations -----------------------------------------------------
    @classmethod
    def from_frames(
        cls,
        baseline: pd.DataFrame,
        proposed: pd.DataFrame,
        *,
        baseline_rules: RuleSet,
        proposed_rules: RuleSet,
        n_bootstrap: int = 1000,
        confidence_level: float = 0.95,
        seed: int = 0,
    ) -> Comparison:
        """Compare two :func:`~pixirt.simulation.runner.simulate` frames of the same candidates.

        For results already simulated (read back from Parquet, say). The rows must be the
        same candidates in the same order (same ``index``). Measurement quality uses
        ``true_theta`` for v3 rule sets; v2 level accuracy needs the population and is
        only given by :func:`compare`.

        Parameters
        ----------
        baseline, proposed
            The two frames (``SimulationResult.frame``).
        baseline_rules, proposed_rules
            The rule sets they were simulated under.
        n_bootstrap, confidence_level, seed
            As in :func:`compare`.
        """
        n_bootstrap, confidence_level = _check_bootstrap(n_bootstrap, confidence_level)
        if len(baseline) != len(proposed) or len(baseline) == 0:
            raise DataError(
                f"the frames must hold the same candidates; got {len(baseline)} and {len(proposed)} rows",
                field="proposed",
            )
        if "index" in baseline and "index" in proposed:
            if not np.array_equal(baseline["index"].to_numpy(), proposed["index"].to_numpy()):
                raise DataError("the frames hold different candidates (index)", field="index")
        t0 = time.perf_counter()
        codes = _codes(baseline, proposed)
        theta = (
            baseline["true_theta"].to_numpy(dtype=np.float64) if "true_theta" in baseline else None
        )
        b = _side_from_frame(baseline, baseline_rules, codes, theta)
        p = _side_from_frame(proposed, proposed_rules, codes, theta)
        group = (
            baseline["group"].astype(str).to_numpy(dtype=object)
            if "group" in baseline
            else np.full(len(baseline), "all", dtype=object)
        )
        return _analyse(
            b,
            p,
            _Shared(group=group, theta=theta, codes=codes, retest_rows=None),
            baseline_rules=baseline_rules,
            proposed_rules=proposed_rules,
            source="simulation",
            seed=seed,
            n_bootstrap=n_bootstrap,
            confidence_level=confidence_level,
            notes=(),
            population=None,
            bank_hash=str(baseline["bank_hash"].iloc[0]) if "bank_hash" in baseline else None,
            t0=t0,
        )


_TABLES: tuple[str, ...] = (
    "retest_noise",
    "differences",
    "changes",
    "gaps",
    "score_changes",
    "scores",
    "levels",
    "quality",
    "quality_by_ability",
    "exposure",
)


# ====================================================================== public entry point
def compare(
    baseline_rules: RuleSet | str | os.PathLike[str],
    proposed_rules: RuleSet | str | os.PathLike[str],
    *,
    population: Population | ObservedPopulation | None = None,
    past_sessions: str | os.PathLike[str] | Iterable[Certification] | None = None,
    bank: ItemBank | None = None,
    n: int | None = None,
    seed: int | None = None,
    responder: Responder | None = None,
    n_retest: int | None = None,
    n_bootstrap: int = 1000,
    confidence_level: float = 0.95,
    workers: int = 1,
    progress: Progress | None = None,
    client: Any = None,
    out: str | os.PathLike[str] | None = None,
) -> Comparison:
    """Apply two rule sets to the same candidates and compare everything the jury weighs.

    Parameters
    ----------
    baseline_rules, proposed_rules
        Rule sets, shipped names (``"pix-v3"``) or TOML paths.
    population
        Who the simulated candidates are (default: :class:`Population` ``()``, one group).
    past_sessions
        Real past sessions instead of a simulation: a JSON-lines file or an iterable of
        :class:`~pixirt.cat.scoring.Certification`. Rescored with their real answers, or
        re-run in simulation when the selection changes (see the module doc); ``n`` is
        then ignored.
    bank
        The challenges (default for simulations: :func:`~pixirt.simulation.pix_like_bank`
        ``(0)``). For past sessions, the bank they were taken on (v3 rescoring of abandoned
        tests and the counterfactual re-runs need it).
    n
        Simulated candidates (default 10,000; the size of an observed population).
    seed
        Seed of the simulation and of the bootstrap; None draws one (recorded in the result).
    responder
        Answering behaviour and incidents (default: the model, no incident).
    n_retest
        Candidates (the first ones) given a second, independent administration under each
        rule set to measure classification consistency; default ``min(n, 10_000)``, 0 to
        skip. Simulations only.
    n_bootstrap
        Bootstrap replicates (≥ 100).
    confidence_level
        Level of every interval (default 0.95).
    workers
        Processes for the simulation (results do not depend on it).
    progress
        Called as ``progress(stage, done, total)`` while simulating and resampling.
    client
        A :class:`distributed.Client`: the simulations run on its cluster, each written
        to a Parquet dataset under ``out``, and only the columns the comparison needs
        are read back. The numbers are identical to a local run's (extra
        ``[distributed]``).
    out
        With ``client``, required: the directory of the datasets ``baseline/``,
        ``proposed/`` (and ``retest_baseline/``, ``retest_proposed/`` for the second
        sittings), each as :func:`~pixirt.simulation.runner.simulate` writes it.

    Returns
    -------
    Comparison
        The numbers, the figures and the report.

    Raises
    ------
    DataError
        Both or neither of a population and past sessions in a contradictory way, a bad
        size or seed.
    RuleError
        A rule set that cannot be loaded.
    """
    base_rules = _load_rules(baseline_rules, "baseline_rules")
    prop_rules = _load_rules(proposed_rules, "proposed_rules")
    n_bootstrap, confidence_level = _check_bootstrap(n_bootstrap, confidence_level)
    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(1)[0] >> 1)
    if not isinstance(seed, int | np.integer) or isinstance(seed, bool) or seed < 0:
        raise DataError(f"seed must be a non-negative int, got {seed!r}", field="seed")
    seed = int(seed)
    if not isinstance(workers, int) or workers < 1:
        raise DataError(f"workers must be a positive int, got {workers!r}", field="workers")
    if client is not None:
        from pixirt._dask import check_client

        check_client(client)
        if past_sessions is not None:
            raise DataError(
                "past sessions are compared in this process; client= runs simulations",
                field="client",
            )
        if workers != 1:
            raise DataError(
                "workers sets local processes; with a Dask client the cluster's workers "
                "run the simulations",
                field="workers",
            )
        if out is None:
            raise DataError(
                "a comparison on a Dask cluster writes its simulations to Parquet datasets: "
                "give out= (a directory the client and every worker reach)",
                field="out",
            )
        if Path(out).exists() and not Path(out).is_dir():
            raise DataError(
                "out must be a directory (it receives the datasets baseline/, proposed/, ...)",
                path=str(out),
                field="out",
            )
    elif out is not None:
        raise DataError(
            "out keeps the datasets of a run on a Dask cluster: give client= too", field="out"
        )
    t0 = time.perf_counter()
    report_progress: Progress = progress if progress is not None else _no_progress
    diff = rules_mod.diff(base_rules, prop_rules)
    if past_sessions is not None:
        if population is not None:
            raise DataError(
                "give either a population to simulate or past sessions, not both",
                field="population",
            )
        return _compare_past(
            base_rules,
            prop_rules,
            diff,
            past_sessions,
            bank=bank,
            seed=seed,
            responder=responder,
            n_bootstrap=n_bootstrap,
            confidence_level=confidence_level,
            progress=report_progress,
            t0=t0,
        )
    from pixirt.simulation.bank import pix_like_bank

    population = population if population is not None else Population()
    bank = bank if bank is not None else pix_like_bank(0)
    if isinstance(population, ObservedPopulation):
        n = len(population) if n is None else n
    n = 10_000 if n is None else n
    if not isinstance(n, int) or isinstance(n, bool) or n < 2:
        raise DataError(f"n must be an int >= 2, got {n!r}", field="n")
    n_retest = min(n, 10_000) if n_retest is None else n_retest
    if not isinstance(n_retest, int) or not (0 <= n_retest <= n):
        raise DataError(f"n_retest must be an int in 0..n, got {n_retest!r}", field="n_retest")
    responder = responder if responder is not None else Responder()
    retest = _retest_responder(responder)
    runs: dict[str, _Run] = {}
    for key, rules, resp, size in (
        ("baseline", base_rules, responder, n),
        ("proposed", prop_rules, responder, n),
        ("retest_baseline", base_rules, retest, n_retest),
        ("retest_proposed", prop_rules, retest, n_retest),
    ):
        if size and client is not None:
            assert out is not None
            runs[key] = _simulate_on_cluster(
                client,
                Path(out) / key,
                population,
                bank,
                rules,
                size,
                seed,
                resp,
                key,
                report_progress,
            )
        elif size:
            runs[key] = _simulate_blocks(
                population, bank, rules, size, seed, resp, workers, key, report_progress
            )
    codes = _codes(runs["baseline"].frame, runs["proposed"].frame)
    theta = runs["baseline"].frame["true_theta"].to_numpy(dtype=np.float64)
    sides = []
    for key, rules in (("baseline", base_rules), ("proposed", prop_rules)):
        truth = _truth(rules, theta, codes, population, bank, n, seed)
        side = _side_from_frame(runs[key].frame, rules, codes, theta, truth=truth)
        if n_retest:
            again = _side_from_frame(runs[f"retest_{key}"].frame, rules, codes, theta[:n_retest])
            side = replace(
                side, retest_status=again.status, retest_cert=again.cert, retest_pix=again.pix
            )
        side = replace(side, exposure=runs[key].exposure)
        sides.append(side)
    group = runs["baseline"].frame["group"].astype(str).to_numpy(dtype=object)
    shared = _Shared(
        group=group,
        theta=theta,
        codes=codes,
        retest_rows=np.arange(n_retest) if n_retest else None,
    )
    return _analyse(
        sides[0],
        sides[1],
        shared,
        baseline_rules=base_rules,
        proposed_rules=prop_rules,
        source="simulation",
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence_level=confidence_level,
        notes=_error_notes(runs["baseline"].frame, runs["proposed"].frame),
        population=_population_dict(population),
        bank_hash=bank.hash,
        t0=t0,
        progress=report_progress,
        n_items=bank.n_items,
        assumptions=_assumptions(
            "synthetic",
            base_rules,
            prop_rules,
            bank=bank,
            population=_population_dict(population),
            responder=responder,
            seed=seed,
            n=n,
            n_retest=n_retest,
        ),
    )


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
    from pixirt.simulation.bank import pix_like_bank

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


def selection_changes(diff: RuleSetDiff) -> list[FieldChange]:
    """The changes of ``diff`` that alter which challenges are asked (:data:`SELECTION_FIELDS`)."""
    return [c for c in diff if c.path.startswith(SELECTION_FIELDS)]


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


# ====================================================================== simulation
@dataclass(frozen=True, slots=True)
class _Exposure:
    counts: npt.NDArray[np.int64]  # per bank challenge, candidates served it
    n: int
    total_length: int


@dataclass(frozen=True, slots=True)
class _Run:
    frame: pd.DataFrame
    exposure: _Exposure | None


@dataclass(frozen=True, slots=True)
class _RetestResponder(Responder):
    """The same candidates answering again: new answer draws, everything else as the first time."""

    def answers(
        self, seed: int, index: npt.ArrayLike, step: npt.ArrayLike, p: FloatArray
    ) -> npt.NDArray[np.bool_]:
        """Whether each answer is right, from a stream of its own."""
        u = streams.uniform(seed, "compare.retest.answer", index, step)
        return np.asarray(u < self.probability(p), dtype=bool)


def _retest_responder(responder: Responder) -> Responder:
    return _RetestResponder(**{f.name: getattr(responder, f.name) for f in fields(responder)})


def _slim(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[_slim_columns(frame.columns)]


def _slim_columns(columns: Iterable[Any]) -> list[Any]:
    return [
        c
        for c in columns
        if c
        in (
            "index",
            "group",
            "true_theta",
            "status",
            "pix_score",
            "n_answers",
            "capacity",
            "global_level",
            "reproducibility_rate",
            "certification_id",
            "jury_review",
        )
        or str(c).startswith("cert_level_")
    ]


def _simulate_blocks(
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    n: int,
    seed: int,
    responder: Responder,
    workers: int,
    stage: str,
    progress: Progress,
) -> _Run:
    """Simulate candidates ``0 .. n − 1`` in blocks (identical to one call), keeping what we need."""
    from pixirt.simulation.runner import simulate

    block = max(_BLOCK, -(-n // 40))
    positions = pd.Index(bank.item_ids)
    counts = np.zeros(bank.n_items, dtype=np.int64)
    total_length = 0
    parts = []
    progress(stage, 0, n)
    for lo in range(0, n, block):
        size = min(block, n - lo)
        res = simulate(
            population,
            bank,
            rules,
            size,
            seed=seed,
            start=lo,
            responder=responder,
            workers=workers,
            chunk_size=min(size, 10_000),
        )
        frame = res.frame
        if rules.algorithm == "v3":
            lists = frame["challenges"].tolist()
            flat = _flatten(lists)
            pos = positions.get_indexer(pd.Index(flat)) if len(flat) else np.zeros(0, np.int64)
            counts += np.bincount(pos[pos >= 0], minlength=bank.n_items)
            total_length += int(frame["n_answers"].sum())
        parts.append(_slim(frame))
        progress(stage, lo + size, n)
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    exposure = _Exposure(counts, n, total_length) if rules.algorithm == "v3" else None
    return _Run(frame, exposure)


def _simulate_on_cluster(
    client: Any,
    out: Path,
    population: Population | ObservedPopulation,
    bank: ItemBank,
    rules: RuleSet,
    n: int,
    seed: int,
    responder: Responder,
    stage: str,
    progress: Progress,
) -> _Run:
    """:func:`_simulate_blocks` on a Dask cluster: a dataset in ``out``, read column by column."""
    import pyarrow.compute as pc

    from pixirt.simulation.runner import simulate

    res = simulate(
        population,
        bank,
        rules,
        n,
        seed=seed,
        responder=responder,
        out=out,
        chunk_size=min(_BLOCK, max(250, -(-n // 40))),
        client=client,
        progress=lambda done, total: progress(stage, done, total),
    )
    dataset = res._dataset
    frame = dataset.read(_slim_columns(dataset.columns))
    exposure = None
    if rules.algorithm == "v3":
        positions = pd.Index(bank.item_ids)
        counts = np.zeros(bank.n_items, dtype=np.int64)
        for table in dataset.tables(["challenges"]):  # one part at a time
            flat = pc.list_flatten(table.column("challenges")).to_numpy(zero_copy_only=False)
            if len(flat):
                pos = positions.get_indexer(pd.Index(flat))
                counts += np.bincount(pos[pos >= 0], minlength=bank.n_items)
        exposure = _Exposure(counts, n, int(frame["n_answers"].sum()))
    return _Run(frame, exposure)


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
    progress: Progress,
    t0: float,
) -> Comparison:
    from pixirt.simulation.replay import counterfactual, read_sessions, replay

    certs = list(
        read_sessions(past_sessions)
        if isinstance(past_sessions, str | os.PathLike)
        else past_sessions
    )
    if len(certs) < 2:
        raise DataError("at least 2 past sessions are needed", field="past_sessions")
    n = len(certs)
    changed_selection = bool(selection_changes(diff))
    notes: list[tuple[str, int]] = []
    frames: list[pd.DataFrame] = []
    if changed_selection:
        if bank is None:
            raise DataError(
                "the proposed rules change which challenges are asked: re-running the past "
                "candidates needs the bank their sessions were taken on",
                field="bank",
            )
        source: Source = "counterfactual"
        for key, rules in (("baseline", base_rules), ("proposed", prop_rules)):
            progress(key, 0, n)
            kwargs: dict[str, Any] = {} if responder is None else {"responder": responder}
            frames.append(counterfactual(certs, rules, bank, seed=seed, **kwargs))
            progress(key, n, n)
        notes.append(("counterfactual", n))
    else:
        source = "replay"
        for key, rules in (("baseline", base_rules), ("proposed", prop_rules)):
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
        notes.append(("rescored_only", n))
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


def _exposure_of(frame: pd.DataFrame, bank: ItemBank, rules: RuleSet) -> _Exposure | None:
    if rules.algorithm != "v3" or "challenges" not in frame:
        return None
    lists = frame["challenges"].tolist()
    flat = _flatten(lists)
    pos = (
        pd.Index(bank.item_ids).get_indexer(pd.Index(flat)) if len(flat) else np.zeros(0, np.int64)
    )
    counts = np.bincount(pos[pos >= 0], minlength=bank.n_items).astype(np.int64)
    return _Exposure(counts, len(frame), int(frame["n_answers"].sum()))


# ====================================================================== per-candidate facts
@dataclass(frozen=True, slots=True)
class _Truth:
    pix: FloatArray
    level: FloatArray  # n × C, 0 = no level
    global_level: ObjArray | None


@dataclass(frozen=True, slots=True)
class _Side:
    """One rule set's results, as arrays over the candidates."""

    status: ObjArray
    pix: FloatArray
    cert: FloatArray  # n × C certificate levels, NaN = no level
    capacity: FloatArray | None
    global_level: ObjArray | None
    truth: _Truth | None = None
    retest_status: ObjArray | None = None
    retest_cert: FloatArray | None = None
    retest_pix: FloatArray | None = None
    exposure: _Exposure | None = None
    review: FloatArray | None = None  # 1.0: sent to a human jury

    @property
    def valid(self) -> BoolArray:
        return np.asarray(self.status == "validated", dtype=bool)


@dataclass(frozen=True, slots=True)
class _Shared:
    group: ObjArray
    theta: FloatArray | None
    codes: tuple[str, ...]
    retest_rows: npt.NDArray[np.int64] | None


def _codes(a: pd.DataFrame, b: pd.DataFrame) -> tuple[str, ...]:
    found = {
        str(c)[len("cert_level_") :]
        for f in (a, b)
        for c in f.columns
        if str(c).startswith("cert_level_")
    }
    return tuple(
        sorted(found, key=lambda c: tuple(int(x) if x.isdigit() else x for x in c.split(".")))
    )


def _side_from_frame(
    frame: pd.DataFrame,
    rules: RuleSet,
    codes: tuple[str, ...],
    theta: FloatArray | None,
    *,
    truth: _Truth | None = None,
) -> _Side:
    status = frame["status"].astype(str).to_numpy(dtype=object)
    pix = pd.to_numeric(frame["pix_score"], errors="coerce").fillna(0).to_numpy(dtype=np.float64)
    valid = status == "validated"
    cert = np.full((len(frame), len(codes)), np.nan)
    for k, code in enumerate(codes):
        col = f"cert_level_{code}"
        if col in frame:
            values = pd.to_numeric(frame[col], errors="coerce").to_numpy(dtype=np.float64)
            cert[:, k] = np.where(values >= 0, values, np.nan)
    cert[~valid] = np.nan
    capacity = (
        pd.to_numeric(frame["capacity"], errors="coerce").to_numpy(dtype=np.float64)
        if "capacity" in frame and rules.algorithm == "v3"
        else None
    )
    global_level = (
        np.where(valid, frame["global_level"].astype(str).to_numpy(dtype=object), NO_LEVEL)
        if "global_level" in frame and rules.algorithm == "v3"
        else None
    )
    if truth is None and theta is not None and rules.algorithm == "v3":
        truth = _truth_v3(rules, theta, codes)
    review = (
        frame["jury_review"].fillna(False).to_numpy(dtype=np.float64)
        if "jury_review" in frame
        else np.zeros(len(frame))
    )
    return _Side(status, pix, cert, capacity, global_level, truth, review=review)


def _review(side: _Side, n: int) -> FloatArray:
    return np.zeros(n) if side.review is None else side.review


def _truth(
    rules: RuleSet,
    theta: FloatArray,
    codes: tuple[str, ...],
    population: Population | ObservedPopulation,
    bank: ItemBank,
    n: int,
    seed: int,
) -> _Truth:
    if rules.algorithm == "v3":
        return _truth_v3(rules, theta, codes)
    return _truth_v2(rules, codes, population, bank, n, seed)


def _truth_v3(rules: RuleSet, theta: FloatArray, codes: tuple[str, ...]) -> _Truth:
    """What the rules give the true ability, without measurement error (a complete test)."""
    from pixirt.cat import scale

    v3 = rules.v3
    decided = scale.outcomes(theta, v3, n_answers=None)
    reject = decided.outcome_names() != "validated"
    level = np.maximum(scale.competence_level_table(theta, v3, codes), 0).astype(np.float64)
    level[reject] = 0.0
    glob = np.where(reject, NO_LEVEL, decided.global_level_names(v3)).astype(object)
    return _Truth(pix=decided.pix_score.astype(np.float64), level=level, global_level=glob)


def _truth_v2(
    rules: RuleSet,
    codes: tuple[str, ...],
    population: Population | ObservedPopulation,
    bank: ItemBank,
    n: int,
    seed: int,
) -> _Truth:
    """v2: the levels and pix an error-free positioning gives (true competence abilities)."""
    from pixirt.cat import v2 as v2_rules

    v2 = rules.v2
    exact = (
        replace(population, positioning_noise=0.0)
        if isinstance(population, Population)
        else population
    )
    levels = np.zeros((n, len(codes)))
    pix = np.zeros(n)
    for lo in range(0, n, _BLOCK):
        size = min(_BLOCK, n - lo)
        cands = exact.sample(size, seed=seed, start=lo, bank=bank)
        assert cands.levels is not None and cands.pix is not None
        col = [cands.competences.index(c) if c in cands.competences else -1 for c in codes]
        lv = np.stack(
            [cands.levels[:, j].astype(np.float64) if j >= 0 else np.zeros(size) for j in col],
            axis=1,
        )
        px = np.stack(
            [cands.pix[:, j].astype(np.float64) if j >= 0 else np.zeros(size) for j in col],
            axis=1,
        )
        tested = v2_rules.tested_competences(v2, lv)
        lv_max, px_max = v2_rules.blocked(v2, lv, px)
        lv = np.where(tested, lv_max, 0.0)
        px = np.where(tested, px_max, 0.0)
        levels[lo : lo + size] = lv
        pix[lo : lo + size] = px.sum(axis=1)
    return _Truth(pix=pix, level=levels, global_level=None)


# ====================================================================== the bootstrap
class _Sums:
    """Per-candidate columns whose (re)weighted sums make every statistic.

    Identical columns are stored once, so identical rule sets give identical sums and
    differences of exactly 0.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.columns: list[FloatArray] = []
        self._seen: dict[bytes, list[int]] = {}

    def add(self, values: npt.ArrayLike) -> int:
        v = np.ascontiguousarray(np.broadcast_to(np.asarray(values, dtype=np.float64), (self.n,)))
        key = v[: min(len(v), 64)].tobytes() + v.sum().tobytes()
        for j in self._seen.get(key, []):
            if np.array_equal(self.columns[j], v):
                return j
        self.columns.append(v)
        self._seen.setdefault(key, []).append(len(self.columns) - 1)
        return len(self.columns) - 1

    def run(self, n_bootstrap: int, seed: int, progress: Progress) -> tuple[FloatArray, FloatArray]:
        """The sums over all candidates, and over ``n_bootstrap`` resamples (rows)."""
        # columns as rows (k × n): ``xt @ weights.T`` is a steady BLAS shape, where
        # ``weights @ x`` (long inner dimension, few outputs) runs erratically threaded
        xt = np.empty((len(self.columns), self.n))
        empty = np.zeros(0)
        for j in range(len(self.columns)):  # copied and released one by one
            xt[j] = self.columns[j]
            self.columns[j] = empty
        self.columns = []
        self._seen = {}
        total = xt.sum(axis=1)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E1EC7]))
        block = max(1, min(n_bootstrap, 4_000_000 // max(self.n, 1)))
        out = np.empty((n_bootstrap, xt.shape[0]))
        weights = np.empty((block, self.n))
        done = 0
        progress("bootstrap", 0, n_bootstrap)
        while done < n_bootstrap:
            b = min(block, n_bootstrap - done)
            for r in range(b):
                weights[r] = np.bincount(rng.integers(0, self.n, self.n), minlength=self.n)
            out[done : done + b] = (xt @ weights[:b].T).T
            done += b
            progress("bootstrap", done, n_bootstrap)
        return total, out


Stat = Callable[[FloatArray], FloatArray]


def _ratio(num: int, den: int) -> Stat:
    def f(s: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(s[..., num] / s[..., den], dtype=np.float64)

    return f


def _rmse(sq: int, den: int) -> Stat:
    def f(s: FloatArray) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.asarray(np.sqrt(s[..., sq] / s[..., den]), dtype=np.float64)

    return f


def _corr(cnt: int, sx: int, sy: int, sxx: int, syy: int, sxy: int) -> Stat:
    def f(s: FloatArray) -> FloatArray:
        n = s[..., cnt]
        with np.errstate(divide="ignore", invalid="ignore"):
            cov = n * s[..., sxy] - s[..., sx] * s[..., sy]
            vx = n * s[..., sxx] - s[..., sx] ** 2
            vy = n * s[..., syy] - s[..., sy] ** 2
            return np.asarray(cov / np.sqrt(vx * vy), dtype=np.float64)

    return f


def _interval(dist: FloatArray, level: float) -> tuple[float, float]:
    d = dist[np.isfinite(dist)]
    if len(d) < max(10, len(dist) // 2):
        return math.nan, math.nan
    lo, hi = np.quantile(d, [(1 - level) / 2, 1 - (1 - level) / 2])
    return float(lo), float(hi)


# ====================================================================== the analysis
def _analyse(
    b: _Side,
    p: _Side,
    shared: _Shared,
    *,
    baseline_rules: RuleSet,
    proposed_rules: RuleSet,
    source: Source,
    seed: int,
    n_bootstrap: int,
    confidence_level: float,
    notes: tuple[tuple[str, int], ...],
    population: dict[str, Any] | None,
    bank_hash: str | None,
    t0: float,
    progress: Progress = _no_progress,
    n_items: int = 0,
    assumptions: dict[str, Any] | None = None,
) -> Comparison:
    from pixirt import __version__

    n = len(b.status)
    n_codes = len(shared.codes)
    group = shared.group
    groups = tuple(sorted({str(g) for g in group})) if n else ("all",)
    group_keys = ["all", *[g for g in groups if g != "all"]]
    member = {g: np.ones(n, dtype=bool) if g == "all" else group == g for g in group_keys}

    # -- per-candidate facts
    vb, vp = b.valid, p.valid
    paired = _paired_flags(b.status, b.pix, b.cert, p.status, p.pix, p.cert)
    noise = _retest_noise(b, shared)
    sum_level_b = np.nan_to_num(b.cert, nan=0.0).sum(axis=1)
    sum_level_p = np.nan_to_num(p.cert, nan=0.0).sum(axis=1)
    per_side = {
        "pass_rate": (vb.astype(float), vp.astype(float), 1.0),
        "mean_score": (b.pix, p.pix, 1.0),
        "mean_level": (sum_level_b, sum_level_p, float(max(n_codes, 1))),
        "jury_review": (_review(b, n), _review(p, n), 1.0),
    }

    # -- columns
    sums = _Sums(n)
    diff_specs: list[tuple[str, str, int, Stat, Stat]] = []
    change_specs: list[tuple[str, str, int, Stat]] = []
    gap_change: dict[tuple[str, str], Stat] = {}
    for g in group_keys:
        m = member[g].astype(float)
        den = sums.add(m)
        count = int(member[g].sum())
        for metric, (yb, yp, scale) in per_side.items():
            fb = _scaled(_ratio(sums.add(yb * m), den), 1.0 / scale)
            fp = _scaled(_ratio(sums.add(yp * m), den), 1.0 / scale)
            diff_specs.append((metric, g, count, fb, fp))
            gap_change[(metric, g)] = _minus(fp, fb)
        for metric, flag in paired.items():
            f = _ratio(sums.add(flag * m), den)
            change_specs.append((metric, g, count, f))
            gap_change[(metric, g)] = f
    # changes by group at equal true ability: the group terms of a least-squares
    # regression of each candidate's change on a linear spline of the true ability and the
    # groups, resampled through their influence (linearised bootstrap)
    cond_change: dict[tuple[str, str], Stat] = {}
    if shared.theta is not None and len(groups) > 1:
        deltas = {
            "pass_rate": vp.astype(float) - vb.astype(float),
            "mean_score": p.pix - b.pix,
            "worse_off": paired["worse_off"].astype(float),
        }
        design = _spline_design(shared.theta, [member[g] for g in groups[1:]])
        xtx = design.T @ design
        hat = np.linalg.solve(xtx + 1e-10 * np.trace(xtx) * np.eye(len(xtx)), design.T).T
        one_col = sums.add(np.ones(n))
        for metric, d in deltas.items():
            coef = hat.T @ d
            resid = d - design @ coef
            for k, g in enumerate(groups):
                if k == 0:
                    cond_change[(metric, g)] = _constant(0.0)
                    continue
                j = design.shape[1] - len(groups) + k
                influence = n * hat[:, j] * resid
                cond_change[(metric, g)] = _shifted(
                    _ratio(sums.add(influence), one_col), float(coef[j])
                )

    # the noise floor of each group's change: how it moves between two sittings under the
    # baseline rules (the retest candidates), when the rules change the tests themselves
    noise_change = (
        _noise_changes(b, shared, member, sums)
        if _tests_differ(baseline_rules, proposed_rules)
        else {}
    )

    # quality (true abilities)
    quality_specs: list[tuple[str, int, Stat | None, Stat | None]] = []
    if shared.theta is not None and b.truth is not None and p.truth is not None:
        one = sums.add(np.ones(n))
        for metric in QUALITY_METRICS:
            fb_q, nq = _quality_stat(metric, b, shared, sums, one)
            fp_q, _ = _quality_stat(metric, p, shared, sums, one)
            if fb_q is not None or fp_q is not None:
                quality_specs.append((metric, nq, fb_q, fp_q))

    total, boot = sums.run(n_bootstrap, seed, progress)
    level = confidence_level

    def estimate(f: Stat) -> tuple[float, FloatArray]:
        return float(f(total)), f(boot)

    # -- differences
    diff_rows = []
    for metric, g, count, fb, fp in diff_specs:
        pb, db = estimate(fb)
        pp, dp = estimate(fp)
        lo, hi = _interval(dp - db, level)
        diff_rows.append((metric, g, count, pb, pp, pp - pb, lo, hi))
    differences = pd.DataFrame(
        diff_rows,
        columns=["metric", "group", "n", "baseline", "proposed", "difference", "low", "high"],
    )
    change_rows = []
    for metric, g, count, f in change_specs:
        share, dist = estimate(f)
        lo, hi = _interval(dist, level)
        k = round(share * count)
        change_rows.append((metric, g, count, k, share, lo, hi))
    changes = pd.DataFrame(
        change_rows, columns=["metric", "group", "n", "count", "share", "low", "high"]
    )

    # -- fairness gaps
    pairs = [(a, c) for i, a in enumerate(groups) for c in groups[i + 1 :]]
    n_tests = len(pairs) * len(GAP_METRICS)
    adj_level = 1 - (1 - level) / max(n_tests, 1)
    gap_rows = []
    for metric, hurt in GAP_METRICS.items():
        for a, c in pairs:
            fa, fc = gap_change[(metric, a)], gap_change[(metric, c)]
            ca, da = estimate(fa)
            cc, dc = estimate(fc)
            dist = da - dc
            gap = ca - cc
            lo, hi = _interval(dist, level)
            alo, ahi = _interval(dist, adj_level)
            if (metric, a) in cond_change:
                ga, gda = estimate(cond_change[(metric, a)])
                gc, gdc = estimate(cond_change[(metric, c)])
                cgap = ga - gc
                clo, chi = _interval(gda - gdc, level)
                calo, cahi = _interval(gda - gdc, adj_level)
            else:
                cgap, clo, chi, calo, cahi = (math.nan,) * 5
            worse_group_change = ca if gap * hurt > 0 else cc
            adverse = worse_group_change * hurt > 0
            excludes_adj = bool(alo > 0 or ahi < 0)
            excludes = bool(lo > 0 or hi < 0)
            # unequal treatment needs more than a gap beyond chance: at equal true ability
            # the gap keeps its direction beyond chance, and it exceeds what a second
            # sitting alone moves between the groups
            same_way = math.isnan(cgap) or (
                (calo > 0 or cahi < 0) and math.copysign(1.0, cgap) == math.copysign(1.0, gap)
            )
            if (metric, a) in noise_change:
                _, nda = estimate(noise_change[(metric, a)])
                _, ndc = estimate(noise_change[(metric, c)])
                nlo, nhi = _interval(nda - ndc, level)
                floor = max(abs(nlo), abs(nhi))
            else:
                floor = math.nan
            above_noise = math.isnan(floor) or abs(gap) > floor
            gap_rows.append(
                (
                    metric,
                    a,
                    c,
                    ca,
                    cc,
                    gap,
                    lo,
                    hi,
                    alo,
                    ahi,
                    cgap,
                    clo,
                    chi,
                    calo,
                    cahi,
                    floor,
                    bool(excludes_adj and adverse and same_way and above_noise),
                    bool(excludes and adverse and not (excludes_adj and same_way and above_noise)),
                )
            )
    gaps = pd.DataFrame(
        gap_rows,
        columns=[
            "metric",
            "group_a",
            "group_b",
            "change_a",
            "change_b",
            "gap",
            "low",
            "high",
            "adj_low",
            "adj_high",
            "cond_gap",
            "cond_low",
            "cond_high",
            "cond_adj_low",
            "cond_adj_high",
            "noise_floor",
            "flagged",
            "watch",
        ],
    )

    # -- quality
    q_rows = []
    for metric, nq, fbq, fpq in quality_specs:
        pb, db = estimate(fbq) if fbq is not None else (math.nan, np.full(n_bootstrap, np.nan))
        pp, dp = estimate(fpq) if fpq is not None else (math.nan, np.full(n_bootstrap, np.nan))
        lo, hi = (
            _interval(dp - db, level)
            if fbq is not None and fpq is not None
            else (math.nan, math.nan)
        )
        q_rows.append((metric, nq, pb, pp, pp - pb, lo, hi))
    quality = pd.DataFrame(
        q_rows, columns=["metric", "n", "baseline", "proposed", "difference", "low", "high"]
    )

    # -- distributions and transitions
    outcomes = _outcome_table(b.status, p.status)
    score_changes, stats = _score_change_tables(p.pix - b.pix)
    scores = _score_histograms(b.pix, p.pix)
    levels = _level_table(b.cert, p.cert, shared.codes)
    by_ability = _quality_by_ability(b, p, shared)
    exposure, curves = _exposure_tables(b, p, n_items)
    candidates = _candidates_frame(b, p, shared, paired)
    if n < MIN_SAMPLE:  # too few for a bootstrap interval to mean anything: none is given
        differences, changes, quality = (
            t.assign(low=math.nan, high=math.nan) for t in (differences, changes, quality)
        )
        gaps = gaps.assign(
            **{
                c: math.nan
                for c in ("low", "high", "adj_low", "adj_high", "cond_low", "cond_high",
                          "cond_adj_low", "cond_adj_high")
            },
            flagged=False,
            watch=False,
        )  # fmt: skip
        notes = (*notes, ("small_sample", n))
    return Comparison(
        baseline=RuleSetInfo.of(baseline_rules),
        proposed=RuleSetInfo.of(proposed_rules),
        rules_diff=rules_mod.diff(baseline_rules, proposed_rules),
        source=source,
        n=n,
        seed=seed,
        n_bootstrap=n_bootstrap,
        confidence_level=confidence_level,
        groups=groups,
        selection_changed=bool(selection_changes(rules_mod.diff(baseline_rules, proposed_rules))),
        outcomes=outcomes,
        differences=differences,
        changes=changes,
        gaps=gaps,
        score_changes=score_changes,
        score_change_stats=stats,
        scores=scores,
        levels=levels,
        quality=quality,
        quality_by_ability=by_ability,
        exposure=exposure,
        exposure_curves=curves,
        retest_noise=noise,
        notes=notes,
        n_retest=0 if shared.retest_rows is None else len(shared.retest_rows),
        population=population,
        bank_hash=bank_hash,
        pixirt_version=__version__,
        seconds=time.perf_counter() - t0,
        candidates=candidates,
        assumptions=assumptions,
    )


def _paired_flags(
    sb: ObjArray, xb: FloatArray, cb: FloatArray, sp: ObjArray, xp: FloatArray, cp: FloatArray
) -> dict[str, BoolArray]:
    """Per candidate, how the second result differs from the first (:data:`CHANGE_METRICS`)."""
    vb = np.asarray(sb == "validated", dtype=bool)
    vp = np.asarray(sp == "validated", dtype=bool)
    lb = np.where(np.isnan(cb), -1.0, cb)  # no level ranks below every level
    lp = np.where(np.isnan(cp), -1.0, cp)
    both = vb & vp
    lost = vb & ~vp
    gained = ~vb & vp
    score_down = both & (xp < xb)
    score_up = both & (xp > xb)
    level_down = both & (lp < lb).any(axis=1)
    level_up = both & (lp > lb).any(axis=1)
    worse = lost | score_down | level_down
    better = gained | score_up | level_up
    changed = (sb != sp) | (xb != xp) | (lb != lp).any(axis=1)
    return {
        "changed": np.asarray(changed, dtype=bool),
        "worse_off": worse & ~better,
        "better_off": better & ~worse,
        "mixed": worse & better,
        "lost_certification": lost,
        "gained_certification": gained,
        "score_down": score_down,
        "score_up": score_up,
        "level_down": level_down,
        "level_up": level_up,
    }


def _tests_differ(baseline: RuleSet, proposed: RuleSet) -> bool:
    """The proposed rules change which challenges are asked (the candidates sit new tests)."""
    return bool(selection_changes(rules_mod.diff(baseline, proposed)))


def _noise_changes(
    b: _Side, shared: _Shared, member: dict[str, BoolArray], sums: _Sums
) -> dict[tuple[str, str], Stat]:
    """Per gap metric and group, the mean change between two sittings under the baseline."""
    rows = shared.retest_rows
    if rows is None or b.retest_status is None or b.retest_pix is None or b.retest_cert is None:
        return {}
    n = len(b.status)
    inside = np.zeros(n, dtype=bool)
    inside[rows] = True
    flags = _paired_flags(
        b.status[rows], b.pix[rows], b.cert[rows], b.retest_status, b.retest_pix, b.retest_cert
    )
    deltas = {metric: np.zeros(n) for metric in GAP_METRICS}
    deltas["pass_rate"][rows] = (b.retest_status == "validated").astype(float) - b.valid[
        rows
    ].astype(float)
    deltas["mean_score"][rows] = b.retest_pix - b.pix[rows]
    deltas["worse_off"][rows] = flags["worse_off"].astype(float)
    out: dict[tuple[str, str], Stat] = {}
    for g, m in member.items():
        w = (m & inside).astype(float)
        den = sums.add(w)
        for metric, d in deltas.items():
            out[(metric, g)] = _ratio(sums.add(d * w), den)
    return out


def _retest_noise(b: _Side, shared: _Shared) -> pd.DataFrame:
    """How results move between two sittings under the *baseline* rules (the noise floor)."""
    cols = ["metric", "n", "count", "share"]
    rows = shared.retest_rows
    if rows is None or b.retest_cert is None or b.retest_pix is None or b.retest_status is None:
        return pd.DataFrame(columns=cols)
    flags = _paired_flags(
        b.status[rows], b.pix[rows], b.cert[rows], b.retest_status, b.retest_pix, b.retest_cert
    )
    m = len(rows)
    return pd.DataFrame(
        [(k, m, int(v.sum()), float(v.mean())) for k, v in flags.items()], columns=cols
    )


def _scaled(f: Stat, k: float) -> Stat:
    if k == 1.0:
        return f
    return lambda s: f(s) * k


def _minus(f: Stat, g: Stat) -> Stat:
    return lambda s: f(s) - g(s)


def _spline_design(theta: FloatArray, dummies: list[BoolArray]) -> FloatArray:
    """Intercept, θ, hinges ``max(0, θ − κ)`` at quantile knots, then one column per dummy."""
    n = len(theta)
    n_knots = int(np.clip(n // 100, 3, 20))
    knots = np.quantile(theta, np.linspace(0, 1, n_knots + 2)[1:-1])
    centre = float(np.median(theta))
    cols = [np.ones(n), theta - centre, *[np.maximum(theta - k, 0.0) for k in knots]]
    cols += [d.astype(np.float64) for d in dummies]
    return np.column_stack(cols)


def _constant(value: float) -> Stat:
    return lambda s: np.full(s.shape[:-1], value)


def _shifted(f: Stat, value: float) -> Stat:
    return lambda s: f(s) + value


def _quality_stat(
    metric: str, side: _Side, shared: _Shared, sums: _Sums, one: int
) -> tuple[Stat | None, int]:
    truth = side.truth
    assert truth is not None and shared.theta is not None
    n = len(side.pix)
    if metric in ("score_bias", "score_rmse", "score_correlation"):
        e = side.pix - truth.pix
        if metric == "score_bias":
            return _ratio(sums.add(e), one), n
        if metric == "score_rmse":
            return _rmse(sums.add(e * e), one), n
        x = side.pix - side.pix.mean()
        y = truth.pix - truth.pix.mean()
        return (
            _corr(one, sums.add(x), sums.add(y), sums.add(x * x), sums.add(y * y), sums.add(x * y)),
            n,
        )
    if metric in ("capacity_bias", "capacity_rmse"):
        if side.capacity is None:
            return None, n
        e = side.capacity - shared.theta
        if metric == "capacity_bias":
            return _ratio(sums.add(e), one), n
        return _rmse(sums.add(e * e), one), n
    cert0 = np.nan_to_num(side.cert, nan=0.0)
    n_codes = max(cert0.shape[1], 1)
    if metric == "level_accuracy":
        return _scaled(_ratio(sums.add((cert0 == truth.level).sum(axis=1)), one), 1 / n_codes), n
    if metric == "level_accuracy_within_one":
        near = (np.abs(cert0 - truth.level) <= 1).sum(axis=1)
        return _scaled(_ratio(sums.add(near), one), 1 / n_codes), n
    if metric == "global_level_accuracy":
        if side.global_level is None or truth.global_level is None:
            return None, n
        return _ratio(sums.add(side.global_level == truth.global_level), one), n
    rows = shared.retest_rows
    if rows is None or side.retest_cert is None or side.retest_pix is None:
        return None, 0
    m = len(rows)
    in_retest = np.zeros(n)
    in_retest[rows] = 1.0
    den = sums.add(in_retest)
    if metric == "level_consistency":
        same = np.zeros(n)
        same[rows] = (cert0[rows] == np.nan_to_num(side.retest_cert, nan=0.0)).sum(axis=1)
        return _scaled(_ratio(sums.add(same), den), 1 / n_codes), m
    # score_test_retest
    x = np.zeros(n)
    y = np.zeros(n)
    x[rows] = side.pix[rows] - side.pix[rows].mean()
    y[rows] = side.retest_pix - side.retest_pix.mean()
    return (
        _corr(den, sums.add(x), sums.add(y), sums.add(x * x), sums.add(y * y), sums.add(x * y)),
        m,
    )


def _outcome_table(sb: ObjArray, sp: ObjArray) -> pd.DataFrame:
    present = set(sb.tolist()) | set(sp.tolist())
    labels = [x for x in STATUSES if x in present] + sorted(present - set(STATUSES))
    pos = {label: i for i, label in enumerate(labels)}
    ib = np.array([pos[x] for x in sb.tolist()], dtype=np.int64)
    ip = np.array([pos[x] for x in sp.tolist()], dtype=np.int64)
    k = len(labels)
    counts = np.bincount(ib * k + ip, minlength=k * k).reshape(k, k)
    return pd.DataFrame(
        counts.astype(np.int64),
        index=pd.Index(labels, name="baseline"),
        columns=pd.Index(labels, name="proposed"),
    )


def _score_change_tables(d: FloatArray) -> tuple[pd.DataFrame, dict[str, float]]:
    di = np.round(d).astype(np.int64)
    lo, hi = int(di.min()), int(di.max())
    span = hi - lo + 1
    if span <= 61:
        edges = np.arange(lo, hi + 2)
    else:  # about 40 bins of equal integer width, one of them starting at 0
        width = math.ceil(span / 40)
        start = -width * math.ceil(-lo / width) if lo < 0 else lo
        edges = np.arange(start, hi + width + 1, width)
    counts = np.histogram(di, bins=edges)[0] if len(edges) > 1 else np.array([len(di)])
    table = pd.DataFrame(
        {"low": edges[:-1], "high": edges[1:] - 1, "count": counts.astype(np.int64)}
    )
    table = table[table["count"] > 0].reset_index(drop=True)
    qs = np.quantile(d, [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99])
    stats = {
        "mean": float(d.mean()),
        "min": float(d.min()),
        "max": float(d.max()),
        **{
            f"q{round(100 * q):02d}": float(v)
            for q, v in zip((0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99), qs, strict=True)
        },
        "share_up": float((d > 0).mean()),
        "share_down": float((d < 0).mean()),
    }
    return table, stats


def _score_histograms(xb: FloatArray, xp: FloatArray) -> pd.DataFrame:
    lo = float(min(xb.min(), xp.min()))
    hi = float(max(xb.max(), xp.max()))
    if hi <= lo:
        hi = lo + 1
    edges = np.linspace(lo, hi, 41)
    return pd.DataFrame(
        {
            "low": edges[:-1],
            "high": edges[1:],
            "baseline": np.histogram(xb, bins=edges)[0].astype(np.int64),
            "proposed": np.histogram(xp, bins=edges)[0].astype(np.int64),
        }
    )


def _level_labels(present: set[str]) -> list[str]:
    levels = sorted((x for x in present if x != NO_LEVEL), key=lambda s: float(s))
    return [NO_LEVEL, *levels]


def _label(values: FloatArray) -> ObjArray:
    out = np.full(values.shape, NO_LEVEL, dtype=object)
    ok = ~np.isnan(values)
    out[ok] = [str(int(v)) for v in values[ok]]
    return out


def _level_table(cb: FloatArray, cp: FloatArray, codes: tuple[str, ...]) -> pd.DataFrame:
    cols = ["competence", "baseline", "proposed", "count"]
    if not codes or cb.shape[0] == 0:
        return pd.DataFrame(columns=cols)
    # levels 0..8 as 1..9, no level as 0; one integer key per (competence, baseline, proposed)
    b = np.where(np.isnan(cb), 0, cb + 1).astype(np.int64)
    p = np.where(np.isnan(cp), 0, cp + 1).astype(np.int64)
    comp = np.broadcast_to(np.arange(len(codes)), b.shape)
    keys, counts = np.unique((comp * 16 + b) * 16 + p, return_counts=True)
    names = np.array([NO_LEVEL, *[str(v) for v in range(15)]], dtype=object)
    return pd.DataFrame(
        {
            "competence": np.asarray(codes, dtype=object)[keys // 256],
            "baseline": names[(keys // 16) % 16],
            "proposed": names[keys % 16],
            "count": counts.astype(np.int64),
        },
        columns=cols,
    )


def _quality_by_ability(b: _Side, p: _Side, shared: _Shared) -> pd.DataFrame:
    cols = [
        "bin",
        "theta_low",
        "theta_high",
        "n",
        "rules",
        "score_bias",
        "score_rmse",
        "level_accuracy",
    ]
    theta = shared.theta
    if theta is None or b.truth is None or p.truth is None:
        return pd.DataFrame(columns=cols)
    edges = np.quantile(theta, np.linspace(0, 1, _ABILITY_BINS + 1))
    bins = np.clip(np.searchsorted(edges[1:-1], theta, side="right"), 0, _ABILITY_BINS - 1)
    rows = []
    for side_name, side in (("baseline", b), ("proposed", p)):
        assert side.truth is not None
        e = side.pix - side.truth.pix
        acc = (np.nan_to_num(side.cert, nan=0.0) == side.truth.level).mean(axis=1)
        for k in range(_ABILITY_BINS):
            m = bins == k
            if not m.any():
                continue
            rows.append(
                (
                    k,
                    float(edges[k]),
                    float(edges[k + 1]),
                    int(m.sum()),
                    side_name,
                    float(e[m].mean()),
                    float(np.sqrt(np.mean(e[m] ** 2))),
                    float(acc[m].mean()),
                )
            )
    return pd.DataFrame(rows, columns=cols)


def _exposure_tables(
    b: _Side, p: _Side, n_items: int
) -> tuple[pd.DataFrame, dict[str, list[float]]]:
    cols = [
        "rules",
        "n_items",
        "n_used",
        "share_unused",
        "max_exposure",
        "share_over_20",
        "mean_length",
        "overlap",
    ]
    rows = []
    curves: dict[str, list[float]] = {}
    for name, side in (("baseline", b), ("proposed", p)):
        ex = side.exposure
        if ex is None or ex.n < 2:
            continue
        c = ex.counts.astype(np.float64)
        rate = c / ex.n
        mean_len = ex.total_length / ex.n
        overlap = (
            float((c * (c - 1)).sum() / (ex.n * (ex.n - 1) * mean_len)) if mean_len else math.nan
        )
        rows.append(
            (
                name,
                len(c),
                int((c > 0).sum()),
                float((c == 0).mean()) if len(c) else math.nan,
                float(rate.max()) if len(c) else math.nan,
                float((rate > 0.2).mean()) if len(c) else math.nan,
                float(mean_len),
                overlap,
            )
        )
        curves[name] = [float(x) for x in np.sort(rate)[::-1]]
    del n_items
    return pd.DataFrame(rows, columns=cols), curves


def _candidates_frame(
    b: _Side, p: _Side, shared: _Shared, paired: Mapping[str, BoolArray]
) -> pd.DataFrame:
    cols: dict[str, Any] = {"group": shared.group}
    if shared.theta is not None:
        cols["true_theta"] = shared.theta
    cols.update(
        baseline_status=b.status,
        proposed_status=p.status,
        baseline_pix=b.pix,
        proposed_pix=p.pix,
    )
    for k, code in enumerate(shared.codes):
        cols[f"baseline_level_{code}"] = b.cert[:, k]
        cols[f"proposed_level_{code}"] = p.cert[:, k]
    cols.update(paired)
    return pd.DataFrame(cols)


def _flatten(lists: list[Any]) -> ObjArray:
    if not lists:
        return np.zeros(0, dtype=object)
    return np.asarray(np.concatenate([np.asarray(x, dtype=object) for x in lists]), dtype=object)


def _rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [str(c) for c in frame.columns]
    return [dict(zip(cols, r, strict=True)) for r in frame.itertuples(index=False, name=None)]


# ====================================================================== (de)serialisation
def _info_dict(info: RuleSetInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "hash": info.hash,
        "algorithm": info.algorithm,
        "source": info.source,
        "content": info.content,
    }


def _json_value(v: Any) -> Any:
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if not math.isfinite(float(v)) else float(v)
    return v


def _json_map(m: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _json_value(v) for k, v in m.items()}


def _table_to_dict(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "columns": [str(c) for c in frame.columns],
        "rows": [[_json_value(v) for v in row] for row in frame.itertuples(index=False)],
    }


def _table_from_dict(data: Mapping[str, Any], name: str) -> pd.DataFrame:
    try:
        cols = list(data["columns"])
        rows = [[math.nan if v is None else v for v in r] for r in data["rows"]]
    except (KeyError, TypeError):
        raise DataError("expected {columns, rows}", field=name) from None
    return pd.DataFrame(rows, columns=cols)


# ====================================================================== matplotlib helpers
def _axes(ax: Axes | None, size: tuple[float, float]) -> tuple[Figure, Axes]:
    import matplotlib.pyplot as plt

    if ax is None:
        fig, new = plt.subplots(figsize=size)
        return fig, new
    return cast("Figure", ax.figure), ax


def _numbers(lang: Lang, *axes: Any) -> None:
    """Tick labels in the report's language (``1 234,5`` in French), never an offset or 1e−17.

    ``axes`` are matplotlib ``Axis`` objects (``ax.xaxis``, ``ax.yaxis``) holding numbers.
    """
    from matplotlib.ticker import FuncFormatter, NullFormatter

    from pixirt.simulation import report

    def label(value: float, _pos: int | None = None) -> str:
        if not math.isfinite(value):
            return ""
        scale = max(1.0, abs(value))
        for decimals in (0, 1, 2, 3):  # the fewest decimals that show the tick exactly
            if abs(value - round(value, decimals)) <= 1e-9 * scale:
                break
        return report.format_number(value, decimals, lang)

    for axis in axes:
        axis.set_major_formatter(FuncFormatter(label))
        if axis.get_scale() in ("log", "symlog"):
            axis.set_minor_formatter(NullFormatter())


def _heatmap(ax: Axes, mat: npt.NDArray[Any], rows: list[str], cols: list[str]) -> None:
    shown = np.log1p(mat.astype(np.float64))
    top = float(shown.max()) if shown.size else 0.0
    # the colour scale starts at 0: a matrix of one value (one outcome) is not blank
    ax.imshow(shown, cmap="Blues", aspect="auto", vmin=0.0, vmax=top if top > 0 else 1.0)
    ax.set_xticks(np.arange(len(cols)), cols, rotation=30, ha="right")
    ax.set_yticks(np.arange(len(rows)), rows)
    for i in range(mat.shape[0]):
        for j in range(mat.shape[1]):
            if mat[i, j]:
                ax.text(
                    j,
                    i,
                    f"{int(mat[i, j]):,}".replace(",", "\u202f"),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if shown[i, j] > 0.6 * top else "#1b2631",
                    fontweight="bold" if i != j else "normal",
                )
