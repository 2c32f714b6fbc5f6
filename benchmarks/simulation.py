"""Simulation benchmark: whole v2 and v3 certifications on the Pix-like bank, pixirt vs catsim.

pixirt: ``simulate(Population(), pix_like_bank(0), rules, n)``, scoring included:

- **v3** (``pix-v3``): Pix's selection (rule chain, top 5, pick 51 %) and EAP, for
  n = 100,000 (one process; again with the numpy ranking, as without numba) and
  1,000,000 (``workers=2``: both cores) (target: 1M in ≤ 45 s; ≤ 8 GiB);
- **v2** (``pix-v2``): positioning profiles drawn, 3 challenges per certifiable
  competence planned from them, answers, reproducibility rate, level table, for
  n = 100,000 (one process) and 1,000,000 (``workers=2``) (target: 1M in ≤ 60 s,
  ≤ 4 GiB; before this version, v2 ran one candidate at a time at about 13 ms each);

``chunk_size=20_000`` (v3) and ``10_000`` (v2).

Side by side in the same run, the version before "one engine" (git ``BASELINE_REF``,
extracted from this repository's history into a temporary folder; skipped without git):
v3 on 1,000,000 candidates with ``workers=2``, and v2 on 2,000 candidates (it planned
and scored one candidate at a time, and stopped the whole run on candidate 732, whose
certification Pix's scoring refuses) and on the first 700. Memory: the resident memory of the whole
process tree (the parent and its worker processes, summed, sampled every 20 ms):
``peak_mib`` is its peak increase over the parent's before the call, ``peak_rss_mib`` its
peak total (a sum of RSS counts the pages forked workers share with the parent once per
process: an upper bound). The compiled ranking needs numba (the ``fast`` extra);
``kernels`` says whether it ran (same results either way). catsim: its
``Simulator`` with a max-information selector, its numerical-search estimator and a
32-item length stopper on the same bank (a, b; c = 0) and abilities, run on 1,000
candidates only (it is a Python loop per candidate and step); compared in candidates per
second. catsim does less work per step (no Pix rule chain, no capacity cap, no
scoring), so the ratio flatters it.

Run: ``python -m benchmarks.run simulation [--quick]``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import numpy as np

from benchmarks.harness import TreePeakMemory, machine, measure, run_worker, write_results

CASES = {
    "quick": [(2_000, 1, True, "pix-v3"), (2_000, 1, True, "pix-v2")],
    "full": [
        (100_000, 1, True, "pix-v3"),
        (100_000, 1, False, "pix-v3"),
        (1_000_000, 2, True, "pix-v3"),
        (100_000, 1, True, "pix-v2"),
        (1_000_000, 2, True, "pix-v2"),
    ],
}  # (candidates, worker processes, compiled ranking if numba is installed, rule set)
CATSIM_N = 1_000
#: The commit before each rule moved into pixirt/cat (issue "One engine"): the baseline.
BASELINE_REF = "3b056cf"
BASELINE_CASES = [
    (1_000_000, 2, True, "pix-v3"),
    (2_000, 1, True, "pix-v2"),  # stops at candidate 732 (Pix's sanity contract raised)
    (700, 1, True, "pix-v2"),  # the first 700 candidates: its speed
]


def _baseline_tree(ref: str) -> str | None:
    """``pixirt/`` at ``ref``, extracted into a temporary folder (None without git or history)."""
    import subprocess
    import tarfile
    import tempfile
    from io import BytesIO
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    try:
        blob = subprocess.run(
            ["git", "-C", str(root), "archive", "--format=tar", ref, "pixirt"],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    where = tempfile.mkdtemp(prefix="pixirt-baseline-")
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(where, filter="data")
    return where


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("path"):  # the baseline version, first on the path
        sys.path.insert(0, str(spec["path"]))
    from pixirt import rules
    from pixirt.simulation import Population, pix_like_bank

    bank = pix_like_bank(0)
    n = int(spec["n"])
    if spec["tool"] == "pixirt":
        from pixirt.simulation import simulate

        try:
            from pixirt.cat import _ranking as ranking  # internal: the kernels' switch
        except ImportError:  # the baseline: the ranking lived in the simulator
            from pixirt.simulation import runner

            runner._USE_KERNELS = bool(spec.get("kernels", True))  # type: ignore[attr-defined]
            kernels_on = runner._kernels() is not None  # type: ignore[attr-defined]
        else:
            ranking.USE_KERNELS = bool(spec.get("kernels", True))  # False: the numpy ranking
            kernels_on = ranking.kernels() is not None
        rule_set = rules.load(str(spec.get("rules", "pix-v3")))
        v2 = rule_set.algorithm == "v2"
        t0 = time.perf_counter()
        simulate(Population(), bank, rule_set, 200, seed=99)  # warm: shortlists, imports
        setup = time.perf_counter() - t0
        workers = int(spec.get("workers", 1))
        with TreePeakMemory() as mem:
            t0 = time.perf_counter()
            res = simulate(
                Population(),
                bank,
                rule_set,
                n,
                seed=1,
                chunk_size=10_000 if v2 else 20_000,
                workers=workers,
            )
            seconds = time.perf_counter() - t0
        f = res.frame
        common = {
            "seconds": round(seconds, 2),
            "setup_s": round(setup, 2),
            "peak_mib": round(mem.peak_mib, 1),
            "peak_rss_mib": round(mem.peak_rss_mib, 1),
            "candidates_per_s": round(n / seconds, 1),
            "workers": workers,
            "rules": rule_set.id,
            "ms_per_candidate_per_core": round(1000 * seconds * workers / n, 4),
            "validated_share": float((f["status"] == "validated").mean()),
            "errors": int((f["status"] == "error").sum()),
        }
        if v2:
            return {
                **common,
                "not_certifiable_share": float((f["status"] == "not_certifiable").mean()),
                "mean_reproducibility_rate": float(f["reproducibility_rate"].mean()),
            }
        return {
            **common,
            "kernels": kernels_on,
            "capacity_rmse": float(np.sqrt(np.mean((f["capacity"] - f["true_theta"]) ** 2))),
            "capacity_corr": float(np.corrcoef(f["capacity"], f["true_theta"])[0, 1]),
        }
    import catsim.estimation as est
    import catsim.initialization as ini
    import catsim.selection as sel
    import catsim.simulation as sim
    import catsim.stopping as stop

    items = np.column_stack([bank.a, bank.b, np.zeros(bank.n_items), np.ones(bank.n_items)])
    theta = Population().sample(n, seed=1).theta

    def run() -> Any:
        s = sim.Simulator(items, theta, seed=1)
        s.simulate(
            ini.FixedPointInitializer(-3.0),
            sel.MaxInfoSelector(),
            est.NumericalSearchEstimator(),
            stop.TestLengthStopper(max_items=32),
        )
        return s

    t0 = time.perf_counter()
    s_small = sim.Simulator(items, theta[:5], seed=1)
    s_small.simulate(
        ini.FixedPointInitializer(-3.0),
        sel.MaxInfoSelector(),
        est.NumericalSearchEstimator(),
        stop.TestLengthStopper(max_items=32),
    )
    setup = time.perf_counter() - t0
    s, seconds, peak = measure(run)
    est_theta = np.asarray(s.latest_estimations, dtype=float)
    return {
        "seconds": round(seconds, 2),
        "setup_s": round(setup, 2),
        "peak_mib": round(peak, 1),
        "candidates_per_s": round(n / seconds, 1),
        "capacity_rmse": float(np.sqrt(np.mean((est_theta - theta) ** 2))),
        "capacity_corr": float(np.corrcoef(est_theta, theta)[0, 1]),
    }


def run(*, quick: bool = False, timeout: float = 900.0) -> dict[str, Any]:
    rows = []
    for n, workers, kernels, rule_id in CASES["quick" if quick else "full"]:
        spec = {"tool": "pixirt", "n": n, "workers": workers, "kernels": kernels, "rules": rule_id}
        row = run_worker("benchmarks.simulation", spec, timeout=max(timeout, 900.0))
        rows.append(row)
        print(row, flush=True)
    baseline = None if quick else _baseline_tree(BASELINE_REF)
    for n, workers, kernels, rule_id in BASELINE_CASES if baseline else []:
        spec = {
            "tool": "pixirt",
            "version": f"baseline {BASELINE_REF}",
            "path": baseline,
            "n": n,
            "workers": workers,
            "kernels": kernels,
            "rules": rule_id,
        }
        row = run_worker("benchmarks.simulation", spec, timeout=max(timeout, 900.0))
        rows.append(row)
        print(row, flush=True)
    row = run_worker(
        "benchmarks.simulation",
        {"tool": "catsim", "n": 200 if quick else CATSIM_N},
        timeout=timeout,
    )
    rows.append(row)
    print(row, flush=True)
    current = [r for r in rows if "version" not in r]
    before = {
        r["rules"]: r for r in rows if "version" in r and r["status"] == "ok"
    }  # the baseline's runs that completed
    mine = [
        r
        for r in current
        if r["tool"] == "pixirt" and r["status"] == "ok" and r.get("rules", "pix-v3") == "pix-v3"
    ]
    peer = rows[-1]
    summary: dict[str, Any] = {}
    v2_runs = [r for r in current if r.get("rules") == "pix-v2" and r["status"] == "ok"]
    if v2_runs:
        big = max(v2_runs, key=lambda r: r["n"])
        summary["v2"] = {
            "n": big["n"],
            "seconds": big["seconds"],
            "peak_rss_mib": big.get("peak_rss_mib"),
            "ms_per_candidate_per_core": big["ms_per_candidate_per_core"],
            "target": "1M in <= 60 s, <= 4 GiB (not done above 120 s)",
        }
        if "pix-v2" in before:
            old = before["pix-v2"]["ms_per_candidate_per_core"]
            summary["v2"]["baseline_ms_per_candidate_per_core"] = old
            summary["v2"]["speed_ratio_vs_baseline"] = round(
                old / big["ms_per_candidate_per_core"], 1
            )
    if mine and peer["status"] == "ok":
        best = max(mine, key=lambda r: (r["n"], r.get("kernels", False)))
        summary = {
            "pixirt_n": best["n"],
            "pixirt_seconds": best["seconds"],
            "pixirt_peak_mib": best["peak_mib"],
            "pixirt_peak_rss_mib": best.get("peak_rss_mib"),
            "pixirt_candidates_per_s": best["candidates_per_s"],
            "catsim_candidates_per_s": peer["candidates_per_s"],
            "speed_ratio_vs_catsim": round(best["candidates_per_s"] / peer["candidates_per_s"], 1),
            "catsim_note": f"catsim ran on {peer['n']} candidates",
            "target": "1M in <= 45 s, and no slower than the baseline",
            **summary,
        }
        if "pix-v3" in before:
            summary["baseline_seconds"] = before["pix-v3"]["seconds"]
            summary["seconds_ratio_vs_baseline"] = round(
                best["seconds"] / before["pix-v3"]["seconds"], 3
            )
    payload = {
        "benchmark": "simulation",
        "machine": machine(),
        "settings": (__doc__ or "").split("Run:")[0].strip(),
        "quick": quick,
        "runs": rows,
        "summary": summary,
    }
    path = write_results("simulation" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
