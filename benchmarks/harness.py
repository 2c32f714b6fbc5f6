"""Shared machinery: run one measurement in a fresh subprocess, time it warm, sample its memory.

Each (tool, case) runs in its own Python process so imports, JIT compilation and memory
do not leak between tools. The worker reports:

- ``setup_s``: import + warm-up on a tiny problem (compilation, caches), reported apart;
- ``seconds``: wall time of the measured call, warm;
- ``peak_mib``: peak resident memory *increase* during the call over the process's
  resident memory just before it (data already in memory), sampled every 5 ms;
- whatever the worker adds (accuracy, iterations, ...).

A run that exceeds its time limit is killed and recorded as ``{"status": "timeout"}``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"


class PeakMemory:
    """Sample this process's RSS in a thread; ``peak_mib`` is the increase over the start."""

    def __init__(self, interval: float = 0.005) -> None:
        import psutil

        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.start_rss = self._proc.memory_info().rss
        self.peak_rss = self.start_rss
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self._proc.memory_info().rss)
            time.sleep(self._interval)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_rss = max(self.peak_rss, self._proc.memory_info().rss)

    @property
    def peak_mib(self) -> float:
        return (self.peak_rss - self.start_rss) / 2**20


class TreePeakMemory:
    """Sample the summed RSS of this process and all its descendants in a thread.

    ``peak_mib``: the peak increase over this process's RSS at the start; ``peak_rss_mib``:
    the peak total. Worker processes started by the measured call are included (the list
    of descendants is refreshed every 10 samples: it costs a scan of ``/proc``).
    """

    def __init__(self, interval: float = 0.02) -> None:
        import psutil

        self._psutil = psutil
        self._proc = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.start_rss = self._proc.memory_info().rss
        self.peak_rss = self.start_rss
        self._children: list[Any] = []
        self._samples = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree_rss(self) -> int:
        if self._samples % 10 == 0:
            self._children = self._proc.children(recursive=True)
        self._samples += 1
        total = self._proc.memory_info().rss
        for child in self._children:
            try:
                total += child.memory_info().rss
            except (self._psutil.NoSuchProcess, self._psutil.AccessDenied):
                pass  # a worker that just ended
        return int(total)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_rss = max(self.peak_rss, self._tree_rss())
            time.sleep(self._interval)

    def __enter__(self) -> TreePeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._samples = 0  # a last sample with a fresh list
        self.peak_rss = max(self.peak_rss, self._tree_rss())

    @property
    def peak_mib(self) -> float:
        return (self.peak_rss - self.start_rss) / 2**20

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss / 2**20


def measure(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run ``call`` once; return its value, wall seconds and peak memory increase (MiB)."""
    with PeakMemory() as mem:
        t0 = time.perf_counter()
        value = call()
        seconds = time.perf_counter() - t0
    return value, seconds, mem.peak_mib


def run_worker(module: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Run ``python -m module '<spec json>'`` and parse the JSON line it prints last."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    try:
        proc = subprocess.run(
            [sys.executable, "-m", module, json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {**spec, "status": "timeout", "timeout_s": timeout}
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {**spec, "status": "error", "error": " | ".join(tail)}
    return {**spec, "status": "ok", **json.loads(lines[-1])}


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import numpy as np

    info: dict[str, Any] = {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
    }
    try:
        import psutil

        info["memory_gib"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    return info


def write_results(name: str, payload: dict[str, Any]) -> Path:
    """Write ``results/<name>.json`` atomically."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    fd, tmp = tempfile.mkstemp(dir=RESULTS, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        json.dump(payload, fh, indent=2, sort_keys=False)
        fh.write("\n")
    os.replace(tmp, path)
    return path
