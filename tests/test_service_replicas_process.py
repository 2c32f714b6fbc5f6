"""Two replicas as real processes on one store (SQLite file, PostgreSQL database), clients
spread over both as behind a load balancer: a ``kill -9`` of one replica mid-burst, then a
rolling restart (SIGTERM, start again, one replica after the other) under load: no answer
lost, doubled or stuck, no 5xx, every session the engine's."""

from __future__ import annotations

import itertools
import threading
import time

import httpx
import pytest
from test_service_process import Server, answer_for, reference

from pixirt import rules
from pixirt.simulation import pix_like_bank

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

N_SESSIONS = 6


@pytest.fixture(scope="module")
def bank():
    return pix_like_bank(seed=0)


class Load:
    """Sessions driven over two replicas, round robin; a failed request goes to the next."""

    def __init__(self, servers, bank, tag: str) -> None:
        self.servers = servers
        self.bank = bank
        self.tag = tag
        self.acknowledged = 0
        self.server_errors: list[str] = []
        self.transport_errors = 0
        self.lock = threading.Lock()
        self.results: dict[int, tuple[str, int, int]] = {}

    def request(self, clients, turn, method, path, body):
        for attempt in range(600):
            http = clients[next(turn) % len(clients)]
            try:
                r = http.request(method, path, json=body)
            except httpx.TransportError:
                with self.lock:
                    self.transport_errors += 1
                time.sleep(0.01 if attempt < 100 else 0.05)
                continue
            if r.status_code >= 500:
                with self.lock:
                    self.server_errors.append(f"{r.status_code} {r.text[:200]}")
                time.sleep(0.01)
                continue
            return r
        raise AssertionError(f"no replica answered {method} {path}")

    def drive(self, i: int) -> None:
        clients = [httpx.Client(base_url=s.url, timeout=30) for s in self.servers]
        turn = itertools.count(i)
        try:
            seed = 100 + i
            body = {
                "rules": "pix-v3",
                "candidate_id": f"{self.tag}-{i}",
                "seed": seed,
                "idempotency_key": "start",
            }
            r = self.request(clients, turn, "POST", "/v1/sessions", body)
            assert r.status_code == 201, r.text
            sid, ch = r.json()["session_id"], r.json()["challenge"]
            index = int(r.json()["candidate_index"])
            while ch is not None:
                status = answer_for(seed, index, ch["step"], ch["challenge_id"], self.bank)
                answer = {
                    "challenge_id": ch["challenge_id"],
                    "status": status,
                    "idempotency_key": f"step-{ch['step']}",
                }
                r = self.request(clients, turn, "POST", f"/v1/sessions/{sid}/answers", answer)
                assert r.status_code == 200, r.text
                ch = r.json()["challenge"]
                with self.lock:
                    self.acknowledged += 1
            self.results[i] = (sid, seed, index)
        finally:
            for c in clients:
                c.close()

    def start(self) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.drive, args=(i,)) for i in range(N_SESSIONS)]
        for t in threads:
            t.start()
        return threads

    def wait_for(self, n: int) -> None:
        for _ in range(3000):
            if self.acknowledged >= n:
                return
            time.sleep(0.01)
        raise AssertionError(f"only {self.acknowledged} answers acknowledged")

    def check(self, threads, server, rs) -> None:
        for t in threads:
            t.join(timeout=120)
        assert not any(t.is_alive() for t in threads), "a client is stuck"
        assert self.server_errors == []
        assert len(self.results) == N_SESSIONS
        for i, (sid, seed, index) in self.results.items():
            expected, result = reference(
                self.bank, rs, seed=seed, index=index, candidate_id=f"{self.tag}-{i}"
            )
            got = httpx.get(f"{server.url}/v1/sessions/{sid}", timeout=30).json()
            served = [e["challenge_id"] for e in got["history"] if e["kind"] == "answer"]
            assert got["status"] == "finished"
            assert served == expected  # none lost, none doubled
            res = httpx.get(f"{server.url}/v1/sessions/{sid}/result", timeout=30).json()
            assert res["pix_score"] == result["pix_score"]


def test_kill_and_rolling_restart_of_replicas_lose_nothing(store_url, tmp_path, bank):
    rs = rules.load("pix-v3")
    a = Server(store_url, tmp_path / "a.log").start()
    b = Server(store_url, tmp_path / "b.log").start()
    try:
        # 1. kill -9 of one replica among two, mid-burst
        load = Load([a, b], bank, "kill")
        threads = load.start()
        load.wait_for(40)
        a.kill()
        load.check(threads, b, rs)
        assert load.transport_errors > 0  # the clients did see the replica die
        a.start()
        # 2. rolling restart under load: SIGTERM (drain), start again, one after the other
        load = Load([a, b], bank, "roll")
        threads = load.start()
        load.wait_for(30)
        for server in (b, a):
            server.stop()
            server.start()
        load.check(threads, a, rs)
    finally:
        a.stop()
        b.stop()


def test_serve_with_two_workers_on_postgresql(pg_server, tmp_path, bank):
    """``pixirt serve --workers 2``: two processes serve one store; SIGTERM drains them.

    PostgreSQL only (the platform's set-up; SQLite's multi-process safety is the replicas
    test above), to keep the suite short.
    """
    store_url = pg_server.new_database()
    import os
    import signal
    import subprocess
    import sys

    import psutil
    from test_service_process import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXIRT_")}
    log = open(tmp_path / "w.log", "wb")
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "pixirt.cli._serve", "--db", store_url,
            "--port", str(port), "--rules", "pix-v3", "--workers", "2", "--no-request-log",
        ],
        stdout=log,
        stderr=log,
        env=env,
    )  # fmt: skip
    server = Server(store_url, tmp_path / "unused.log", port=port)
    try:
        for _ in range(1200):  # a bound against a hung start, not a check
            assert proc.poll() is None, (tmp_path / "w.log").read_text()[-2000:]
            try:
                if httpx.get(server.url + "/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        workers = [
            c for c in psutil.Process(proc.pid).children(recursive=True) if "python" in c.name()
        ]
        assert len(workers) >= 2
        load = Load([server], bank, "workers")
        threads = load.start()
        load.check(threads, server, rules.load("pix-v3"))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        log.close()
    assert code == 0


def _worker_processes(pid: int) -> list:
    """The service's worker processes (multiprocessing's resource tracker left out)."""
    import psutil

    found = []
    for c in psutil.Process(pid).children():
        try:
            if "python" in c.name() and "resource_tracker" not in " ".join(c.cmdline()):
                found.append(c)
        except psutil.Error:  # a worker just killed: a zombie until the supervisor reaps it
            continue
    return found


def _start_workers(store_url: str, tmp_path, workers: int = 2):
    """``pixirt serve --workers N`` on a free port; (process, port, log path) once ready."""
    import os
    import subprocess
    import sys

    from test_service_process import free_port

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXIRT_")}
    log_path = tmp_path / "workers.log"
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "pixirt.cli._serve", "--db", store_url,
            "--port", str(port), "--rules", "pix-v3", "--workers", str(workers),
            "--no-request-log",
        ],
        stdout=open(log_path, "wb"),
        stderr=subprocess.STDOUT,
        env=env,
    )  # fmt: skip
    for _ in range(2400):  # a bound against a hung start, not a check
        assert proc.poll() is None, log_path.read_text()[-2000:]
        if len(_listeners_and_connections(port, 0)[0]) == workers:  # every worker listens
            break
        time.sleep(0.05)
    return proc, port, log_path


def _listeners_and_connections(port: int, n_connections: int) -> tuple[list[int], dict[int, int]]:
    """The pids owning a listening socket on ``port`` (one per socket) and, with
    ``n_connections`` keep-alive connections open, how many each pid accepted."""
    import collections
    import socket

    import psutil

    def owners(status: str) -> list[int]:
        found = []
        for p in psutil.process_iter():
            try:
                for c in p.net_connections(kind="tcp"):
                    if c.status == status and c.laddr and c.laddr.port == port:
                        found.append(p.pid)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
        return found

    listeners = owners(psutil.CONN_LISTEN)
    clients = []
    try:
        for _ in range(n_connections):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
            s.recv(1000)  # accepted and served: the connection belongs to a worker
            clients.append(s)
        accepted = collections.Counter(owners(psutil.CONN_ESTABLISHED))
    finally:
        for s in clients:
            s.close()
    return listeners, dict(accepted)


def test_workers_listen_each_on_its_own_socket_and_share_the_connections(pg_server, tmp_path):
    """Issue 17 (found while measuring): uvicorn's workers shared one listening socket and
    100 keep-alive clients split 58/42, 69/31, 86/14 between two workers, so one worker
    saturated. Each worker now listens itself (SO_REUSEPORT): the kernel balances."""
    import signal

    proc, port, log_path = _start_workers(pg_server.new_database(), tmp_path)
    try:
        workers = {c.pid for c in _worker_processes(proc.pid)}
        listeners, accepted = _listeners_and_connections(port, 100)
        assert sorted(listeners) == sorted(workers) and len(workers) == 2, (listeners, workers)
        assert set(accepted) == workers, accepted
        # the hash of 100 client ports: each share is 50 ± 5 (below 25 once in 10^6 runs)
        assert min(accepted.values()) >= 25, accepted
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
    assert code == 0, log_path.read_text()[-2000:]


def test_a_dead_worker_is_replaced_and_a_failed_start_stops_the_service(pg_server, tmp_path):
    import signal

    proc, port, log_path = _start_workers(pg_server.new_database(), tmp_path)
    try:
        victim = _worker_processes(proc.pid)[0]
        victim.kill()  # kill -9: the supervisor starts another
        for _ in range(1200):
            alive = _worker_processes(proc.pid)
            if len(alive) == 2 and victim.pid not in {c.pid for c in alive}:
                listeners, _ = _listeners_and_connections(port, 0)
                if len(listeners) == 2:
                    break
            time.sleep(0.05)
        else:
            raise AssertionError(log_path.read_text()[-2000:])
        assert httpx.get(f"http://127.0.0.1:{port}/ready", timeout=5).status_code == 200
        assert "starting another" in log_path.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    # a store that cannot be opened: the workers die at start-up, the service stops with 1
    import os
    import subprocess
    import sys

    from test_service_process import free_port

    env = {k: v for k, v in os.environ.items() if not k.startswith("PIXIRT_")}
    bad = pg_server.new_database().rsplit("/", 1)[0] + "/no_such_database"
    failed = subprocess.run(
        [
            sys.executable, "-m", "pixirt.cli._serve", "--db", bad, "--port",
            str(free_port()), "--rules", "pix-v3", "--workers", "2", "--no-request-log",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )  # fmt: skip
    assert failed.returncode == 1, failed.stderr[-2000:]
    assert "exited at start-up" in failed.stderr
