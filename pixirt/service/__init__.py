"""The certification engine as an HTTP service (extra ``pixirt[service]``: FastAPI + uvicorn).

::

    from pixirt.service import Settings, create_app
    app = create_app(Settings(db="sessions.sqlite"))   # an ASGI app; settings also from PIXIRT_*

or ``pixirt serve --bank bank.csv --rules pix-v3 --db sessions.sqlite`` (or
``--db postgresql://… --workers 2`` for replicas on one database). See
``docs/service.md`` for the endpoints, the durability contract and a curl transcript.

- :mod:`pixirt.service.app`: :func:`create_app`, lifespan, middleware, error replies;
- :mod:`pixirt.service.routes`: one router per resource;
- :mod:`pixirt.service.schemas`: the request and response models;
- :mod:`pixirt.service.sessions`: the engine behind the routes;
- :mod:`pixirt.service.store`: the store interface, :func:`~pixirt.service.store.open_store`
  and the SQLite store (WAL, synchronous=FULL, group commit);
- :mod:`pixirt.service.store_pg`: the PostgreSQL store (psycopg 3, a pool);
- :mod:`pixirt.service.metrics`: Prometheus text;
- :mod:`pixirt.service.settings`: :class:`Settings`;
- :mod:`pixirt.cli._serve`: ``pixirt serve``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixirt.service.app import create_app
    from pixirt.service.sessions import derive_candidate_index
    from pixirt.service.settings import Settings
    from pixirt.service.store import SQLiteStore, StoreError

__all__ = ["SQLiteStore", "Settings", "StoreError", "create_app", "derive_candidate_index"]

# Imported on first use: ``pixirt serve``'s parser lives in this package, and the command
# line must build without the service extra (FastAPI) installed.
_WHERE = {
    "create_app": "pixirt.service.app",
    "derive_candidate_index": "pixirt.service.sessions",
    "Settings": "pixirt.service.settings",
    "SQLiteStore": "pixirt.service.store",
    "StoreError": "pixirt.service.store",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'pixirt.service' has no attribute {name!r}")
