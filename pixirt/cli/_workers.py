"""``pixirt serve --workers N`` on Linux: N processes, each listening on the port itself.

uvicorn's own supervisor shares one listening socket between its workers, and whichever
worker wakes first accepts a burst of connections: 100 keep-alive clients split 58/42,
69/31, then 86/14 in three tries (measured), so one worker saturated while the other
idled. Here each worker binds its own socket with ``SO_REUSEPORT``, and the kernel
spreads new connections over the sockets by a hash of their addresses (Linux).

The supervisor starts the workers, replaces one that dies, and on SIGTERM or SIGINT
passes the signal on and waits: each worker drains (no new connection, the requests in
flight finish up to ``--graceful-seconds``, the store closes). A worker that dies before
it served stops the whole service (a start-up error, e.g. a store that cannot be
opened, would otherwise restart forever).
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import socket
import sys
import time
from typing import Any

__all__ = ["reuse_port_available", "run_workers", "tune_gc"]


def reuse_port_available(port: int) -> bool:
    """Whether the kernel balances connections over ``SO_REUSEPORT`` sockets here (Linux).

    Only for a fixed port: port 0 would give each worker a port of its own.
    """
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT") and port != 0


def tune_gc() -> None:
    """Collect garbage less often (a server allocates many short-lived objects a request).

    Young collections every 50,000 allocations; a full collection only after 1,000 of the
    middle generation's (about every half hour at 1,000 answers/s). A full collection
    paused a worker 30 to 80 ms, three times in 25 s of load with the default 20 — the
    service's tail latency; the young collections still free the short-lived cycles.
    """
    gc.set_threshold(50_000, 20, 1_000)


def _listening_socket(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock


def _worker(options: dict[str, Any], ready: Any) -> None:
    """One worker process: the service's app on a socket of its own.

    Spawned: a fresh interpreter reading the settings from the environment, as uvicorn's
    workers do. ``ready`` is set once the worker serves.
    """
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                ready.set()

    tune_gc()
    sock = _listening_socket(options["host"], options["port"])
    config = uvicorn.Config("pixirt.cli._serve:worker_app", factory=True, **options)
    Server(config).run(sockets=[sock])


def run_workers(options: dict[str, Any], workers: int) -> int:
    """Run ``workers`` processes until SIGTERM or SIGINT; the exit status.

    Parameters
    ----------
    options
        ``uvicorn.Config`` keyword arguments (``host`` and ``port`` included).
    workers
        How many processes.

    Returns
    -------
    int
        0 after a drain on a signal; 1 when a worker failed at start-up.
    """
    context = multiprocessing.get_context("spawn")
    received: list[int] = []
    previous = {
        sig: signal.signal(sig, lambda s, _frame: received.append(s))
        for sig in (signal.SIGTERM, signal.SIGINT)
    }

    def start() -> tuple[Any, Any]:
        ready = context.Event()
        process = context.Process(target=_worker, args=(options, ready), name="pixirt-worker")
        process.start()
        return process, ready

    status = 0
    processes = [start() for _ in range(workers)]
    try:
        while not received:
            time.sleep(0.2)
            for i, (process, ready) in enumerate(processes):
                if process.is_alive() or received:
                    continue
                if not ready.is_set():
                    print(
                        f"pixirt serve: worker {process.pid} exited at start-up "
                        f"(status {process.exitcode}): stopping",
                        file=sys.stderr,
                    )
                    status = 1
                    received.append(signal.SIGTERM)
                    break
                print(
                    f"pixirt serve: worker {process.pid} died (status {process.exitcode}): "
                    "starting another",
                    file=sys.stderr,
                )
                processes[i] = start()
    finally:
        for process, _ in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process, _ in processes:
            process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
