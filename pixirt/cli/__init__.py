"""The ``pixirt`` command line: every command, one package (``pixirt = "pixirt.cli:main"``).

The library packages never parse arguments; each command here calls their public API.
``python -m pixirt.cli COMMAND ...`` runs it without the installed script.
"""

from __future__ import annotations

from pixirt.cli._main import build_parser, main

__all__ = ["build_parser", "main"]
