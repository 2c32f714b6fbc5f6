"""The ``pixirt calibrate`` sub-command: a long-format answer log in, a calibrated bank out.

::

    pixirt calibrate answers.csv --model 2PL --out bank.csv [--fixed old_bank.csv] [--statuses missing]
    pixirt calibrate 'answers/*.parquet' --out bank.csv --scheduler tcp://host:8786
    pixirt calibrate answers/ --out bank.csv --workers 2

The answers are one file, or a directory or glob of files each holding whole persons
(read partition by partition). ``--scheduler`` runs on a Dask cluster, ``--workers N``
on a local one (extra ``[distributed]``); a single file is then read here and split
into blocks of persons, a dataset is read by the workers.

Prints the calibration summary (unless ``--quiet``) and writes the bank (``.csv``,
``.parquet`` or ``.json`` by suffix) and, with ``--result``, the whole result as JSON.
Exit status: 0 when EM converged, 1 when it stopped at ``--max-iter`` (the bank is
still written, and the warning printed on stderr); errors in the input are reported by
:func:`pixirt.cli.main` (one line naming file, row and field, status 2). Degenerate
items (a ≤ 0, diverging a or b: ``CalibrationResult.problems``) are named in a warning
and the bank is refused (status 2, the ``CalibrationError`` of
``CalibrationResult.engine_bank``); ``--result`` is written first, with them.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from pixirt import ItemBank, read_responses
from pixirt._atomic_files import atomic_write
from pixirt._dask import cluster_client
from pixirt.calibration import Priors, ResponseSource, calibrate
from pixirt.cli._cluster import add_cluster_arguments
from pixirt.exceptions import ConvergenceWarning
from pixirt.models import MODELS

__all__ = ["add_calibrate_parser", "calibrate_command"]


def add_calibrate_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``calibrate`` sub-command to an ``argparse`` sub-parsers object.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The sub-command's parser (its ``func`` default is :func:`calibrate_command`).
    """
    p: argparse.ArgumentParser = subparsers.add_parser(
        "calibrate",
        help="calibrate item parameters from a long-format answer log (MML-EM)",
        description="Calibrate Rasch, 1PL, 2PL or 3PL item parameters from a long-format answer "
        "log (CSV or Parquet: person_id, item_id, correct) by marginal maximum likelihood (EM).",
    )
    p.add_argument(
        "answers",
        help="answer log (.csv, .csv.gz or .parquet), or a directory or glob of them (whole persons per file)",
    )
    p.add_argument("--model", choices=MODELS, default="2PL", help="IRT model (default: 2PL)")
    p.add_argument("--out", required=True, help="bank file to write (.csv, .parquet or .json)")
    p.add_argument(
        "--fixed",
        help="calibrated bank: its items keep their parameters, the others are calibrated on its scale",
    )
    p.add_argument(
        "--fixed-scale",
        choices=("estimate", "hold"),
        default="estimate",
        help="with --fixed: estimate the log population's latent mean and variance (default) or hold the bank's",
    )
    p.add_argument(
        "--statuses",
        choices=("wrong", "missing"),
        default="wrong",
        help="read Pix's aband/timedout/... statuses as wrong (default) or as not administered",
    )
    p.add_argument(
        "--priors",
        choices=("none", "default"),
        default="none",
        help="'default' for MAP estimates with mild priors (default: none, maximum likelihood)",
    )
    p.add_argument("--max-iter", type=int, default=500, help="most EM iterations (default: 500)")
    p.add_argument(
        "--tol", type=float, default=1e-4, help="largest parameter change at convergence"
    )
    p.add_argument("--n-quad", type=int, default=61, help="quadrature nodes (default: 61)")
    p.add_argument(
        "--se",
        choices=("auto", "full", "items", "none"),
        default="auto",
        help="standard errors (default: auto)",
    )
    p.add_argument("--result", help="also write the whole calibration result as JSON")
    p.add_argument("--person", default="person_id", help="person column (default: person_id)")
    p.add_argument("--item", default="item_id", help="item column (default: item_id)")
    p.add_argument("--correct", default="correct", help="answer column (default: correct)")
    p.add_argument("--quiet", action="store_true", help="no progress line and no summary")
    add_cluster_arguments(
        p, workers_help="run on a local Dask cluster of N worker processes (pixirt[distributed])"
    )
    p.set_defaults(func=calibrate_command)
    return p


def calibrate_command(args: argparse.Namespace) -> int:
    """Run ``pixirt calibrate`` with parsed arguments.

    Parameters
    ----------
    args
        As parsed by the parser of :func:`add_calibrate_parser`.

    Returns
    -------
    int
        0 if EM converged, 1 if it stopped at ``--max-iter``.
    """
    source: Any
    if Path(args.answers).is_file():
        source = read_responses(
            args.answers,
            person=args.person,
            item=args.item,
            correct=args.correct,
            statuses=args.statuses,
        )
    else:
        source = ResponseSource(
            args.answers,
            person=args.person,
            item=args.item,
            correct=args.correct,
            statuses=args.statuses,
        )
    fixed = ItemBank.read(args.fixed) if args.fixed else None
    priors: Priors | str | None = "default" if args.priors == "default" else None
    with (
        cluster_client(args.scheduler, args.workers) as client,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always", ConvergenceWarning)
        result = calibrate(
            source,
            args.model,
            max_iter=args.max_iter,
            tol=args.tol,
            n_quad=args.n_quad,
            priors=priors,
            fixed=fixed,
            fixed_scale=args.fixed_scale,
            progress=not args.quiet,
            se=args.se,
            client=client,
        )
    for w in caught:
        print(f"pixirt calibrate: warning: {w.message}", file=sys.stderr)
    if args.result:
        # the whole result, degenerate items included, is written before the bank is refused
        payload = json.dumps(result.to_dict(), indent=1, allow_nan=False) + "\n"
        atomic_write(Path(args.result), lambda tmp: tmp.write_text(payload, encoding="utf-8"))
    path = result.engine_bank().write(args.out)
    if not args.quiet:
        print(result.summary().as_text())
        print(f"wrote {result.bank.n_items} items to {path} (hash {result.bank.hash[:12]})")
    return 0 if result.converged else 1
