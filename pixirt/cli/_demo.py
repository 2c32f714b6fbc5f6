"""The main job of ``make demo``: everything on embedded data, outputs in one folder.

Steps (each writes its outputs atomically):

1. generate the Pix-like bank (:func:`pixirt.simulation.pix_like_bank`) → ``bank.csv``;
2. simulate a sparse answer log on it (30 answers per candidate) → ``simulated_answers.parquet``;
3. load the embedded real log (PISA 2012 USA mathematics, booklet design) and describe it;
4. plot answers per person and per item for both logs → ``logs.png``;
5. calibrate the simulated log (2PL, MML-EM) and compare with the true parameters, and
   the real log (Rasch and 2PL) → ``calibrated_bank.csv``, ``pisa_2pl_bank.csv``,
   ``calibration.png`` (item curves and test information of the real log);
6. simulate v3 certifications of the Pix-like bank under ``pix-v3`` →
   ``certifications.parquet``;
7. compare two shipped rule sets (``pix-v3`` → ``pix-v3-2023``) on the same simulated
   candidates → ``rule-change-report.html``, the jury's report;
8. write ``summary.json`` with the figures printed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pixirt import ResponseLog
from pixirt._atomic_files import atomic_write
from pixirt.datasets import pisa2012_us_math
from pixirt.simulation import pix_like_bank, simulate_answers

if TYPE_CHECKING:
    from pixirt import ItemBank
    from pixirt.calibration import CalibrationResult
    from pixirt.simulation import SimulationResult

__all__ = ["run_demo"]


def _plot_logs(logs: dict[str, ResponseLog], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(logs), 2, figsize=(10, 3.2 * len(logs)), squeeze=False)
    for row, (name, log) in enumerate(logs.items()):
        per_person = log.person_stats()["n_answers"].to_numpy()
        per_item = log.item_stats()["n_answers"].to_numpy()
        axes[row, 0].hist(per_person, bins=40, color="#3d68ff")
        axes[row, 0].set(title=f"{name}: answers per person", xlabel="answers", ylabel="persons")
        axes[row, 1].hist(per_item, bins=40, color="#ff6f3d")
        axes[row, 1].set(title=f"{name}: answers per item", xlabel="answers", ylabel="items")
    fig.tight_layout()

    def save(tmp: Path) -> None:
        fig.savefig(tmp, dpi=90, format="png")

    atomic_write(path, save)
    plt.close(fig)


def _plot_calibration(bank: Any, log: ResponseLog, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from pixirt.calibration import plot_icc, plot_information

    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    order = np.argsort(bank.b)
    for ax, pos in zip(axes[:2], (order[len(order) // 4], order[3 * len(order) // 4]), strict=True):
        plot_icc(bank, bank.item_ids[pos], log=log, ax=ax)
    plot_information(bank, show_items=True, ax=axes[2])
    fig.tight_layout()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=90, format="png"))
    plt.close(fig)


def run_demo(
    out: str | os.PathLike[str] = "demo-output",
    *,
    n_candidates: int = 20_000,
    n_certifications: int = 5_000,
    n_compare: int = 1_000,
    seed: int = 0,
) -> dict[str, Any]:
    """Run the demo job and return its summary.

    Parameters
    ----------
    out
        Output folder (created).
    n_candidates
        Simulated candidates in the answer log.
    n_certifications
        Simulated v3 certifications.
    n_compare
        Simulated candidates of the rule-change comparison.
    seed
        Seed of the bank and the simulation.

    Returns
    -------
    dict
        The figures also written to ``summary.json``.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    bank = pix_like_bank(seed)
    bank.write(folder / "bank.csv")
    sim = simulate_answers(bank, n_candidates, answers_per_person=30, seed=seed)
    frame = sim.log.to_frame()
    frame["theta"] = np.repeat(sim.theta, np.diff(sim.log.indptr))
    atomic_write(
        folder / "simulated_answers.parquet", lambda tmp: frame.to_parquet(tmp, index=False)
    )
    real = pisa2012_us_math()
    _plot_logs(
        {"simulated Pix-like log": sim.log, "PISA 2012 US math (real)": real}, folder / "logs.png"
    )

    from pixirt import rules
    from pixirt.calibration import calibrate
    from pixirt.simulation import Population, simulate

    fit_sim = calibrate(sim.log, "2PL", priors="default", progress=False)
    fit_sim.bank.write(folder / "calibrated_bank.csv")
    truth = pd.Series(bank.b, index=bank.item_ids)
    est = pd.Series(fit_sim.bank.b, index=fit_sim.bank.item_ids)
    p_correct = sim.log.item_stats()["p_correct"].reindex(est.index).to_numpy()
    common = est.index[(p_correct >= 0.1) & (p_correct <= 0.9)]  # items the population informs
    rmse_b = float(np.sqrt(np.mean((est[common] - truth[common]) ** 2)))
    fit_rasch = calibrate(real, "Rasch", progress=False)
    fit_2pl = calibrate(real, "2PL", progress=False)
    fit_2pl.bank.write(folder / "pisa_2pl_bank.csv")
    _plot_calibration(fit_2pl.bank, real, folder / "calibration.png")
    certs = simulate(
        Population(),
        bank,
        rules.load("pix-v3"),
        n_certifications,
        seed=seed,
        out=folder / "certifications.parquet",
    )

    from pixirt.simulation import compare

    comparison = compare(
        "pix-v3",
        "pix-v3-2023",
        bank=bank,
        n=n_compare,
        seed=seed,
        n_retest=min(300, n_compare),
        n_bootstrap=500,
    )
    report = comparison.report(folder / "rule-change-report.html")
    summary = _summary(
        folder, bank, sim.log, real, (fit_sim, rmse_b, len(common)), (fit_rasch, fit_2pl), certs
    )
    summary["rule_change"] = {"report": str(report), **comparison.headline()}
    payload = json.dumps(summary, indent=2)
    atomic_write(
        folder / "summary.json", lambda tmp: tmp.write_text(payload + "\n", encoding="utf-8")
    )
    return summary


def _describe(log: ResponseLog) -> dict[str, Any]:
    d = log.describe()
    return {
        "n_persons": d.n_persons,
        "n_items": d.n_items,
        "n_answers": d.n_answers,
        "density": round(d.density, 5),
        "p_correct": round(d.p_correct, 4),
        "items_all_correct": len(d.items_all_correct),
        "items_all_wrong": len(d.items_all_wrong),
    }


def _summary(
    folder: Path,
    bank: ItemBank,
    sim_log: ResponseLog,
    real: ResponseLog,
    simulated_fit: tuple[CalibrationResult, float, int],
    real_fits: tuple[CalibrationResult, CalibrationResult],
    certs: SimulationResult,
) -> dict[str, Any]:
    """The demo's figures (``summary.json`` without the rule change)."""
    fit_sim, rmse_b, n_informed = simulated_fit
    fit_rasch, fit_2pl = real_fits
    meta = bank.metadata
    cf = certs.frame
    return {
        "bank": {
            "file": str(folder / "bank.csv"),
            "n_challenges": bank.n_items,
            "n_competences": int(meta["competence"].nunique()),
            "n_tubes": int(meta["tube"].nunique()),
            "n_skills": int(meta["skill"].nunique()),
            "hash": bank.hash,
        },
        "simulated_log": {
            "file": str(folder / "simulated_answers.parquet"),
            **_describe(sim_log),
        },
        "real_log": {"name": "PISA 2012 USA mathematics (embedded)", **_describe(real)},
        "plot": str(folder / "logs.png"),
        "calibration": {
            "simulated_2pl": {
                "file": str(folder / "calibrated_bank.csv"),
                "n_iter": fit_sim.n_iter,
                "converged": fit_sim.converged,
                "rmse_b_informed_items": round(rmse_b, 4),
                "n_informed_items": n_informed,
            },
            "real_rasch": {
                "loglik": round(fit_rasch.loglik, 2),
                "aic": round(fit_rasch.aic, 2),
                "bic": round(fit_rasch.bic, 2),
            },
            "real_2pl": {
                "file": str(folder / "pisa_2pl_bank.csv"),
                "loglik": round(fit_2pl.loglik, 2),
                "aic": round(fit_2pl.aic, 2),
                "bic": round(fit_2pl.bic, 2),
            },
            "plot": str(folder / "calibration.png"),
        },
        "certifications": {
            "file": str(folder / "certifications.parquet"),
            "rules": "pix-v3",
            "n": len(cf),
            "validated_share": round(float((cf["status"] == "validated").mean()), 4),
            "mean_pix_score": round(float(cf["pix_score"].mean()), 1),
            "capacity_rmse": round(
                float(np.sqrt(np.mean((cf["capacity"] - cf["true_theta"]) ** 2))), 4
            ),
            "seconds": round(certs.seconds, 2),
        },
    }
