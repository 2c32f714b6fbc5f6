"""Engine latency benchmark: one adaptive step, pixirt's v3 engine vs catsim and PyPI ``mirt``.

A *step* is what a live service does between two answers: choose the next challenge and
record the answer. Each tool runs whole 32-item sessions on the same Pix-like bank
(``pixirt.simulation.pix_like_bank(0)``, 2,978 challenges; the peers get its 2PL ``a``
and ``b``) for the same simulated candidates (true abilities and answers from
:mod:`pixirt._streams`, drawn outside the timed region), and every step is timed
in-process with ``perf_counter``.

Tools:

- ``pixirt``: ``next_challenge`` + ``record`` with rules ``pix-v3`` (pool rules, EAP on
  81 points, top-5 pick), the engine as shipped: a :class:`~pixirt.cat._batch.SessionBatch`
  of one, ranked by the proven-exact shortlists;
- ``pixirt_general``: the same engine with the shortlists off
  (``engine.rebuild(state, fast=False)``: ``candidate_pool`` and ``rank_by_information``
  over the whole bank) — same choices, shown for the speed-up;
- ``catsim``: ``MaxInfoSelector.select`` + ``NumericalSearchEstimator.estimate``
  (its defaults);
- ``mirt``: ``CATEngine(model, "MFI", MaxItemsStop(32), scoring_method="EAP")``,
  ``administer_item`` (which records, re-estimates and selects the next item); the 2PL
  model gets the bank's parameters with ``set_parameters`` and is marked fitted.

Settings: each tool's defaults otherwise. Every tool runs in its own process, warms up on
a few sessions, then runs ``repeats`` rounds of ``n_sessions`` sessions; the figures are
the median over rounds of each round's median and 99th percentile (milliseconds per
step). Ratios are peer / pixirt.

Run: ``python -m benchmarks.run engine [--quick]``; a worker is
``python -m benchmarks.engine '<json spec>'``.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.harness import machine, run_worker, write_results

TOOLS = ("pixirt", "pixirt_general", "catsim", "mirt")
TEST_LENGTH = 32
SEED = 2026
FULL = {"pixirt": 200, "pixirt_general": 100, "catsim": 30, "mirt": 40}
QUICK = {"pixirt": 20, "pixirt_general": 10, "catsim": 3, "mirt": 4}

Session = Callable[[int, list[float]], float]


def _truth(index: int) -> float:
    from pixirt import _streams as streams  # internal: the engine's own counter draws

    return float(streams.normal(SEED, "bench.theta", index))


def _answer(a: float, b: float, theta: float, index: int, step: int) -> bool:
    """The simulated candidate's answer (Pix's 2PL, no 1.7), drawn from the counter stream."""
    from pixirt import _streams as streams  # internal: the engine's own counter draws

    p = 1.0 / (1.0 + np.exp(a * (b - theta)))
    return bool(float(streams.uniform(SEED, "bench.answer", index, step)) < p)


def _pixirt(general: bool) -> Session:
    from pixirt import rules
    from pixirt.cat import Candidate, next_challenge, record, result, start
    from pixirt.cat._engine import rebuild  # internal: the shortlists switched off
    from pixirt.simulation import pix_like_bank

    bank = pix_like_bank(0)
    v3 = rules.load("pix-v3")
    a = dict(zip(bank.item_ids.tolist(), bank.a.tolist(), strict=True))
    b = dict(zip(bank.item_ids.tolist(), bank.b.tolist(), strict=True))

    def session(index: int, times: list[float]) -> float:
        theta = _truth(index)
        state = start(bank, v3, candidate=Candidate(f"c{index}", index), seed=SEED)
        if general:
            state = rebuild(state, fast=False)
        for step in range(TEST_LENGTH + 1):
            t0 = time.perf_counter()
            choice = next_challenge(state)
            if choice is None:
                break
            t1 = time.perf_counter()
            cid = choice.challenge_id
            status = "ok" if _answer(a[cid], b[cid], theta, index, step) else "ko"
            t2 = time.perf_counter()
            state = record(state, cid, status)
            t3 = time.perf_counter()
            times.append((t1 - t0) + (t3 - t2))
        assert state.n_answers == TEST_LENGTH
        return float(result(state).capacity)

    return session


def _catsim() -> Session:
    from catsim.estimation import NumericalSearchEstimator
    from catsim.item_bank import ItemBank as CatsimBank
    from catsim.selection import MaxInfoSelector

    from pixirt.simulation import pix_like_bank

    bank = pix_like_bank(0)
    a, b = np.asarray(bank.a), np.asarray(bank.b)
    items = CatsimBank(np.column_stack([a, b, np.zeros_like(a), np.ones_like(a)]))
    selector, estimator = MaxInfoSelector(), NumericalSearchEstimator()

    def session(index: int, times: list[float]) -> float:
        theta = _truth(index)
        administered: list[int] = []
        responses: list[bool] = []
        est = 0.0
        for step in range(TEST_LENGTH):
            t0 = time.perf_counter()
            item = selector.select(item_bank=items, administered_items=administered, est_theta=est)
            t1 = time.perf_counter()
            assert item is not None
            ok = _answer(float(a[item]), float(b[item]), theta, index, step)
            t2 = time.perf_counter()
            administered.append(int(item))
            responses.append(ok)
            est = float(
                estimator.estimate(
                    item_bank=items,
                    administered_items=administered,
                    response_vector=responses,
                    est_theta=est,
                )
            )
            t3 = time.perf_counter()
            times.append((t1 - t0) + (t3 - t2))
        return est

    return session


def _mirt() -> Session:
    from mirt.cat import CATEngine
    from mirt.cat.stopping import MaxItemsStop
    from mirt.models.dichotomous import TwoParameterLogistic

    from pixirt.simulation import pix_like_bank

    bank = pix_like_bank(0)
    a, b = np.asarray(bank.a), np.asarray(bank.b)
    model = TwoParameterLogistic(n_items=len(a))
    model.set_parameters(discrimination=a, difficulty=b)
    model._is_fitted = True  # known parameters: mirt has no public "fitted from values"

    def session(index: int, times: list[float]) -> float:
        theta = _truth(index)
        t0 = time.perf_counter()
        engine = CATEngine(
            model,
            item_selection="MFI",
            stopping_rule=MaxItemsStop(TEST_LENGTH),
            scoring_method="EAP",
            seed=index,
        )
        state = engine.get_current_state()
        first = time.perf_counter() - t0  # the first selection counts in step 0
        step = 0
        while not state.is_complete:
            item = int(state.next_item)
            ok = _answer(float(a[item]), float(b[item]), theta, index, step)
            t0 = time.perf_counter()
            state = engine.administer_item(int(ok))
            times.append(time.perf_counter() - t0 + (first if step == 0 else 0.0))
            step += 1
        assert step == TEST_LENGTH
        return float(state.theta)

    return session


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One tool: warm up, then ``repeats`` rounds of ``n_sessions`` timed sessions."""
    t0 = time.perf_counter()
    tool = spec["tool"]
    if tool in ("pixirt", "pixirt_general"):
        session = _pixirt(general=tool == "pixirt_general")
    elif tool == "catsim":
        session = _catsim()
    elif tool == "mirt":
        session = _mirt()
    else:
        raise ValueError(tool)
    for i in range(3):  # imports, caches
        session(10_000 + i, [])
    setup = time.perf_counter() - t0
    n, repeats = spec["n_sessions"], spec["repeats"]
    medians, p99s, all_ms = [], [], []
    errors = []
    for _ in range(repeats):
        times: list[float] = []
        for i in range(n):
            final = session(i, times)
            errors.append(final - _truth(i))
        ms = np.asarray(times) * 1e3
        medians.append(float(np.median(ms)))
        p99s.append(float(np.percentile(ms, 99)))
        all_ms.append(ms.reshape(n, TEST_LENGTH))
    per_step = np.median(np.concatenate(all_ms), axis=0)
    return {
        "setup_s": round(setup, 3),
        "n_steps": int(sum(m.size for m in all_ms)),
        "median_ms": round(float(np.median(medians)), 4),
        "p99_ms": round(float(np.median(p99s)), 4),
        "round_medians_ms": [round(x, 4) for x in medians],
        "round_p99_ms": [round(x, 4) for x in p99s],
        "max_ms": round(float(max(m.max() for m in all_ms)), 4),
        "median_ms_by_step": [round(float(x), 4) for x in per_step],
        "final_theta_rmse": round(float(np.sqrt(np.mean(np.square(errors)))), 3),
    }


def run(*, quick: bool = False, timeout: float = 600.0, repeats: int = 5) -> dict[str, Any]:
    """Every tool; ratios against pixirt; write ``results/engine.json``."""
    sizes = QUICK if quick else FULL
    rows = []
    for tool in TOOLS:
        spec = {"tool": tool, "n_sessions": sizes[tool], "repeats": 2 if quick else repeats}
        row = run_worker("benchmarks.engine", spec, timeout=timeout)
        rows.append(row)
        print(_line(row), flush=True)
    mine = next(r for r in rows if r["tool"] == "pixirt")
    summary: dict[str, Any] = {
        "pixirt_median_ms": mine.get("median_ms"),
        "pixirt_p99_ms": mine.get("p99_ms"),
        "target": {"median_ms": 0.2, "p99_ms": 1.0},
    }
    if mine["status"] == "ok":
        summary["meets_target"] = mine["median_ms"] <= 0.2 and mine["p99_ms"] <= 1.0
        for r in rows:
            if r["tool"] != "pixirt" and r["status"] == "ok":
                summary[f"{r['tool']}_median_ratio"] = round(r["median_ms"] / mine["median_ms"], 1)
                summary[f"{r['tool']}_p99_ratio"] = round(r["p99_ms"] / mine["p99_ms"], 1)
    summary["not_finished"] = [r["tool"] for r in rows if r["status"] != "ok"]
    payload = {
        "benchmark": "engine",
        "machine": machine(),
        "bank": "pixirt.simulation.pix_like_bank(0): 2,978 challenges; rules pix-v3 (32 steps)",
        "settings": __doc__.split("Tools:")[1].split("Run:")[0].strip(),
        "timeout_s": timeout,
        "quick": quick,
        "runs": rows,
        "summary": summary,
    }
    path = write_results("engine" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


def _line(row: dict[str, Any]) -> str:
    if row["status"] != "ok":
        return f"{row['tool']:>15}: {row['status']} {row.get('error', '')}"
    return (
        f"{row['tool']:>15}: median {row['median_ms']:8.4f} ms  p99 {row['p99_ms']:8.4f} ms  "
        f"({row['n_steps']} steps, rounds {row['round_medians_ms']})"
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
