"""Diagnostic plots (matplotlib).

Item characteristic curves with empirical proportions, item and test information, the
Wright map, DIF curves by group and the drift scatter.

Every function draws on ``ax`` when given (else on a new figure) and returns the axes
(the figure for the two-panel Wright map), so plots compose and can be tested.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from pixirt._item_bank import ItemBank
from pixirt._renamed import renamed
from pixirt._response_log import ResponseLog
from pixirt.calibration._ability import align, grid, leave_one_out, resolve_prior, standard_error
from pixirt.calibration._binned_fit import equal_count_bins
from pixirt.calibration._linking import LinkingResult
from pixirt.exceptions import DataError
from pixirt.models import probability

__all__ = ["plot_dif", "plot_drift", "plot_icc", "plot_information", "plot_wright_map"]

FloatArray = npt.NDArray[np.float64]


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=(6, 4))
    return new


def _theta_range(bank: ItemBank, theta: npt.ArrayLike | None) -> FloatArray:
    if theta is not None:
        return np.asarray(theta, dtype=np.float64)
    sd = np.sqrt(bank.latent_variance)
    return np.linspace(bank.latent_mean - 4 * sd, bank.latent_mean + 4 * sd, 201)


def _position(bank: ItemBank, item: Any) -> int:
    pos = pd.Index(bank.item_ids).get_indexer([item])[0]
    if pos < 0:
        raise DataError(f"item {item!r} is not in the bank", field="item")
    return int(pos)


def empirical_icc(
    log: ResponseLog, bank: ItemBank, item: Any, *, n_bins: int = 10, n_quad: int = 61
) -> pd.DataFrame:
    """Observed and expected proportions right by bins of leave-one-out ability.

    The persons who answered ``item`` are cut into ``n_bins`` equal-count bins of
    their EAP computed *without* that answer (as :func:`~pixirt.calibration.binned_fit`).

    Returns
    -------
    pandas.DataFrame
        One row per bin: ``theta`` (mean leave-one-out EAP), ``n``, ``observed``,
        ``expected`` (mean posterior-predictive probability), ``low`` and ``high``
        (Wilson 95% interval of the observed proportion).
    """
    _position(bank, item)
    log_pos = pd.Index(log.item_ids).get_indexer([item])[0]
    if log_pos < 0:
        raise DataError(f"item {item!r} is not in the log", field="item")
    takers = np.unique(log.person_index[log.indices == log_pos])
    if len(takers) < n_bins:
        raise DataError(
            f"item {item!r} has {len(takers)} answers, fewer than n_bins={n_bins}", field="item"
        )
    sub = log.subset(persons=log.person_ids[takers])
    al = align(sub, bank)
    nodes, log_w = grid(*resolve_prior(bank, None), n_quad)
    loo = leave_one_out(al, nodes, log_w)
    sel = np.flatnonzero(pd.Index(sub.item_ids).get_indexer([item])[0] == al.indices)
    bins = equal_count_bins(
        np.zeros(len(sel), dtype=np.int32), loo.theta[sel], 1, np.array([n_bins], dtype=np.int64)
    )
    n = np.bincount(bins, minlength=n_bins).astype(np.float64)
    y = al.answers[sel].astype(np.float64)
    obs = np.bincount(bins, weights=y, minlength=n_bins) / n
    exp = np.bincount(bins, weights=loo.predictive[sel], minlength=n_bins) / n
    theta = np.bincount(bins, weights=loo.theta[sel], minlength=n_bins) / n
    z = stats.norm.isf(0.025)
    centre = (obs + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(obs * (1 - obs) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return pd.DataFrame(
        {
            "theta": theta,
            "n": n.astype(np.int64),
            "observed": obs,
            "expected": exp,
            "low": np.clip(np.minimum(centre - half, obs), 0.0, 1.0),
            "high": np.clip(np.maximum(centre + half, obs), 0.0, 1.0),
        }
    )


def plot_icc(
    bank: ItemBank,
    item: Any,
    *,
    log: ResponseLog | None = None,
    n_bins: int = 10,
    theta: npt.ArrayLike | None = None,
    ax: Any = None,
) -> Any:
    """Item characteristic curve, with observed proportions when a log is given.

    Parameters
    ----------
    bank
        Item parameters.
    item
        The item id.
    log
        Answers: adds, per bin of leave-one-out ability (:func:`empirical_icc`), the
        observed proportion right with its 95% interval (filled) and the model's
        expected proportion for the same persons (hollow).
    n_bins
        Bins of the empirical proportions.
    theta
        Abilities of the curve (default: latent mean ± 4 sd).
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
        The axes.
    """
    pos = _position(bank, item)
    ax = _axes(ax)
    t = _theta_range(bank, theta)
    p = probability(t, bank.a[pos], bank.b[pos], bank.c[pos])
    ax.plot(t, p, color="C0", label="model")
    if log is not None:
        table = empirical_icc(log, bank, item, n_bins=n_bins)
        ax.errorbar(
            table["theta"],
            table["observed"],
            yerr=[table["observed"] - table["low"], table["high"] - table["observed"]],
            fmt="o",
            color="C1",
            capsize=2,
            label="observed (95% CI)",
        )
        ax.plot(table["theta"], table["expected"], "o", mfc="none", color="C0", label="expected")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("θ")
    ax.set_ylabel("P(correct)")
    ax.set_title(f"item {item}: a={bank.a[pos]:.2f}, b={bank.b[pos]:.2f}")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_information(
    bank: ItemBank,
    items: Sequence[Any] | None = None,
    *,
    theta: npt.ArrayLike | None = None,
    show_items: bool = True,
    show_se: bool = True,
    ax: Any = None,
) -> Any:
    """Item and test information, with the standard-error curve on a second axis.

    Parameters
    ----------
    bank
        Item parameters.
    items
        Item ids forming the test (default: the whole bank).
    theta
        Abilities (default: latent mean ± 4 sd).
    show_items
        Draw each item's information (thin lines) under the test's.
    show_se
        Draw ``1 / sqrt(I(θ))`` on a right-hand axis.
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
        The (left) axes.
    """
    ax = _axes(ax)
    t = _theta_range(bank, theta)
    info = bank.information(t, items)
    if show_items:
        ax.plot(t, info, color="0.7", linewidth=0.6)
    ax.plot(t, info.sum(axis=1), color="C0", linewidth=2, label="test information")
    ax.set_xlabel("θ")
    ax.set_ylabel("information")
    if show_se:
        right = ax.twinx()
        right.plot(t, standard_error(bank, t, items), color="C3", linestyle="--", label="SE")
        right.set_ylabel("standard error", color="C3")
        right.set_ylim(0, min(2.0, float(np.nanmax(standard_error(bank, t, items))) * 1.05))
    ax.legend(loc="upper left", fontsize="small")
    return ax


@renamed(bins="n_bins")
def plot_wright_map(
    bank: ItemBank,
    scores: pd.DataFrame,
    *,
    n_bins: int = 40,
    fig: Any = None,
) -> Any:
    """Wright map: persons' abilities and items' difficulties on one vertical scale.

    Parameters
    ----------
    bank
        Item parameters (difficulties ``b``).
    scores
        Person scores (:func:`~pixirt.calibration.score_persons`); non-finite
        ones are left out.
    n_bins
        Histogram bins of the abilities (formerly ``bins``).
    fig
        Figure to draw on (default: a new one).

    Returns
    -------
    matplotlib.figure.Figure
        Two panels sharing the θ axis: persons (left) and items (right).
    """
    if "theta" not in getattr(scores, "columns", ()):
        raise DataError("missing column", field="theta")
    import matplotlib.pyplot as plt

    if fig is None:
        fig = plt.figure(figsize=(6, 5))
    left, right = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [2, 1]})
    theta = scores["theta"].to_numpy(dtype=np.float64)
    theta = theta[np.isfinite(theta)]
    left.hist(theta, bins=n_bins, orientation="horizontal", color="C0")
    left.invert_xaxis()
    left.set_xlabel("persons")
    left.set_ylabel("θ")
    b = bank.b
    jitter = np.random.default_rng(0).uniform(-0.3, 0.3, len(b))  # fixed: layout only
    right.plot(jitter, b, "_", color="C3", markersize=12)
    right.set_xlim(-1, 1)
    right.set_xticks([])
    right.set_xlabel("items (b)")
    fig.suptitle(f"Wright map: {len(theta):,} persons, {len(b):,} items")
    return fig


def plot_dif(
    dif: pd.DataFrame,
    item: Any,
    *,
    theta: npt.ArrayLike | None = None,
    ax: Any = None,
) -> Any:
    """Item characteristic curves of the reference and focal groups from :func:`irt_dif`.

    Parameters
    ----------
    dif
        Output of :func:`~pixirt.calibration.irt_dif`.
    item
        The item id.
    theta
        Abilities (default: −4 to 4).
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
        The two curves, the area between them shaded, the LR test in the title.
    """
    needed = ("a_reference", "b_reference", "a_focal", "b_focal", "c", "p_value")
    for col in needed:
        if col not in getattr(dif, "columns", ()):
            raise DataError("missing column (expected irt_dif output)", field=col)
    if item not in dif.index:
        raise DataError(f"item {item!r} is not in the DIF table", field="item")
    row = dif.loc[item]
    ax = _axes(ax)
    t = np.linspace(-4, 4, 201) if theta is None else np.asarray(theta, dtype=np.float64)
    ref = probability(t, row["a_reference"], row["b_reference"], row["c"])
    foc = probability(t, row["a_focal"], row["b_focal"], row["c"])
    names = (dif.attrs.get("reference", "reference"), dif.attrs.get("focal", "focal"))
    ax.plot(t, ref, color="C0", label=f"{names[0]} (b={row['b_reference']:.2f})")
    ax.plot(t, foc, color="C3", label=f"{names[1]} (b={row['b_focal']:.2f})")
    ax.fill_between(t, ref, foc, color="0.85")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("θ")
    ax.set_ylabel("P(correct)")
    ax.set_title(f"item {item}: LR p = {row['p_value']:.2g}")
    ax.legend(loc="lower right", fontsize="small")
    return ax


def plot_drift(
    result: LinkingResult,
    *,
    parameter: str = "b",
    annotate: bool = True,
    ax: Any = None,
) -> Any:
    """Reference vs linked parameters of the common items; drifted items highlighted.

    Parameters
    ----------
    result
        Output of :func:`~pixirt.calibration.link`.
    parameter
        ``"b"`` (difficulty, with the ±``b_threshold`` band) or ``"a"``.
    annotate
        Label the drifted items.
    ax
        Axes to draw on.

    Returns
    -------
    matplotlib.axes.Axes
        The scatter.
    """
    if parameter not in ("a", "b"):
        raise DataError(
            f"The 'parameter' parameter must be 'a' or 'b'. Got {parameter!r} instead.",
            field="parameter",
        )
    ax = _axes(ax)
    d = result.drift
    x = d[f"{parameter}_reference"].to_numpy()
    y = d[f"{parameter}_linked"].to_numpy()
    bad = d["drifted"].to_numpy()
    lo, hi = float(np.min([x.min(), y.min()])), float(np.max([x.max(), y.max()]))
    line = np.array([lo, hi])
    ax.plot(line, line, color="0.5", linewidth=1)
    if parameter == "b":
        ax.fill_between(
            line,
            line - result.b_threshold,
            line + result.b_threshold,
            color="0.92",
            label=f"±{result.b_threshold:g}",
        )
    ax.scatter(x[~bad], y[~bad], s=14, color="C0", label="anchors")
    ax.scatter(x[bad], y[bad], s=24, color="C3", marker="D", label="drifted")
    if annotate:
        for name, xi, yi in zip(d.index[bad].tolist(), x[bad], y[bad], strict=True):
            ax.annotate(
                str(name), (xi, yi), fontsize="x-small", xytext=(3, 3), textcoords="offset points"
            )
    ax.set_xlabel(f"{parameter} (reference)")
    ax.set_ylabel(f"{parameter} (new, linked)")
    ax.set_title(f"{result.method}: A={result.A:.3f}, B={result.B:+.3f}")
    ax.legend(loc="upper left", fontsize="small")
    return ax
