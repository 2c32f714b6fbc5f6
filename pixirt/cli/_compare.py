r"""``pixirt compare``: the impact of a rule change, as a report for the jury.

Example::

    pixirt compare --baseline pix-v3 --proposed my-rules.toml --n 200000 --seed 1 \\
        --report report.html
    pixirt compare --baseline pix-v2 --proposed my-rules.toml --past sessions.jsonl \\
        --report report.html --lang en
    pixirt compare --baseline pix-v3 --proposed my-rules.toml --n 2000000 \\
        --scheduler tcp://host:8786 --out /shared/study --report report.html

Prints the first screen of the report (what changes, for how many candidates, who is
hurt) and the path of the report; ``--json`` also writes every number.

``--scheduler`` runs the simulations on a Dask cluster and ``--workers N`` on a local one
of ``N`` processes (extra ``[distributed]``; without it ``--workers`` falls back to a
local process pool): the workers write them to Parquet datasets under ``--out``
(``baseline/``, ``proposed/``, ...; a temporary directory with ``--workers`` when
``--out`` is not given). The numbers are the same either way.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from pixirt._dask import cluster_client
from pixirt._progress import Progress
from pixirt.cli._cluster import add_cluster_arguments
from pixirt.cli._simulate import add_incident_arguments
from pixirt.exceptions import DataError

__all__ = ["ProgressBar", "add_compare_parser"]

_STAGES = {
    "baseline": "current rules",
    "proposed": "proposed rules",
    "retest_baseline": "second sitting, current rules",
    "retest_proposed": "second sitting, proposed rules",
    "bootstrap": "uncertainty (bootstrap)",
}


class ProgressBar:
    """A one-line text progress bar per stage, on a stream (stderr by default).

    A ``progress`` callable: it receives :class:`pixirt.Progress` values.

    On a terminal the bar is redrawn in place; elsewhere (a log file, CI) one line is
    written when each stage ends.

    Parameters
    ----------
    stream
        Where to write (default ``sys.stderr``).
    width
        Characters of the bar.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self._stage: str | None = None
        self._t0 = time.perf_counter()
        self._last = 0.0

    def __call__(self, progress: Progress) -> None:
        """Report ``progress.done`` of ``progress.total`` for ``progress.stage``."""
        stage, done = progress.stage, progress.done
        total = done if progress.total is None else progress.total
        tty = self.stream.isatty()
        now = time.perf_counter()
        if stage != self._stage:
            self._stage = stage
            self._t0 = now
            self._last = 0.0
        finished = done >= total
        if tty and (finished or now - self._last >= 0.1):
            self._last = now
            frac = done / total if total else 1.0
            filled = round(self.width * frac)
            bar = "#" * filled + "." * (self.width - filled)
            label = _STAGES.get(stage, stage)
            print(
                f"\r[{bar}] {100 * frac:5.1f}% {label}: {done:,}/{total:,} ({now - self._t0:.0f} s)",
                end="\n" if finished else "",
                file=self.stream,
                flush=True,
            )
        elif not tty and finished:
            label = _STAGES.get(stage, stage)
            print(
                f"{label}: {total:,} done in {now - self._t0:.1f} s", file=self.stream, flush=True
            )


def _compare(args: argparse.Namespace) -> int:
    from pixirt import ItemBank, rules
    from pixirt._atomic_files import atomic_write
    from pixirt.cli._simulate import cluster_or_processes, responder_from_args
    from pixirt.simulation import Population, compare

    baseline = rules.load(args.baseline)
    proposed = rules.load(args.proposed)
    bank = ItemBank.read(args.bank) if args.bank else None
    population = Population.read(args.population) if args.population else None
    responder = responder_from_args(args)
    kwargs: dict[str, Any] = {}
    if args.past:
        if args.population:
            print(
                "pixirt compare: --population is ignored with --past (the past candidates are compared)",
                file=sys.stderr,
            )
        kwargs["past_sessions"] = args.past
        if args.scheduler or args.workers or args.out:
            print(
                "pixirt compare: --scheduler, --workers and --out are ignored with --past "
                "(past sessions are compared in this process)",
                file=sys.stderr,
            )
        scheduler, cluster_workers, processes = None, None, 1
    else:
        kwargs["population"] = population
        kwargs["n"] = args.n
        kwargs["n_retest"] = args.n_retest
        scheduler, cluster_workers, processes = cluster_or_processes(
            "compare", args.scheduler, args.workers
        )
        if scheduler is None and cluster_workers is None and args.out:
            if processes == 1:
                raise DataError(
                    "--out keeps the simulations of a run on a Dask cluster: add --scheduler "
                    "or --workers",
                    field="out",
                )
            print("pixirt compare: --out is ignored without a Dask cluster", file=sys.stderr)
        if scheduler is not None and not args.out:
            raise DataError(
                "--scheduler needs --out: the directory where the workers write the "
                "simulations (every worker must reach it at the same path)",
                field="out",
            )
    with contextlib.ExitStack() as stack:
        client = stack.enter_context(cluster_client(scheduler, cluster_workers))
        datasets: str | None = None
        if client is not None:
            datasets = args.out or stack.enter_context(
                tempfile.TemporaryDirectory(prefix="pixirt-compare-")
            )
        comparison = compare(
            baseline,
            proposed,
            bank=bank,
            seed=args.seed,
            responder=responder,
            n_bootstrap=args.bootstrap,
            confidence_level=args.confidence_level,
            workers=processes,
            progress=False if args.quiet else ProgressBar(),
            client=client,
            out=datasets,
            **kwargs,
        )
    report = comparison.report(args.report, lang=args.lang)
    print(comparison.summary(args.lang))
    print()
    if args.json:
        out = Path(args.json)
        text = json.dumps(comparison.to_dict(), ensure_ascii=False, indent=1)
        atomic_write(out, lambda tmp: tmp.write_text(text, encoding="utf-8"))
        print(f"numbers: {out}")
    print(f"report: {report.resolve()}")
    return 0


def add_compare_parser(subparsers: Any) -> None:
    """Register ``compare`` on the ``pixirt`` command line."""
    cmp = subparsers.add_parser(
        "compare",
        help="impact of a rule change on the same candidates, as an HTML report for the jury",
        description=(
            "Run the same candidates (simulated, or past sessions) under two rule sets and "
            "write a self-contained HTML report: what changes, for how many candidates, who "
            "is hurt, with confidence intervals."
        ),
    )
    cmp.add_argument("--baseline", required=True, help="current rule set: shipped id or TOML file")
    cmp.add_argument("--proposed", required=True, help="proposed rule set: shipped id or TOML file")
    cmp.add_argument("--report", required=True, help="HTML report to write")
    cmp.add_argument("--n", type=int, default=10_000, help="simulated candidates (default 10,000)")
    cmp.add_argument("--seed", type=int, default=0, help="seed of the simulation and bootstrap")
    cmp.add_argument(
        "--past",
        metavar="SESSIONS.jsonl",
        help="compare on past sessions (JSON lines of certifications) instead of a simulation",
    )
    cmp.add_argument("--lang", choices=("fr", "en"), default="fr", help="report language")
    cmp.add_argument("--bank", help="item bank (default: the Pix-like bank, seed 0)")
    cmp.add_argument("--population", help="population TOML (default: N(0, 1), one group)")
    cmp.add_argument(
        "--n-retest",
        type=int,
        default=None,
        help="candidates given a second sitting for consistency (default min(n, 10,000); 0 skips)",
    )
    cmp.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates")
    cmp.add_argument("--confidence-level", type=float, default=0.95)
    add_cluster_arguments(
        cmp,
        workers_help="simulate on a local Dask cluster of N single-threaded worker processes "
        "(pixirt[distributed]; without it, N local processes)",
    )
    cmp.add_argument(
        "--out",
        metavar="DIR",
        help="with --scheduler (required) or --workers: keep the simulated candidates there "
        "as Parquet datasets (baseline/, proposed/, ...)",
    )
    cmp.add_argument("--json", help="also write every number to this JSON file")
    cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    add_incident_arguments(cmp)
    cmp.set_defaults(func=_compare)
