"""Calibration benchmark: pixirt vs girth and PyPI ``mirt`` on simulated 2PL data.

Cases (issue 4): dense 5,000 × 100, dense 50,000 × 200, sparse 200,000 × 2,000 with 30
answers each (the peers get a dense matrix with a missing code), then Pix scale for
pixirt alone (1M, 3M, 10M and 30M answers; 30M = 1,000,000 persons × 5,000 items).

Truth: a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1). Accuracy is the RMSE of a and b
against the truth with no rescaling (every tool reports on the N(0, 1) scale).

Settings: each tool's defaults for a 2PL fit, standard errors off where the tool
allows it (mirt: ``compute_standard_errors=False``) — which can only favour the peers.
pixirt runs ``calibrate(log, "2PL", progress=False)``.

Run: ``python -m benchmarks.run calibration [--quick]``; a worker is
``python -m benchmarks.calibration '<json spec>'``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

from benchmarks.harness import machine, measure, run_worker, write_results

CASES: dict[str, dict[str, Any]] = {
    "dense_5000x100": {"n_persons": 5_000, "n_items": 100, "per_person": 100},
    "dense_50000x200": {"n_persons": 50_000, "n_items": 200, "per_person": 200},
    "sparse_200000x2000": {"n_persons": 200_000, "n_items": 2_000, "per_person": 30},
}
PIX_SCALE: dict[str, dict[str, Any]] = {
    "pix_1M_answers": {"n_persons": 33_334, "n_items": 5_000, "per_person": 30},
    "pix_3M_answers": {"n_persons": 100_000, "n_items": 5_000, "per_person": 30},
    "pix_10M_answers": {"n_persons": 333_334, "n_items": 5_000, "per_person": 30},
    "pix_30M_answers": {"n_persons": 1_000_000, "n_items": 5_000, "per_person": 30},
}
QUICK: dict[str, dict[str, Any]] = {
    "dense_2000x50": {"n_persons": 2_000, "n_items": 50, "per_person": 50},
    "sparse_20000x500": {"n_persons": 20_000, "n_items": 500, "per_person": 30},
}
TOOLS = ("pixirt", "girth", "mirt")


def simulate(case: dict[str, Any], seed: int = 2026) -> tuple[Any, np.ndarray, np.ndarray]:
    """The case's log and true parameters."""
    import pandas as pd

    from pixirt import ItemBank
    from pixirt.simulation import simulate_answers

    rng = np.random.default_rng(seed)
    n_items = case["n_items"]
    a = np.exp(rng.normal(0.0, 0.3, n_items))
    b = rng.normal(0.0, 1.0, n_items)
    bank = ItemBank.from_frame(pd.DataFrame({"item_id": np.arange(n_items), "a": a, "b": b}))
    sim = simulate_answers(
        bank, case["n_persons"], answers_per_person=case["per_person"], seed=seed
    )
    return sim.log, a, b


def _dense(log: Any, missing: float) -> np.ndarray:
    dense = log.to_dense(max_cells=2_000_000_000)
    dense[np.isnan(dense)] = missing
    return dense


def fit(tool: str, log: Any) -> dict[str, Any]:
    """Fit a 2PL with ``tool``; return a, b and iteration count."""
    if tool == "pixirt":
        from pixirt.calibration import calibrate

        res = calibrate(log, model="2PL", progress=False)
        return {"a": res.bank.a, "b": res.bank.b, "n_iter": res.n_iter}
    if tool == "girth":
        import girth

        data = _dense(log, girth.INVALID_RESPONSE).astype(int).T  # items × persons
        out = girth.twopl_mml(data)
        return {
            "a": np.asarray(out["Discrimination"]),
            "b": np.asarray(out["Difficulty"]),
            "n_iter": None,
        }
    if tool == "mirt":
        import mirt

        res = mirt.fit_mirt(_dense(log, np.nan), model="2PL", compute_standard_errors=False)
        return {
            "a": np.asarray(res.model.discrimination).ravel(),
            "b": np.asarray(res.model.difficulty).ravel(),
            "n_iter": int(res.n_iterations),
        }
    raise ValueError(tool)


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One (tool, case) measurement, in this process."""
    t0 = time.perf_counter()
    tiny, _, _ = simulate({"n_persons": 300, "n_items": 10, "per_person": 10}, seed=1)
    fit(spec["tool"], tiny)  # imports, compilation, caches
    setup = time.perf_counter() - t0
    log, a, b = simulate(spec["case"])
    out, seconds, peak = measure(lambda: fit(spec["tool"], log))
    return {
        "seconds": round(seconds, 3),
        "setup_s": round(setup, 3),
        "peak_mib": round(peak, 1),
        "n_answers": int(log.n_answers),
        "n_iter": out["n_iter"],
        "rmse_a": float(np.sqrt(np.mean((out["a"] - a) ** 2))),
        "rmse_b": float(np.sqrt(np.mean((out["b"] - b) ** 2))),
    }


def run(*, quick: bool = False, timeout: float = 600.0, pix_scale: bool = True) -> dict[str, Any]:
    """Every tool on every case; ratios against the fastest peer; write ``results/calibration.json``."""
    cases = QUICK if quick else CASES
    rows = []
    for name, case in cases.items():
        for tool in TOOLS:
            spec = {"tool": tool, "case_name": name, "case": case}
            row = run_worker("benchmarks.calibration", spec, timeout=timeout)
            row.pop("case", None)
            rows.append(row)
            print(_line(row), flush=True)
    if pix_scale and not quick:
        for name, case in PIX_SCALE.items():
            spec = {"tool": "pixirt", "case_name": name, "case": case}
            row = run_worker("benchmarks.calibration", spec, timeout=max(timeout, 900.0))
            row.pop("case", None)
            rows.append(row)
            print(_line(row), flush=True)
    summary = []
    for name in cases:
        mine = next(r for r in rows if r["case_name"] == name and r["tool"] == "pixirt")
        peers = [
            r
            for r in rows
            if r["case_name"] == name and r["tool"] != "pixirt" and r["status"] == "ok"
        ]
        entry: dict[str, Any] = {"case": name, "pixirt_s": mine.get("seconds")}
        if peers and mine["status"] == "ok":
            fastest = min(peers, key=lambda r: r["seconds"])
            best_b = min(r["rmse_b"] for r in peers)
            best_a = min(r["rmse_a"] for r in peers)
            entry.update(
                fastest_peer=fastest["tool"],
                fastest_peer_s=fastest["seconds"],
                time_ratio=round(mine["seconds"] / fastest["seconds"], 3),
                rmse_a_ratio=round(mine["rmse_a"] / best_a, 3),
                rmse_b_ratio=round(mine["rmse_b"] / best_b, 3),
            )
        entry["peers_not_finished"] = [
            r["tool"]
            for r in rows
            if r["case_name"] == name and r["tool"] != "pixirt" and r["status"] != "ok"
        ]
        summary.append(entry)
    payload = {
        "benchmark": "calibration",
        "machine": machine(),
        "settings": __doc__.split("Settings:")[1].split("Run:")[0].strip(),
        "timeout_s": timeout,
        "quick": quick,
        "runs": rows,
        "summary": summary,
    }
    path = write_results("calibration" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


def _line(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"{row['case_name']:>22} {row['tool']:>7}: {row['status']} {row.get('error', '')}"
    return (
        f"{row['case_name']:>22} {row['tool']:>7}: {row['seconds']:8.2f} s  peak {row['peak_mib']:8.1f} MiB  "
        f"rmse a {row['rmse_a']:.4f} b {row['rmse_b']:.4f}  iter {row['n_iter']}"
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
