"""The certification engine as an HTTP service (extra ``pixirt[service]``: FastAPI + uvicorn).

::

    from pixirt.service import Settings, create_app
    app = create_app(Settings(db="sessions.sqlite"))   # an ASGI app; settings also from PIXIRT_*

or ``pixirt serve --bank bank.csv --rules pix-v3 --db sessions.sqlite`` (or
``--db postgresql://… --workers 2`` for replicas on one database). See
``docs/service.md`` for the endpoints, the durability contract and a curl transcript.

The public names:

- :func:`create_app` and its :class:`Settings` (also read from ``PIXIRT_*``);
- the dependencies an embedding platform or a test may override through
  ``app.dependency_overrides``: :func:`get_settings`, :func:`get_clock`, :func:`get_service`;
- the session stores: :func:`open_store` (a URL: ``sqlite:///…`` or ``postgresql://…``),
  the :class:`SessionStore` protocol, :class:`SQLiteStore`, :class:`PostgresStore` and
  :class:`StoreError`;
- :func:`derive_candidate_index`: the candidate index the service derives from an id.

The implementation modules are private: the app, its middleware and error replies
(``_app``), one router per resource (``_routes``), the request and response models
(``_schemas``), the sessions behind the routes (``_session_service``, ``_catalog``,
``_session_views``), the stores (``_store_sqlite``, ``_store_pg``, their migrations and
records), Prometheus text (``_metrics``) and the settings (``_settings``).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pixirt.service._app import create_app
    from pixirt.service._routes import get_clock, get_service, get_settings
    from pixirt.service._session_views import derive_candidate_index
    from pixirt.service._settings import Settings
    from pixirt.service._store_pg import PostgresStore
    from pixirt.service._store_protocol import SessionStore, open_store
    from pixirt.service._store_records import StoreError
    from pixirt.service._store_sqlite import SQLiteStore

__all__ = [
    "PostgresStore",
    "SQLiteStore",
    "SessionStore",
    "Settings",
    "StoreError",
    "create_app",
    "derive_candidate_index",
    "get_clock",
    "get_service",
    "get_settings",
    "open_store",
]

# Imported on first use: ``pixirt serve``'s parser does not need this package's
# dependencies, and the command line must build without the service extra installed.
_WHERE = {
    "create_app": "pixirt.service._app",
    "derive_candidate_index": "pixirt.service._session_views",
    "get_clock": "pixirt.service._routes",
    "get_service": "pixirt.service._routes",
    "get_settings": "pixirt.service._routes",
    "open_store": "pixirt.service._store_protocol",
    "PostgresStore": "pixirt.service._store_pg",
    "SessionStore": "pixirt.service._store_protocol",
    "Settings": "pixirt.service._settings",
    "SQLiteStore": "pixirt.service._store_sqlite",
    "StoreError": "pixirt.service._store_records",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'pixirt.service' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
