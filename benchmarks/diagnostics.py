"""Diagnostics benchmark (issue 5): person scores and item fit on the Pix-scale log.

Case: 1,000,000 persons × 30 answers of a 5,000-item 2PL bank (30,000,000 answers),
a ~ lognormal(0, 0.3), b ~ N(0, 1), θ ~ N(0, 1) — the calibration benchmark's
``pix_30M_answers`` log. The bank is the true one (calibrating is the calibration
benchmark's job), so the fit statistics are under the model.

Settings: pixirt alone (no Python peer scores or fits sparse logs of this size), each
task timed warm on the same log in one process, in this order:

- ``eap``: ``score_persons(log, bank, "EAP")`` (61 nodes) — target ≤ 10 s;
- ``infit_outfit``: ``infit_outfit(log, bank)``, EAP scores included;
- ``binned_fit``: ``binned_fit(log, bank, estimated_parameters=False)`` (the
  leave-one-out posterior of every answer, 10 ability bins per item);
- ``item_fit``: ``item_fit(log, bank)`` (infit/outfit, the S-X² check that finds no
  shared form on this adaptive log, and the binned fit), what a user calls.

Target for the fit (issue 5): infit/outfit and the sparse binned fit ≤ 60 s, read as
``infit_outfit + binned_fit`` (and ``item_fit``, which does both) each ≤ 60 s.
Peak memory is the resident-memory increase during a task over the process's before it
(log and bank already loaded). Sanity figures: correlation of the EAP scores with the
true θ, mean infit and outfit (1 under the model), share of items with binned p < 0.05
(5% under the model).

Run: ``python -m benchmarks.run diagnostics [--quick] [--timeout S]`` (quick: 100,000
persons, 3M answers); a worker is ``python -m benchmarks.diagnostics '<json spec>'``.
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
    "pix_30M_answers": {"n_persons": 1_000_000, "n_items": 5_000, "per_person": 30},
}
QUICK: dict[str, dict[str, Any]] = {
    "pix_3M_answers": {"n_persons": 100_000, "n_items": 5_000, "per_person": 30},
}
TASKS = ("eap", "infit_outfit", "binned_fit", "item_fit")
TARGET_EAP_S = 10.0
TARGET_FIT_S = 60.0


def simulate(case: dict[str, Any], seed: int = 2026) -> tuple[Any, Any, np.ndarray]:
    """The case's log, the true bank and the true abilities (as the calibration benchmark)."""
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
    return sim.log, bank, np.asarray(sim.theta)


def _task(name: str, log: Any, bank: Any) -> Any:
    from pixirt.calibration import binned_fit, infit_outfit, item_fit, score_persons

    if name == "eap":
        return score_persons(log, bank, "EAP")
    if name == "infit_outfit":
        return infit_outfit(log, bank)
    if name == "binned_fit":
        return binned_fit(log, bank, estimated_parameters=False)
    if name == "item_fit":
        return item_fit(log, bank)
    raise ValueError(name)


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Every task on one case, in this process."""
    t0 = time.perf_counter()
    tiny_log, tiny_bank, _ = simulate({"n_persons": 2_000, "n_items": 50, "per_person": 10})
    for name in TASKS:  # imports, caches
        _task(name, tiny_log, tiny_bank)
    setup = time.perf_counter() - t0
    t0 = time.perf_counter()
    log, bank, theta = simulate(spec["case"])
    simulate_s = time.perf_counter() - t0
    out: dict[str, Any] = {
        "setup_s": round(setup, 3),
        "simulate_s": round(simulate_s, 2),
        "n_persons": int(log.n_persons),
        "n_answers": int(log.n_answers),
        "load_average_before": _load(),
    }
    for name in TASKS:
        value, seconds, peak = measure(lambda name=name: _task(name, log, bank))
        out[f"{name}_s"] = round(seconds, 3)
        out[f"{name}_peak_mib"] = round(peak, 1)
        if name == "eap":
            out["eap_corr_true_theta"] = round(float(np.corrcoef(value["theta"], theta)[0, 1]), 4)
        elif name == "infit_outfit":
            out["mean_infit"] = round(float(value["infit"].mean()), 4)
            out["mean_outfit"] = round(float(value["outfit"].mean()), 4)
        elif name == "binned_fit":
            out["binned_share_p_below_0.05"] = round(float((value["p_value"] < 0.05).mean()), 4)
        del value
    return out


def run(*, quick: bool = False, timeout: float = 600.0) -> dict[str, Any]:
    """Run the case(s) in a subprocess each; write ``results/diagnostics.json``."""
    cases = QUICK if quick else CASES
    load_start = _load()
    rows = []
    for name, case in cases.items():
        spec = {"tool": "pixirt", "case_name": name, "case": case}
        row = run_worker("benchmarks.diagnostics", spec, timeout=max(timeout, 900.0))
        row.pop("case", None)
        rows.append(row)
        print(_line(row), flush=True)
    summary = []
    for row in rows:
        entry: dict[str, Any] = {"case": row["case_name"], "status": row["status"]}
        if row["status"] == "ok":
            fit_s = row["infit_outfit_s"] + row["binned_fit_s"]
            entry.update(
                eap_s=row["eap_s"],
                eap_target_met=row["eap_s"] <= TARGET_EAP_S,
                infit_outfit_plus_binned_s=round(fit_s, 3),
                item_fit_s=row["item_fit_s"],
                fit_target_met=fit_s <= TARGET_FIT_S and row["item_fit_s"] <= TARGET_FIT_S,
                peak_mib=max(row[f"{t}_peak_mib"] for t in TASKS),
            )
        summary.append(entry)
    payload = {
        "benchmark": "diagnostics",
        "machine": machine(),
        "load_average_1_5_15": {"start": load_start, "end": _load()},
        "settings": (__doc__ or "").split("Settings:")[1].split("Run:")[0].strip(),
        "targets": {"eap_s": TARGET_EAP_S, "infit_outfit_plus_binned_fit_s": TARGET_FIT_S},
        "quick": quick,
        "runs": rows,
        "summary": summary,
    }
    path = write_results("diagnostics" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


def _load() -> list[float] | None:
    """The machine's 1, 5 and 15-minute load averages (shared cores: other work skews timings)."""
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:
        return None


def _line(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"{row['case_name']:>18}: {row['status']} {row.get('error', '')}"
    return f"{row['case_name']:>18}: " + "  ".join(
        f"{t} {row[f'{t}_s']:.2f} s ({row[f'{t}_peak_mib']:.0f} MiB)" for t in TASKS
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
