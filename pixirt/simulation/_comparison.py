"""The result of a rule comparison.

:class:`Comparison`, its headline numbers, figures, report and JSON form.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pixirt._json import decode_float
from pixirt.exceptions import DataError
from pixirt.rules import RuleSet, RuleSetDiff
from pixirt.simulation import _first_screen, _flags, _report_html, _words
from pixirt.simulation._analysis import _analysis_fields
from pixirt.simulation._comparison_inputs import _check_bootstrap, _check_lang
from pixirt.simulation._comparison_json import _json_map, _rows, _table_from_dict, _table_to_dict
from pixirt.simulation._comparison_names import (
    CHANGE_METRICS,
    DIFFERENCE_METRICS,
    NO_LEVEL,
    Lang,
    Source,
)
from pixirt.simulation._comparison_plots import _axes, _heatmap, _numbers
from pixirt.simulation._distributions import _level_labels
from pixirt.simulation._rule_set_info import RuleSetInfo, _info_dict
from pixirt.simulation._sides import _codes, _Shared, _Side, _side_from_frame

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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
        return _flags.flag_sentences(self, _check_lang(lang))

    def summary(self, lang: Lang = "fr") -> str:
        """The first-screen text: what changes, for how many candidates, who is hurt.

        Parameters
        ----------
        lang
            ``"fr"`` or ``"en"``.
        """
        return _first_screen.summary_text(self, _check_lang(lang))

    def _repr_html_(self) -> str:
        return _first_screen.first_screen_html(self, "fr")

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
        return _report_html.write_report(self, path, _check_lang(lang))

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
            "exposure_curves": _json_map(self.exposure_curves),
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
            rules_diff = RuleSetDiff.from_dict(data["rules_diff"])
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
                    k: decode_float(v, field=f"score_change_stats.{k}")
                    for k, v in data["score_change_stats"].items()
                },
                exposure_curves={
                    k: [decode_float(x, field=f"exposure_curves.{k}") for x in v]
                    for k, v in data["exposure_curves"].items()
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
        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.4, 4.2))
        mat = self.outcomes
        keep_r = mat.sum(axis=1) > 0
        keep_c = mat.sum(axis=0) > 0
        mat = mat.loc[keep_r, keep_c]
        rows = [_words.status_label(str(s), lang) for s in mat.index]
        cols = [_words.status_label(str(s), lang) for s in mat.columns]
        _heatmap(ax, mat.to_numpy(), rows, cols)
        ax.set_xlabel(_words.text("proposed_rules", lang, id=self.proposed.id))
        ax.set_ylabel(_words.text("baseline_rules", lang, id=self.baseline.id))
        ax.set_title(_words.text("fig_outcomes", lang))
        fig.tight_layout()
        return fig

    def plot_score_changes(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """Histogram of the score differences (proposed − baseline), one bar per change size."""
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
        ax.set_xlabel(_words.text("fig_score_changes_x", lang))
        ax.set_ylabel(_words.text("candidates", lang))
        ax.set_title(_words.text("fig_score_changes", lang))
        fig.tight_layout()
        return fig

    def plot_scores(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """The two score distributions on common bins."""
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
        ax.set_xlabel(_words.text("pix_score", lang))
        ax.set_ylabel(_words.text("candidates", lang))
        ax.set_title(_words.text("fig_scores", lang))
        ax.legend()
        fig.tight_layout()
        return fig

    def plot_groups(self, *, lang: Lang = "fr", axes: Sequence[Axes] | None = None) -> Figure:
        """Change of the pass rate, the mean score and the share worse off, by group, with intervals."""
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
        labels = [_words.group_label(g, lang) for g in names]
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
            ax.set_title(_words.text(title, lang), fontsize=10)
            ax.margins(x=0.15)
        fig.tight_layout()
        return fig

    def plot_levels(
        self, competence: str | None = None, *, lang: Lang = "fr", ax: Axes | None = None
    ) -> Figure:
        """Certified-level transitions (one competence, or all pooled) as a count matrix."""
        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.0, 5.0))
        mat = self.level_matrix(competence)
        labels = [_words.level_label(str(x), lang) for x in mat.index]
        _heatmap(ax, mat.to_numpy(), labels, labels)
        ax.set_xlabel(_words.text("proposed_rules", lang, id=self.proposed.id))
        ax.set_ylabel(_words.text("baseline_rules", lang, id=self.baseline.id))
        key = "fig_levels_all" if competence is None else "fig_levels_one"
        ax.set_title(_words.text(key, lang, code=competence or ""))
        fig.tight_layout()
        return fig

    def plot_quality(self, *, lang: Lang = "fr", axes: Sequence[Axes] | None = None) -> Figure:
        """Score bias and RMSE, and level accuracy, by decile of true ability, for both rule sets."""
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
                ax.text(0.5, 0.5, _words.text("no_true_ability", lang), ha="center", va="center")
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
            ax.set_xlabel(_words.text("true_ability", lang))
            ax.set_title(_words.text(title, lang), fontsize=10)
        axs[0].legend(fontsize=8)
        fig.tight_layout()
        return fig

    def plot_exposure(self, *, lang: Lang = "fr", ax: Axes | None = None) -> Figure:
        """v3: every challenge's exposure rate, highest first, for both rule sets."""
        lang = _check_lang(lang)
        fig, ax = _axes(ax, (6.4, 3.6))
        if not self.exposure_curves:
            ax.text(0.5, 0.5, _words.text("no_exposure", lang), ha="center", va="center")
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
        ax.set_xlabel(_words.text("fig_exposure_x", lang))
        ax.set_ylabel(_words.text("fig_exposure_y", lang))
        ax.set_title(_words.text("fig_exposure", lang))
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
        """Compare two :func:`~pixirt.simulation.simulate` frames of the same candidates.

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


def _analyse(b: _Side, p: _Side, shared: _Shared, **options: Any) -> Comparison:
    """The :class:`Comparison` of two sides (options as :func:`_analysis_fields` takes them)."""
    return Comparison(**_analysis_fields(b, p, shared, **options))
