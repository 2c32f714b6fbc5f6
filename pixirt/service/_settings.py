"""Service configuration: a frozen dataclass, read from arguments or ``PIXIRT_*`` variables.

=================================  ==========================  ===========================================
variable                           field                       default
=================================  ==========================  ===========================================
``PIXIRT_BANK``                    ``bank``                    none: the Pix-like bank of seed 0
``PIXIRT_RULES``                   ``rules``                   every shipped rule set
``PIXIRT_DB``                      ``db``                      ``sessions.sqlite`` (or ``postgresql://…``)
``PIXIRT_TOKEN``                   ``token``                   none: no authentication
``PIXIRT_SESSION_TTL_MINUTES``     ``session_ttl_minutes``     105
``PIXIRT_MAX_BODY_BYTES``          ``max_body_bytes``          65536
``PIXIRT_CACHE_SIZE``              ``cache_size``              10000 sessions kept warm in memory
``PIXIRT_LOG_REQUESTS``            ``log_requests``            true (one JSON line per request)
``PIXIRT_HOST``                    ``host``                    ``127.0.0.1``
``PIXIRT_PORT``                    ``port``                    8000
``PIXIRT_WORKERS``                 ``workers``                 1 process (``pixirt serve``)
``PIXIRT_THREADS``                 ``threads``                 8 request threads per process
``PIXIRT_REPLY_RETENTION_HOURS``   ``reply_retention_hours``   24 (idempotent replies; 0: keep)
``PIXIRT_SESSION_RETENTION_DAYS``  ``session_retention_days``  0: keep finished sessions
``PIXIRT_PURGE_INTERVAL_SECONDS``  ``purge_interval_seconds``  300 (0: never)
=================================  ==========================  ===========================================

``PIXIRT_RULES`` is a comma-separated list of shipped names or TOML paths. Explicit
arguments win over the environment (:meth:`Settings.from_env`). The token never appears
in a ``repr``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from pixirt.exceptions import DataError

__all__ = ["Settings"]

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


@dataclass(frozen=True, slots=True)
class Settings:
    """How the service runs.

    Attributes
    ----------
    bank
        Item bank file (anything :meth:`pixirt.ItemBank.read` reads); None serves the
        Pix-like bank :func:`pixirt.simulation.pix_like_bank` of seed 0 (demos, tests).
    rules
        Rule sets served (shipped names or TOML paths); empty: every shipped rule set.
        A session names one of them by its id.
    db
        The session store: ``postgresql://user@host/dbname`` (several replicas share it),
        ``sqlite:///abs/path.sqlite`` or a plain path to a SQLite file (created if missing).
    token
        Bearer token required by every endpoint but ``/health`` and ``/ready``; None
        leaves the service open (for a loopback or sidecar deployment).
    session_ttl_minutes
        A session expires this long after it started (Pix: 105 minutes).
    max_body_bytes
        Larger request bodies are refused with 413.
    cache_size
        Sessions kept in memory with their engine state (the store stays the truth).
    log_requests
        Write one JSON line per request on standard error.
    host, port
        Where ``pixirt serve`` listens.
    workers
        Processes ``pixirt serve`` runs on the one store (``--workers``).
    threads
        Threads per process running the requests (engine and store calls); more threads
        wait longer for the interpreter lock, fewer may leave the store idle.
    reply_retention_hours
        Idempotent replies are deleted this long after they were stored (a client retries
        within minutes); 0 keeps them.
    session_retention_days
        Finished and aborted sessions (with their history and replies) are deleted this
        long after their last change, once the platform has their result; 0 keeps them.
    purge_interval_seconds
        How often a process runs the retention purge (0: never; every replica may run it).
    """

    bank: Path | None = None
    rules: tuple[str, ...] = ()
    db: str = "sessions.sqlite"
    token: str | None = field(default=None, repr=False)
    session_ttl_minutes: float = 105.0
    max_body_bytes: int = 65_536
    cache_size: int = 10_000
    log_requests: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    threads: int = 8
    reply_retention_hours: float = 24.0
    session_retention_days: float = 0.0
    purge_interval_seconds: float = 300.0

    def __post_init__(self) -> None:
        if self.bank is not None and not isinstance(self.bank, Path):
            object.__setattr__(self, "bank", Path(self.bank))
        object.__setattr__(self, "db", str(self.db))
        if isinstance(self.rules, str):
            object.__setattr__(self, "rules", _split(self.rules))
        object.__setattr__(self, "rules", tuple(str(r) for r in self.rules))
        if self.token == "":
            object.__setattr__(self, "token", None)
        if not self.session_ttl_minutes > 0:
            raise DataError(
                f"expected a positive number of minutes, got {self.session_ttl_minutes!r}",
                field="session_ttl_minutes",
            )
        if self.max_body_bytes < 1024:
            raise DataError(
                f"expected at least 1024 bytes, got {self.max_body_bytes!r}", field="max_body_bytes"
            )
        if self.cache_size < 1:
            raise DataError(f"expected at least 1, got {self.cache_size!r}", field="cache_size")
        if not 1 <= self.threads <= 256:
            raise DataError(f"expected 1 to 256 threads, got {self.threads!r}", field="threads")
        if not 1 <= self.workers <= 64:
            raise DataError(f"expected 1 to 64 workers, got {self.workers!r}", field="workers")
        for name in ("reply_retention_hours", "session_retention_days", "purge_interval_seconds"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and value >= 0):
                raise DataError(f"expected a number ≥ 0, got {value!r}", field=name)
        if not 0 <= self.port <= 65_535:
            raise DataError(f"expected a TCP port, got {self.port!r}", field="port")

    @property
    def session_ttl_seconds(self) -> float:
        """:attr:`session_ttl_minutes` in seconds."""
        return float(self.session_ttl_minutes) * 60.0

    @property
    def reply_retention_seconds(self) -> float | None:
        """:attr:`reply_retention_hours` in seconds (None: keep)."""
        return self.reply_retention_hours * 3600.0 if self.reply_retention_hours else None

    @property
    def session_retention_seconds(self) -> float | None:
        """:attr:`session_retention_days` in seconds (None: keep)."""
        return self.session_retention_days * 86400.0 if self.session_retention_days else None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``PIXIRT_*`` variables, then ``overrides`` (None values are ignored).

        Parameters
        ----------
        environ
            The environment to read (default :data:`os.environ`).
        **overrides
            Field values that win over the environment (e.g. command-line arguments).

        Returns
        -------
        Settings
            The validated settings.

        Raises
        ------
        DataError
            Naming the variable whose value is invalid.
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            name = f"PIXIRT_{f.name.upper()}"
            raw = env.get(name)
            if raw is None:
                continue
            value = _parse(f.name, raw, name)
            if value is not None:
                values[f.name] = value
        unknown = set(overrides) - {f.name for f in fields(cls)}
        if unknown:
            raise DataError(f"unknown setting(s) {sorted(unknown)}", field=sorted(unknown)[0])
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def to_env(self) -> dict[str, str]:
        """The ``PIXIRT_*`` variables giving these settings back (token included).

        Examples
        --------
        >>> Settings.from_env({}, **{"db": "x.sqlite"}) == Settings.from_env(Settings(db="x.sqlite").to_env())
        True
        """
        env: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            name = f"PIXIRT_{f.name.upper()}"
            if value is None:
                continue
            if isinstance(value, tuple):
                env[name] = ",".join(value)
            elif isinstance(value, bool):
                env[name] = "true" if value else "false"
            else:
                env[name] = str(value)
        return env

    def with_(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)


def _split(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _parse(name: str, raw: str, variable: str) -> Any:
    try:
        if name == "db":
            return raw or None
        if name == "bank":
            return Path(raw) if raw else None
        if name == "rules":
            return _split(raw)
        if name in ("max_body_bytes", "cache_size", "port", "workers", "threads"):
            return int(raw)
        if name in (
            "session_ttl_minutes",
            "reply_retention_hours",
            "session_retention_days",
            "purge_interval_seconds",
        ):
            return float(raw)
        if name == "log_requests":
            low = raw.strip().lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(f"expected true/false, got {raw!r}")
    except ValueError as exc:
        raise DataError(f"invalid value: {exc}", field=variable) from None
    return raw
