"""Service load test: answers per second and answer latency, SQLite vs PostgreSQL, 1 vs 2
workers, 8 and 100 sessions in flight; a rolling restart of one of two replicas under load.

Loopback only, bounded in count and time. The server runs as a real process
(``python -m pixirt.cli._serve``: uvicorn, the Pix-like bank, the JSON request log
on, to /dev/null) on a fresh store: a SQLite file (WAL, synchronous=FULL) or a PostgreSQL
database on a throw-away server started for the run (``tests/pg_server.py``; fsync and
synchronous_commit on, the defaults), with ``--workers`` 1 or 2. Each client is
one keep-alive HTTP/1.1 connection running v3 sessions back to back: start, 32 answers
(deterministic statuses), the next session. A level runs until ``seconds`` have passed
or ``max_answers`` answers were recorded, whichever comes first, after a short warm-up.

Latency is measured per answer, from the request written to the reply read, by a
minimal asyncio client in its own process (so the load generator costs little CPU next
to the server on this 2-core machine). Each level also records the server's CPU time
per answer and the machine's 1-minute load average before and after (the machine is
shared: other work running at the same time lowers the figures).

Rolling restart: two replicas (one worker each) on one PostgreSQL database, 100 clients
spread over both, every request with an ``Idempotency-Key``; a request that fails on one
replica (connection refused or reset) is sent again to the other; one replica gets
SIGTERM and is started again mid-run. Afterwards each session's stored answers are
compared with the answers the clients saw acknowledged (lost, doubled), and the clients
that could not go on are counted (stuck), with every 5xx.

The issue's figures before this work (one process, SQLite): about 450 answers/s, p99
1,164 ms at 100 sessions in flight; two processes on one SQLite file stuck 10 of 10
sessions.

Two ways to load: a closed loop (each client sends its next answer as soon as it has the
reply: the most the server does, and by Little's law the mean latency is then clients /
throughput: 100 ms at 1,000 answers/s with 100 clients, so its p99 cannot be under
100 ms), and an open loop (100 clients each answering at a fixed pace, 700 or 1,000 answers/s
offered in all; latency counted from when the answer was due, so a queue shows). In both,
client k leaves its first session after k mod 32 answers so that, as with real
candidates, session starts and final scorings do not all fall at the same moment.

Settings: stores sqlite and postgresql × workers 1 and 2 × (8 clients closed loop, 100
clients closed loop, 100 clients open loop at 700 and at 1,000 answers/s); 10 s or 6,000 answers
per closed-loop level (quick: 3 s or 1,500), warm-up 1 s; rolling restart 12 s (quick
6 s); target at 100 clients on PostgreSQL with 2 workers: ≥ 1,000 answers/s (closed
loop) and p99 ≤ 100 ms at 1,000 answers/s offered (open loop), and 0 lost, 0 doubled,
0 stuck, 0 5xx in the rolling restart.

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

#: (clients, offered answers/s): None is a closed loop (each client sends its next request
#: as soon as it has the reply: the most the server does); a rate is an open loop.
LEVELS: tuple[tuple[int, float | None], ...] = (
    (8, None),
    (100, None),
    (100, 700.0),
    (100, 1000.0),
)
CONFIGS = (("sqlite", 1), ("sqlite", 2), ("postgresql", 1), ("postgresql", 2))
FULL = {"seconds": 10.0, "max_answers": 6_000, "warmup": 1.0, "rolling_seconds": 12.0}
QUICK = {"seconds": 3.0, "max_answers": 1_500, "warmup": 0.5, "rolling_seconds": 6.0}
TARGET = {
    "store": "postgresql",
    "workers": 2,
    "clients": 100,
    "answers_per_s": 1000,
    "p99_ms": 100,
}


# ============================================================================ client
class _Reply(asyncio.Protocol):
    """One keep-alive connection's replies, parsed as bytes arrive (no stream coroutines)."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        head = bytes(self.buffer[:end]).lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            stop = head.find(b"\r\n", at)
            length = int(head[at + 15 : stop if stop >= 0 else len(head)])
        if len(self.buffer) < end + 4 + length:
            return
        status = int(head[9:12])
        body = bytes(self.buffer[end + 4 : end + 4 + length])
        del self.buffer[: end + 4 + length]
        waiter, self.waiter = self.waiter, None
        if not waiter.done():
            waiter.set_result((status, body))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionResetError("the server closed the connection"))


class Connection:
    """A minimal HTTP/1.1 keep-alive client for JSON requests (an asyncio protocol: the
    load generator shares the server's two cores, so it parses as little as it can)."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.protocol: _Reply | None = None

    async def open(self) -> None:
        loop = asyncio.get_running_loop()
        _, self.protocol = await loop.create_connection(_Reply, self.host, self.port)

    async def request(
        self, method: str, path: str, body: Any = None, key: str | None = None
    ) -> tuple[int, Any]:
        protocol = self.protocol
        assert protocol is not None and protocol.transport is not None
        if protocol.closed:
            raise ConnectionResetError("the server closed the connection")
        data = b"" if body is None else json.dumps(body).encode()
        extra = f"idempotency-key: {key}\r\n" if key else ""
        head = (
            f"{method} {path} HTTP/1.1\r\nhost: {self.host}\r\n"
            f"content-type: application/json\r\ncontent-length: {len(data)}\r\n{extra}\r\n"
        ).encode()
        protocol.waiter = asyncio.get_running_loop().create_future()
        protocol.transport.write(head + data)
        status, payload = await protocol.waiter
        return status, json.loads(payload) if payload else None

    async def close(self) -> None:
        if self.protocol is not None and self.protocol.transport is not None:
            self.protocol.transport.close()


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
            cut = k % 32 if session == 1 else None  # out of step, as in the open loop
            while (
                challenge is not None
                and time.perf_counter() < stop_at
                and budget[0] > 0
                and step != cut
            ):
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


async def _paced_client(
    k: int,
    port: int,
    stop_at: float,
    warm_until: float,
    interval: float,
    first: float,
    out: list[float],
) -> dict[str, int]:
    """A client answering every ``interval`` seconds (open loop): latency from the time the
    answer was due, so a slow server's queue counts (no coordinated omission)."""
    conn = Connection("127.0.0.1", port)
    await conn.open()
    counts = {"sessions": 0, "finished": 0, "errors": 0}
    due = first
    session = 0
    try:
        while time.perf_counter() < stop_at:
            status, created = await conn.request(
                "POST",
                "/v1/sessions",
                {"rules": "pix-v3", "candidate_id": f"paced-{k}-{session}", "seed": session},
            )
            session += 1
            if status != 201:
                counts["errors"] += 1
                continue
            counts["sessions"] += 1
            sid, challenge, step = created["session_id"], created["challenge"], 0
            # candidates are not in step: client k leaves its first session after k % 32
            # answers, so session starts and final scorings spread over time
            cut = k % 32 if session == 1 else None
            while challenge is not None and time.perf_counter() < stop_at and step != cut:
                wait = due - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                status, reply = await conn.request(
                    "POST",
                    f"/v1/sessions/{sid}/answers",
                    {
                        "challenge_id": challenge["challenge_id"],
                        "status": "ok" if step % 3 else "ko",
                    },
                )
                t1 = time.perf_counter()
                if status != 200:
                    counts["errors"] += 1
                    break
                if due >= warm_until and t1 <= stop_at:
                    out.append(t1 - due)
                due += interval
                challenge, step = reply["challenge"], step + 1
                if reply["finished"]:
                    counts["finished"] += 1
    finally:
        await conn.close()
    return counts


async def _paced(port: int, clients: int, rate: float, spec: dict[str, Any]) -> dict[str, Any]:
    start = time.perf_counter()
    warm_until = start + spec["warmup"]
    stop_at = warm_until + spec["seconds"]
    interval = clients / rate
    latencies: list[float] = []
    results = await asyncio.gather(
        *(
            _paced_client(
                k, port, stop_at, warm_until, interval, start + interval * k / clients, latencies
            )
            for k in range(clients)
        )
    )
    lat = np.asarray(latencies) * 1000
    return {
        "mode": "open loop",
        "clients": clients,
        "offered_per_s": rate,
        "answers": len(latencies),
        "seconds": spec["seconds"],
        "answers_per_s": round(len(latencies) / spec["seconds"], 1),
        "p50_ms": round(float(np.percentile(lat, 50)), 2) if len(lat) else None,
        "p99_ms": round(float(np.percentile(lat, 99)), 2) if len(lat) else None,
        "max_ms": round(float(lat.max()), 2) if len(lat) else None,
        "sessions_started": sum(r["sessions"] for r in results),
        "sessions_finished": sum(r["finished"] for r in results),
        "errors": sum(r["errors"] for r in results),
    }


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
        "mode": "closed loop",
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


# ============================================================================ rolling restart
class _Failover:
    """One client's connection to whichever replica answers (the next one on failure)."""

    def __init__(self, ports: list[int], k: int) -> None:
        self.ports = ports
        self.turn = k
        self.conn: Connection | None = None
        self.failovers = 0
        self.server_errors = 0

    async def request(self, method: str, path: str, body: Any, key: str) -> tuple[int, Any]:
        for _ in range(2000):
            try:
                if self.conn is None:
                    self.conn = Connection("127.0.0.1", self.ports[self.turn % len(self.ports)])
                    await self.conn.open()
                status, reply = await self.conn.request(method, path, body, key)
            except (OSError, ValueError, IndexError, asyncio.IncompleteReadError):
                self.failovers += 1
                self.conn = None
                self.turn += 1
                await asyncio.sleep(0.01)
                continue
            if status >= 500:
                self.server_errors += 1
                await asyncio.sleep(0.01)
                continue
            return status, reply
        raise RuntimeError("no replica answered")


async def _rolling_client(
    k: int, ports: list[int], stop_at: float, out: list[float], seen: dict[str, int]
) -> dict[str, int]:
    client = _Failover(ports, k)
    counts = {"sessions": 0, "finished": 0, "stuck": 0}
    session = 0
    while time.perf_counter() < stop_at:
        body = {"rules": "pix-v3", "candidate_id": f"roll-{k}-{session}", "seed": session}
        status, created = await client.request("POST", "/v1/sessions", body, "start")
        session += 1
        if status != 201:
            counts["stuck"] += 1
            continue
        counts["sessions"] += 1
        sid, challenge = created["session_id"], created["challenge"]
        seen[sid] = 0
        while challenge is not None and time.perf_counter() < stop_at:
            step = challenge["step"]
            answer = {
                "challenge_id": challenge["challenge_id"],
                "status": "ok" if (k + step) % 3 else "ko",
            }
            t0 = time.perf_counter()
            status, reply = await client.request(
                "POST", f"/v1/sessions/{sid}/answers", answer, f"step-{step}"
            )
            if status != 200:
                counts["stuck"] += 1
                break
            out.append(time.perf_counter() - t0)
            seen[sid] += 1
            challenge = reply["challenge"]
            if reply["finished"]:
                counts["finished"] += 1
    counts["failovers"] = client.failovers
    counts["server_errors"] = client.server_errors
    return counts


async def _rolling(ports: list[int], clients: int, seconds: float) -> dict[str, Any]:
    stop_at = time.perf_counter() + seconds
    latencies: list[float] = []
    seen: dict[str, int] = {}
    results = await asyncio.gather(
        *(_rolling_client(k, ports, stop_at, latencies, seen) for k in range(clients))
    )
    # what the store holds, against what the clients saw acknowledged
    lost = doubled = 0
    checker = _Failover(ports, 0)
    for sid, acknowledged in seen.items():
        _, state = await checker.request("GET", f"/v1/sessions/{sid}", None, "")
        stored = int(state["answered"])
        lost += max(0, acknowledged - stored)
        doubled += max(0, stored - acknowledged)
    lat = np.asarray(latencies) * 1000
    return {
        "clients": clients,
        "answers": len(latencies),
        "seconds": seconds,
        "answers_per_s": round(len(latencies) / seconds, 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 2) if len(lat) else None,
        "max_ms": round(float(lat.max()), 2) if len(lat) else None,
        "sessions": len(seen),
        "lost": lost,
        "doubled": doubled,
        "stuck": sum(r["stuck"] for r in results),
        "server_errors_5xx": sum(r["server_errors"] for r in results),
        "failovers": sum(r["failovers"] for r in results),
    }


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One load level against the server on ``spec['port']`` (run in its own process)."""
    try:  # the load generator's own CPU comes off the server's two cores: uvloop's is less
        import uvloop

        run: Any = uvloop.run
    except ImportError:
        run = asyncio.run
    if spec.get("rolling"):
        return dict(run(_rolling(spec["ports"], spec["clients"], spec["seconds"])))
    if spec.get("rate"):
        return dict(run(_paced(spec["port"], spec["clients"], spec["rate"], spec)))
    return dict(run(_level(spec["port"], spec["clients"], spec)))


# ============================================================================ server
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 120.0) -> None:
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


def start_server(db: str, port: int, workers: int = 1) -> subprocess.Popen[bytes]:
    """Start ``python -m pixirt.cli._serve`` on loopback; return once it is ready."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXIRT_")}
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "pixirt.cli._serve", "--db", db,
            "--host", "127.0.0.1", "--port", str(port), "--rules", "pix-v3",
            "--workers", str(workers),
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


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=40)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _process(pid: int) -> Any:
    try:
        import psutil
    except ImportError:  # psutil is in the bench extra; the figures stay without it
        return None
    return psutil.Process(pid)


def _cpu_seconds(process: Any) -> float:
    """CPU time of a process and its children that still run (workers, backends)."""
    if process is None:
        return 0.0
    total = 0.0
    for p in [process, *process.children(recursive=True)]:
        try:
            times = p.cpu_times()
        except Exception:  # a worker gone meanwhile
            continue
        total += float(times.user + times.system)
    return total


def _children_cpu() -> float:
    """CPU time of the children this process waited for (the load generators)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return float(usage.ru_utime + usage.ru_stime)


def _worker_run(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.service", json.dumps(spec)],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"status": "timeout"}
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        tail = out.stderr.strip().splitlines()[-3:]
        return {"status": "error", "error": " | ".join(tail)}
    return {"status": "ok", **json.loads(lines[-1])}


def _pg() -> Any:
    """A throw-away PostgreSQL server (tests/pg_server.py), or None without the binaries."""
    try:
        from tests.pg_server import PostgresServer

        return PostgresServer()
    except BaseException as exc:  # pytest's Skipped when the binaries are absent
        print(f"PostgreSQL runs skipped: {exc}", flush=True)
        return None


def run(*, quick: bool = False, timeout: float = 600.0) -> dict[str, Any]:
    """Every store × workers × load level, then the rolling restart; write ``results/service.json``."""
    spec = QUICK if quick else FULL
    rows: list[dict[str, Any]] = []
    rolling: dict[str, Any] = {"status": "skipped"}
    pg = _pg()
    try:
        with tempfile.TemporaryDirectory(prefix="pixirt-bench-") as tmp:
            for n, (store, workers) in enumerate(CONFIGS):
                if store == "postgresql" and pg is None:
                    rows.append({"store": store, "workers": workers, "status": "skipped"})
                    continue
                db = pg.new_database() if store == "postgresql" else str(Path(tmp) / f"s{n}.sqlite")
                port = _free_port()
                proc = start_server(db, port, workers)
                try:
                    server = _process(proc.pid)
                    for clients, rate in LEVELS:
                        level_spec = {**spec, "port": port, "clients": clients, "rate": rate}
                        database = _process(pg.pid) if store == "postgresql" else None
                        cpu0, db0 = _cpu_seconds(server), _cpu_seconds(database)
                        client0 = _children_cpu()
                        load0 = os.getloadavg()[0]
                        row = {
                            "store": store,
                            "workers": workers,
                            "clients": clients,
                            **_worker_run(
                                level_spec,
                                min(timeout, spec["seconds"] + spec["warmup"] + 60),
                            ),
                        }
                        if row["status"] == "ok" and server is not None and row["answers"]:
                            # server CPU over the whole level (warm-up and starts included)
                            row["server_cpu_ms_per_answer"] = round(
                                1000 * (_cpu_seconds(server) - cpu0) / row["answers"], 3
                            )
                            row["database_cpu_ms_per_answer"] = round(
                                1000 * (_cpu_seconds(database) - db0) / row["answers"], 3
                            )
                            row["load_generator_cpu_ms_per_answer"] = round(
                                1000 * (_children_cpu() - client0) / row["answers"], 3
                            )
                        row["load_average_1min"] = [
                            round(load0, 2),
                            round(os.getloadavg()[0], 2),
                        ]
                        rows.append(row)
                        print(_line(row), flush=True)
                finally:
                    _stop(proc)
            if pg is not None:
                rolling = _rolling_restart(pg.new_database(), spec, timeout)
                print(f"rolling restart: {rolling}", flush=True)
    finally:
        if pg is not None:
            pg.stop()

    def at_target(mode: str, offered: float | None) -> dict[str, Any]:
        return next(
            (
                r
                for r in rows
                if (r.get("store"), r.get("workers"), r.get("clients"), r.get("mode"))
                == (TARGET["store"], TARGET["workers"], TARGET["clients"], mode)
                and r.get("offered_per_s") == offered
                and r.get("status") == "ok"
            ),
            {},
        )

    closed = at_target("closed loop", None)
    paced = at_target("open loop", float(TARGET["answers_per_s"]))
    throughput_ok = bool(
        closed
        and paced
        and closed["answers_per_s"] >= TARGET["answers_per_s"]
        and paced["answers_per_s"] >= 0.98 * TARGET["answers_per_s"]
        and paced["p99_ms"] <= TARGET["p99_ms"]
    )
    rolling_ok = bool(
        rolling.get("status") == "ok"
        and rolling["lost"] == rolling["doubled"] == rolling["stuck"] == 0
        and rolling["server_errors_5xx"] == 0
    )
    payload = {
        "benchmark": "service",
        "machine": machine(),
        "settings": (__doc__ or "").split("Settings:")[1].split("Run:")[0].strip(),
        "quick": quick,
        "target": TARGET,
        "meets_target": throughput_ok and rolling_ok,
        "meets_throughput_target": throughput_ok,
        "rolling_restart_clean": rolling_ok,
        "before": {
            "store": "sqlite",
            "workers": 1,
            "clients": 100,
            "answers_per_s": 450,
            "p99_ms": 1164,
            "source": "issue #17 (one process, one SQLite file)",
        },
        "runs": rows,
        "rolling_restart": rolling,
    }
    path = write_results("service" + ("-quick" if quick else ""), payload)
    print(f"wrote {path}")
    return payload


def _rolling_restart(db: str, spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    """Two replicas on one PostgreSQL database; one is restarted (SIGTERM, start) mid-run."""
    ports = [_free_port(), _free_port()]
    procs = [start_server(db, port) for port in ports]
    try:
        seconds = float(spec["rolling_seconds"])
        load = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "benchmarks.service",
                json.dumps({"rolling": True, "ports": ports, "clients": 100, "seconds": seconds}),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(seconds / 3)
        _stop(procs[0])  # SIGTERM: drain
        procs[0] = start_server(db, ports[0])
        out, err = load.communicate(timeout=min(timeout, seconds + 120))
        lines = [ln for ln in out.splitlines() if ln.startswith("{")]
        if load.returncode != 0 or not lines:
            return {"status": "error", "error": " | ".join(err.strip().splitlines()[-3:])}
        return {
            "status": "ok",
            "restarted": "replica 1 of 2 (SIGTERM, then started)",
            **json.loads(lines[-1]),
        }
    finally:
        for proc in procs:
            _stop(proc)


def _line(row: dict[str, Any]) -> str:
    if row.get("status") != "ok":
        return f"{row.get('store')} x{row.get('workers')} {row.get('clients')} clients: {row}"
    return (
        f"{row['store']:>10} x{row['workers']} {row['clients']:>3} clients {row['mode']:>11}: "
        f"{row['answers_per_s']:8.1f} answers/s  "
        f"p50 {row['p50_ms']:6.2f} ms  p99 {row['p99_ms']:6.2f} ms  "
        f"({row['answers']} answers, {row['sessions_finished']} sessions finished, {row['errors']} errors)"
    )


if __name__ == "__main__":
    print(json.dumps(worker(json.loads(sys.argv[1]))))
