"""The report's figures read right in French and English.

Cases from the issue "A report the jury can trust": a one-category outcome heatmap
rendered blank; English decimals and a "1e−17" offset in the French report.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from pixirt.simulation import Population, compare, pix_like_bank


@pytest.fixture(scope="module")
def identical():
    """The same rules on both sides: every difference is 0 (or 1e−17 from rounding)."""
    return compare(
        "pix-v3",
        "pix-v3",
        population=Population(groups={"a": (0.5, -0.3), "b": (0.5, 0.3)}),
        bank=pix_like_bank(0),
        n=200,
        seed=4,
        n_retest=0,
        n_bootstrap=100,
    )


def _labels(fig):
    fig.canvas.draw()
    out = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            out += [t.get_text() for t in axis.get_ticklabels()]
            out.append(axis.get_offset_text().get_text())
    return [x for x in out if x]


@pytest.mark.parametrize(
    "plot", ["plot_score_changes", "plot_scores", "plot_groups", "plot_quality", "plot_exposure"]
)
def test_french_figures_use_decimal_commas_and_no_offset(identical, plot):
    import matplotlib.pyplot as plt

    fig = getattr(identical, plot)(lang="fr")
    try:
        labels = _labels(fig)
        numeric = [x for x in labels if any(ch.isdigit() for ch in x)]
        assert numeric, labels
        assert not any("e-" in x or "e−" in x or "1e" in x for x in numeric), numeric
        assert not any("." in x for x in numeric), numeric  # a decimal point in French
    finally:
        plt.close(fig)


def test_a_one_outcome_heatmap_is_not_blank(identical):
    """Everyone validated under both rule sets: one cell, drawn in colour with its count."""
    import matplotlib.pyplot as plt

    assert identical.outcomes.shape == (1, 1)
    fig = identical.plot_outcomes(lang="fr")
    try:
        fig.canvas.draw()
        image = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(float)
        ax = fig.axes[0]
        im = ax.get_images()[0]
        rgba = im.to_rgba(im.get_array())
        assert rgba[0, 0, :3].mean() < 0.6  # a dark blue cell, not white
        assert [t.get_text() for t in ax.texts] == ["200"]
        assert (image.std(axis=(0, 1)) > 0).all()
    finally:
        plt.close(fig)
