"""``pixirt serve``: run the certification service with uvicorn.

Usage::

    pixirt serve --bank bank.csv --rules pix-v3 --db sessions.sqlite --host 127.0.0.1 --port 8000
    pixirt serve --db postgresql://pixirt@db/pixirt --workers 4 --host 0.0.0.0

``--workers N`` runs N processes on the one store, each loading the bank and rule sets
itself. On Linux each worker listens on the port with its own socket (``SO_REUSEPORT``:
the kernel spreads the connections evenly, see :mod:`pixirt.cli._workers`); elsewhere,
uvicorn's supervisor shares one socket. SIGTERM drains: no new connection is accepted,
the requests in flight finish (up to ``--graceful-seconds``), then the store closes.

Every option falls back on its ``PIXIRT_*`` variable (:mod:`pixirt.service._settings`),
then on the default. The bearer token is read from ``PIXIRT_TOKEN`` only: a command
line is visible to every user of the machine. Also runnable as
``python -m pixirt.cli._serve``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

from pixirt.cli._workers import reuse_port_available, run_workers, tune_gc
from pixirt.exceptions import PixirtError

__all__ = ["add_serve_parser", "main", "serve_command", "worker_app"]


def worker_app() -> Any:
    """The app of one ``--workers`` process (uvicorn's factory): settings from ``PIXIRT_*``."""
    from pixirt.service import create_app

    tune_gc()
    return create_app()


def _configure(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser.add_argument(
        "--bank", default=None, help="item bank file (default: PIXIRT_BANK, else the Pix-like bank)"
    )
    parser.add_argument(
        "--rules",
        action="append",
        default=None,
        help="rule set served (name or TOML path; repeat or separate by commas; "
        "default: PIXIRT_RULES, else every shipped rule set)",
    )
    parser.add_argument(
        "--db",
        default=None,
        help="session store: postgresql://… or sqlite:///path or a SQLite file path "
        "(default: PIXIRT_DB, else sessions.sqlite)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="processes serving the one store (default: PIXIRT_WORKERS, else 1)",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="request threads per process (default: PIXIRT_THREADS, else 8)",
    )
    parser.add_argument(
        "--graceful-seconds",
        type=float,
        default=30.0,
        help="on SIGTERM, how long requests in flight may take to finish (default 30)",
    )
    parser.add_argument(
        "--reply-retention-hours",
        type=float,
        default=None,
        help="idempotent replies kept this long (default 24; 0: forever)",
    )
    parser.add_argument(
        "--session-retention-days",
        type=float,
        default=None,
        help="finished and aborted sessions kept this long (default 0: forever)",
    )
    parser.add_argument("--host", default=None, help="interface (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=None, help="TCP port (default 8000)")
    parser.add_argument(
        "--session-ttl-minutes", type=float, default=None, help="session lifetime (default 105)"
    )
    parser.add_argument(
        "--max-body-bytes", type=int, default=None, help="request body limit (default 65536)"
    )
    parser.add_argument(
        "--cache-size", type=int, default=None, help="sessions kept warm in memory (default 10000)"
    )
    parser.add_argument(
        "--no-request-log",
        dest="log_requests",
        action="store_const",
        const=False,
        default=None,
        help="no JSON line per request on standard error",
    )
    parser.add_argument(
        "--log-level",
        default="warning",
        choices=("critical", "error", "warning", "info", "debug"),
        help="uvicorn's own log level (default warning)",
    )
    parser.set_defaults(func=serve_command)
    return parser


def add_serve_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``serve`` sub-command to an :mod:`argparse` sub-parser collection.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``serve`` parser; its ``func`` default is :func:`serve_command`.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "serve",
        help="run the certification engine as an HTTP service (needs pixirt[service])",
        description=(
            "Serve the certification engine over HTTP: durable sessions in SQLite, "
            "stateless scoring, the rule sets. OpenAPI at /openapi.json."
        ),
    )
    return _configure(parser)


def serve_command(args: argparse.Namespace) -> int:
    """Run ``pixirt serve`` until interrupted.

    The bank and the rule sets are loaded before the server starts, so a bad file is
    reported as one line (exit status 2 from :func:`pixirt.cli.main` or :func:`main`).

    Parameters
    ----------
    args
        Parsed arguments (see :func:`add_serve_parser`).

    Returns
    -------
    int
        0 when the server stopped normally.
    """
    try:
        import uvicorn

        from pixirt.service import create_app
    except ImportError as exc:
        print(
            f"pixirt serve: the HTTP service needs its extra ({exc.name} is missing): "
            "pip install 'pixirt[service]'",
            file=sys.stderr,
        )
        return 2

    from pixirt import ItemBank
    from pixirt import rules as rules_module
    from pixirt.service import Settings

    rules_arg: tuple[str, ...] | None = None
    if args.rules:
        rules_arg = tuple(p.strip() for r in args.rules for p in r.split(",") if p.strip())
    settings = Settings.from_env(
        bank=args.bank,
        rules=rules_arg,
        db=args.db,
        host=args.host,
        port=args.port,
        session_ttl_minutes=args.session_ttl_minutes,
        max_body_bytes=args.max_body_bytes,
        cache_size=args.cache_size,
        log_requests=args.log_requests,
        workers=args.workers,
        threads=args.threads,
        reply_retention_hours=args.reply_retention_hours,
        session_retention_days=args.session_retention_days,
    )
    if settings.bank is not None:
        bank = ItemBank.read(settings.bank)
    else:
        from pixirt.simulation import pix_like_bank

        bank = pix_like_bank(0)
    rule_sets = [rules_module.load(r) for r in (settings.rules or rules_module.available())]
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "access_log": False,
        "log_level": args.log_level,
        "timeout_graceful_shutdown": args.graceful_seconds,
    }
    if settings.workers > 1:
        # the workers are new processes: they read the (checked) settings from the
        # environment and build the app with the factory
        os.environ.update(settings.to_env())
        if reuse_port_available(settings.port):
            # a listening socket per worker: the kernel balances the connections
            return run_workers(options, settings.workers)
        uvicorn.run(
            "pixirt.cli._serve:worker_app",
            factory=True,
            workers=settings.workers,
            **options,
        )
        return 0
    tune_gc()
    uvicorn.run(create_app(settings, bank=bank, rule_sets=rule_sets), **options)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m pixirt.cli._serve [options]``: the ``serve`` sub-command alone."""
    parser = _configure(argparse.ArgumentParser(prog="pixirt serve", description=__doc__))
    args = parser.parse_args(argv)
    try:
        return serve_command(args)
    except PixirtError as exc:
        print(f"pixirt serve: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
