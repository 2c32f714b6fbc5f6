"""The ``--scheduler`` / ``--workers`` options of the commands that can run on Dask."""

from __future__ import annotations

import argparse

__all__ = ["add_cluster_arguments"]


def add_cluster_arguments(parser: argparse.ArgumentParser, *, workers_help: str) -> None:
    """Add ``--scheduler`` and ``--workers`` to a subcommand."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on an existing Dask cluster (tcp://host:8786); needs pixirt[distributed]",
    )
    group.add_argument("--workers", type=int, metavar="N", help=workers_help)
