"""Matplotlib helpers of the comparison's figures: axes, localized tick labels, heatmaps."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import numpy.typing as npt

from pixirt.simulation import _formatting
from pixirt.simulation._comparison_names import Lang

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


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

    def label(value: float, _pos: int | None = None) -> str:
        if not math.isfinite(value):
            return ""
        scale = max(1.0, abs(value))
        for decimals in (0, 1, 2, 3):  # the fewest decimals that show the tick exactly
            if abs(value - round(value, decimals)) <= 1e-9 * scale:
                break
        return _formatting.format_number(value, decimals, lang)

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
