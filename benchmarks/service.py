"""Service load test: answers per second and answer latency with 1, 8 and 32 clients.

Loopback only, bounded in count and time. The server runs as a real process
(``python -m pixirt.service.serve_cli``: uvicorn, the Pix-like bank, a fresh SQLite file
with WAL and synchronous=FULL, the JSON request log on, to /dev/null). Each client is
one keep-alive HTTP/1.1 connection running v3 sessions back to back: start, 32 answers
(deterministic statuses), the next session. A level runs until ``seconds`` have passed
or ``max_answers`` answers were recorded, whichever comes first, after a short warm-up.

Latency is measured per answer, from the request written to the reply read, by a
minimal asyncio client in its own process (so the load generator costs little CPU next
to the server on this 2-core machine). Each level also records the server's CPU time
per answer and the machine's 1-minute load average before and after (the machine is
shared: other work running at the same time lowers the figures).

Settings: levels 1, 8 and 32 clients; 10 s or 6,000 answers per level (quick: 3 s or
1,500), warm-up 1 s; target ≥ 500 answers/s with p99 ≤ 50 ms at 8 clients.

Run: ``python -m benchmarks.run service [--quick]``; a worker is
``python -m benchmarks.service '<json spec>'``.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.harness import machine, write_results

LEVELS = (1, 8, 32)
FULL = {"seconds": 10.0, "max_answers": 6_000, "warmup": 1.0}
QUICK = {"seconds": 3.0, "max_answers": 1_500, "warmup": 0.5}
TARGET = {"clients": 8, "answers_per_s": 500, "p99_ms": 50}


# ============================================================================ client
class Connection:
    """A minimal HTTP/1.1 keep-alive client for JSON requests."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        assert self.reader is not None and self.writer is not None
        data = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nhost: {self.host}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(data)}\r\n\r\n"
        ).encode()
        self.writer.write(head + data)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        payload = await self.reader.readexactly(length) if length else b""
        return status, json.loads(payload) if payload else None

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def _client(
    k: int, port: int, stop_at: float, warm_until: float, budget: list[int], out: list[float]
) -> dict[str, int]:
    conn = Connection("127.0.0.1", port)
    await conn.open()
    counts = {"sessions": 0, "finished": 0, "errors": 0}
    session = 0
    try:
        while time.perf_counter() < stop_at and budget[0] > 0:
            status, created = await conn.request(
                "POST",
                "/v1/sessions",
                {"rules": "pix-v3", "candidate_id": f"load-{k}-{session}", "seed": session},
            )
            session += 1
            if status != 201:
                counts["errors"] += 1
                continue
            counts["sessions"] += 1
            sid, challenge, step = created["session_id"], created["challenge"], 0
            while challenge is not None and time.perf_counter() < stop_at and budget[0] > 0:
                answer = "ok" if (k + step) % 3 else "ko"
                t0 = time.perf_counter()
                status, reply = await conn.request(
                    "POST",
                    f"/v1/sessions/{sid}/answers",
                    {"challenge_id": challenge["challenge_id"], "status": answer},
                )
                t1 = time.perf_counter()
                if status != 200:
                    counts["errors"] += 1
                    break
                if t0 >= warm_until:
                    out.append(t1 - t0)
                    budget[0] -= 1
                challenge, step = reply["challenge"], step + 1
                if reply["finished"]:
                    counts["finished"] += 1
    finally:
        await conn.close()
    return counts


async def _level(port: int, clients: int, spec: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    warm_until = start + spec["warmup"]
    stop_at = warm_until + spec["seconds"]
    budget = [int(spec["max_answers"])]
    latencies: list[float] = []
    results = await asyncio.gather(
        *(_client(k, port, stop_at, warm_until, budget, latencies) for k in range(clients))
    )
    elapsed = min(time.perf_counter(), stop_at) - warm_until
    lat = np.asarray(latencies) * 1000
    return {
        "clients": clients,
        "answers": len(latencies),
        "seconds": round(elapsed, 3),
        "answers_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 2) if len(lat) else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 2) if len(lat) else None,
        "max_ms": round(float(lat.max()), 2) if len(lat) else None,
        "sessions_started": sum(r["sessions"] for r in results),
        "sessions_finished": sum(r["finished"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One load level against the server on ``spec['port']`` (run in its own process)."""
    return asyncio.run(_level(spec["port"], spec["clients"], spec))


# ============================================================================ server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with status {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"GET /ready HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
                if b" 200 " in s.recv(200):
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the server did not become ready")


def start_server(db: Path, port: int) -> subprocess.Popen[bytes]:
    """Start ``python -m pixirt.service.serve_cli`` on loopback; return once it is ready."""
    env = {**os.environ, "PIXIRT_TOKEN": ""}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "pixirt.service.serve_cli", "--db", str(db),
            "--host", "127.0.0.1", "--port", str(port), "--rules", "pix-v3",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )  # fmt: skip
    try:
        _wait_ready(port, proc)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return proc


def _process(pid: int) -> Any:
    try:
        import psutil
    except ImportError:  # psutil is in the bench extra; the figures stay without it
        return None
    return psutil.Process(pid)


def _cpu_seconds(process: Any) -> float:
    if process is None:
        return 0.0
    times = process.cpu_times()
    return float(times.user + times.system)


def run(*, quick: bool = False, timeout: float = 600.0) -> dict[str, Any]:
    """Every load level against one server; write ``results/service.json``."""
    spec = QUICK if quick else FULL
    rows = []
    with tempfile.TemporaryDirectory(prefix="pixirt-bench-") as tmp:
        port = _free_port()
        proc = start_server(Path(tmp) / "sessions.sqlite", port)
        try:
            server = _process(proc.pid)
            for clients in LEVELS:
                level_spec = {**spec, "port": port, "clients": clients}
                cpu0 = _cpu_seconds(server)
                load0 = os.getloadavg()[0]
                try:
                    out = subprocess.run(
                        [sys.executable, "-m", "benchmarks.service", json.dumps(level_spec)],
                        capture_output=True,
                        text=True,
                        timeout=min(timeout, spec["seconds"] + spec["warmup"] + 60),
                        check=False,
                    )
                except subprocess.TimeoutExpired:
                    rows.append({"clients": clients, "status": "timeout"})
                    continue
                lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
                if out.returncode != 0 or not lines:
                    tail = out.stderr.strip().splitlines()[-3:]
                    rows.append({"clients": clients, "status": "error", "error": " | ".join(tail)})
                    continue
                row = {"status": "ok", **json.loads(lines[-1])}
                if server is not None and row["answers"]:
                    # server CPU over the whole level (warm-up and session starts included)
                    row["server_cpu_ms_per_answer"] = round(
                        1000 * (_cpu_seconds(server) - cpu0) / row["answers"], 3
                    )
                row["load_average_1min"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
                rows.append(row)
                print(_line(row), flush=True)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    at_target = next((r for r in rows if r.get("clients") == TARGET["clients"]), {})
    payload = {
        "benchmark": "service",
        "machine": machine(),
        "settings": __doc__.split("Settings:")[1].split("Run:")[0].strip(),
        "quick": quick,
        "target": TARGET,
        "meets_target": bool(
            at_target.get("status") == "ok"
            and at_target["answers_per_s"] >= TARGET["answers_per_s"]
            and at_target["p99_ms"] <= TARGET["p99_ms"]
        ),
        "runs": rows,
    }
    path = write_results("service" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


def _line(row: dict[str, Any]) -> str:
    return (
        f"{row['clients']:>3} clients: {row['answers_per_s']:8.1f} answers/s  "
        f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:6.2f} ms  "
        f"({row['answers']} answers, {row['sessions_finished']} sessions finished, {row['errors']} errors)"
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
