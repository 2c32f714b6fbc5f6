"""Calibration benchmark: pixirt vs girth and PyPI ``mirt`` on simulated 2PL data.

Cases (issue 4): dense 5,000 × 100, dense 50,000 × 200, sparse 200,000 × 2,000 with 30
answers each (the peers get a dense matrix with a missing code), then Pix scale for
pixirt alone (1M, 3M, 10M and 30M answers of a 5,000-item bank, 30 answers per person;
30M = 1,000,000 persons × 5,000 items).

Truth: a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1). Accuracy is the RMSE of a and b
against the truth with no rescaling (every tool reports on the N(0, 1) scale).

Settings: each tool's defaults for a 2PL fit (quadrature, tolerance, acceleration), and
no standard errors anywhere, so every tool does the same work: girth's ``twopl_mml``
computes none, mirt runs ``fit_mirt(..., compute_standard_errors=False)``, pixirt
``calibrate(log, "2PL", progress=False, se="none")``; pixirt's time with its Louis SEs
(``se="auto"``) is reported apart (``seconds_with_se``). The compared cases are pure
maximum likelihood (``priors=None``) for every tool. The Pix-scale cases run pixirt with
``priors="default"`` (log a ~ N(0, 0.5²), b ~ N(0, 3²)): at 1M answers an item has
about 200 answers, and pure ML then gives some item a slope ≤ 0, which a bank cannot
hold (``CalibrationError``); the prior is what one uses on real logs of that density.
Peer runs are bounded by the ``--timeout`` (seconds per tool and case; Pix-scale cases
get at least 900 s) and by an address-space limit of 12 GiB per worker process
(``RLIMIT_AS``; the dense 200,000 × 2,000 matrix the peers need is 3.2 GB in float64),
so that a peer cannot exhaust the shared machine: a run over either bound is recorded as
``timeout`` or ``error`` (MemoryError), never silently dropped.

Run: ``python -m benchmarks.run calibration [--quick] [--timeout S]``; a worker is
``python -m benchmarks.calibration '<json spec>'``.
"""

from __future__ import annotations

import json
import os
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
PIX_PRIORS = "default"
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
#: Address-space limit of a worker process (bytes).
MEMORY_LIMIT = 12 * 2**30
#: Issue 4 targets.
TARGET_TIME_RATIO = 0.5  # pixirt time ≤ 0.5 × the fastest peer's
TARGET_RMSE_RATIO = 1.02  # RMSE within 2% of the best peer's
TARGET_SPARSE = {"case": "sparse_200000x2000", "seconds": 10.0, "peak_mib": 1024.0}
TARGET_PIX = {"case": "pix_30M_answers", "seconds": 60.0, "peak_mib": 4096.0, "not_done_s": 180.0}


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


def fit(tool: str, log: Any, *, priors: str | None = None, se: str = "none") -> dict[str, Any]:
    """Fit a 2PL with ``tool``; return a, b and iteration count."""
    if tool == "pixirt":
        from pixirt.calibration import calibrate

        res = calibrate(log, model="2PL", progress=False, priors=priors, se=se)
        return {
            "a": res.bank.a,
            "b": res.bank.b,
            "n_iter": res.n_iter,
            "converged": bool(res.converged),
            "se_method": res.se_method,
        }
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


def _limit_memory() -> None:
    try:
        import resource
    except ImportError:  # not on POSIX: no limit
        return
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = MEMORY_LIMIT if hard == resource.RLIM_INFINITY else min(MEMORY_LIMIT, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One (tool, case) measurement, in this process."""
    _limit_memory()
    tool, priors = spec["tool"], spec.get("priors")
    t0 = time.perf_counter()
    tiny, _, _ = simulate({"n_persons": 300, "n_items": 10, "per_person": 10}, seed=1)
    fit(tool, tiny, priors=priors)  # imports, compilation, caches
    setup = time.perf_counter() - t0
    log, a, b = simulate(spec["case"])
    out, seconds, peak = measure(lambda: fit(tool, log, priors=priors))
    row: dict[str, Any] = {
        "seconds": round(seconds, 3),
        "setup_s": round(setup, 3),
        "peak_mib": round(peak, 1),
        "n_answers": int(log.n_answers),
        "n_iter": out["n_iter"],
        "s_per_iter": round(seconds / out["n_iter"], 4) if out["n_iter"] else None,
        "rmse_a": float(np.sqrt(np.mean((out["a"] - a) ** 2))),
        "rmse_b": float(np.sqrt(np.mean((out["b"] - b) ** 2))),
        "load_1m": _load_1m(),
    }
    if tool == "pixirt":
        row["converged"] = out["converged"]
        with_se, seconds_se, peak_se = measure(lambda: fit(tool, log, priors=priors, se="auto"))
        row.update(
            seconds_with_se=round(seconds_se, 3),
            peak_mib_with_se=round(peak_se, 1),
            se_method=with_se["se_method"],
        )
    return row


def _summary(rows: list[dict[str, Any]], cases: dict[str, Any]) -> list[dict[str, Any]]:
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
            entry["time_target_met"] = entry["time_ratio"] <= TARGET_TIME_RATIO
            entry["rmse_target_met"] = max(entry["rmse_a_ratio"], entry["rmse_b_ratio"]) <= (
                TARGET_RMSE_RATIO
            )
        elif mine["status"] == "ok":
            entry["time_target_met"] = True  # no peer finished within its bounds
            entry["rmse_target_met"] = None  # nothing to compare with
        if name == TARGET_SPARSE["case"] and mine["status"] == "ok":
            entry["absolute_target_met"] = (
                mine["seconds"] <= TARGET_SPARSE["seconds"]
                and mine["peak_mib"] <= TARGET_SPARSE["peak_mib"]
            )
        entry["peers_not_finished"] = [
            f"{r['tool']} ({r['status']})"
            for r in rows
            if r["case_name"] == name and r["tool"] != "pixirt" and r["status"] != "ok"
        ]
        summary.append(entry)
    return summary


def _growth(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for name in PIX_SCALE:
        r = next((r for r in rows if r["case_name"] == name), None)
        if r is None:
            continue
        entry = {"case": name, "status": r["status"]}
        if r["status"] == "ok":
            entry.update(
                {
                    k: r[k]
                    for k in (
                        "n_answers",
                        "seconds",
                        "seconds_with_se",
                        "peak_mib",
                        "peak_mib_with_se",
                        "n_iter",
                        "s_per_iter",
                        "converged",
                        "rmse_a",
                        "rmse_b",
                    )
                }
            )
            entry["us_per_answer_iter"] = round(1e6 * r["s_per_iter"] / r["n_answers"], 4)
            if name == TARGET_PIX["case"]:
                worst = max(r["seconds"], r["seconds_with_se"])
                entry["target_met"] = (
                    worst <= TARGET_PIX["seconds"]
                    and max(r["peak_mib"], r["peak_mib_with_se"]) <= TARGET_PIX["peak_mib"]
                )
                entry["below_not_done_limit"] = worst <= TARGET_PIX["not_done_s"]
        out.append(entry)
    return out


def run(*, quick: bool = False, timeout: float = 600.0, pix_scale: bool = True) -> dict[str, Any]:
    """Every tool on every case; ratios against the fastest peer; write ``results/calibration.json``."""
    cases = QUICK if quick else CASES
    load_start = _load()
    rows = []
    for name, case in cases.items():
        for tool in TOOLS:
            spec = {"tool": tool, "case_name": name, "case": case, "priors": None}
            row = run_worker("benchmarks.calibration", spec, timeout=timeout)
            row.pop("case", None)
            rows.append(row)
            print(_line(row), flush=True)
    if pix_scale and not quick:
        for name, case in PIX_SCALE.items():
            spec = {"tool": "pixirt", "case_name": name, "case": case, "priors": PIX_PRIORS}
            row = run_worker("benchmarks.calibration", spec, timeout=max(timeout, 900.0))
            row.pop("case", None)
            rows.append(row)
            print(_line(row), flush=True)
    payload = {
        "benchmark": "calibration",
        "machine": machine(),
        "load_average_1_5_15": {"start": load_start, "end": _load()},
        "settings": (__doc__ or "").split("Settings:")[1].split("Run:")[0].strip(),
        "timeout_s": timeout,
        "memory_limit_gib": MEMORY_LIMIT / 2**30,
        "quick": quick,
        "runs": rows,
        "summary": _summary(rows, cases),
        "pix_scale": _growth(rows),
    }
    path = write_results("calibration" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


def _load_1m() -> float | None:
    load = _load()
    return load[0] if load else None


def _load() -> list[float] | None:
    """The machine's 1, 5 and 15-minute load averages (shared cores: other work skews timings)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _line(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"{row['case_name']:>22} {row['tool']:>7}: {row['status']} {row.get('error', '')}"
    extra = f"  with SEs {row['seconds_with_se']:.2f} s" if "seconds_with_se" in row else ""
    return (
        f"{row['case_name']:>22} {row['tool']:>7}: {row['seconds']:8.2f} s  peak {row['peak_mib']:8.1f} MiB  "
        f"rmse a {row['rmse_a']:.4f} b {row['rmse_b']:.4f}  iter {row['n_iter']}{extra}"
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
