"""``pixirt simulate`` and ``pixirt replay``.

::

    pixirt simulate --rules pix-v3 --n 100000 --out results.parquet
    pixirt simulate --rules pix-v3 --n 10000000 --out results/ --scheduler tcp://host:8786
    pixirt simulate --rules pix-v3 --n 1000000 --out results/ --workers 2

With ``--scheduler`` (a running Dask cluster) or ``--workers N`` (a local one of ``N``
single-threaded processes), the workers write ``--out`` as a Parquet dataset, one file
per chunk (:func:`pixirt.simulation.simulate` with ``client=``); the rows are the same as without.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixirt._dask import cluster_client
from pixirt.cli._cluster import add_cluster_arguments

if TYPE_CHECKING:
    from pixirt.simulation import Responder

__all__ = ["add_simulation_parsers", "cluster_or_processes"]


def _has_distributed() -> bool:
    return importlib.util.find_spec("distributed") is not None


def cluster_or_processes(
    command: str, scheduler: str | None, workers: int | None
) -> tuple[str | None, int | None, int]:
    """``(scheduler, cluster workers, local processes)`` for ``--scheduler``/``--workers``.

    ``--workers N`` starts a local Dask cluster; without dask.distributed installed it
    falls back to ``N`` local processes (same results), saying so on stderr.
    """
    if workers is not None and scheduler is None and not _has_distributed():
        print(
            f"pixirt {command}: dask.distributed is not installed (pip install "
            f"'pixirt[distributed]'): --workers {workers} runs a local process pool instead",
            file=sys.stderr,
        )
        return None, None, workers
    return scheduler, workers, 1


def _simulate(args: argparse.Namespace) -> int:
    from pixirt import ItemBank, rules
    from pixirt.simulation import Population, pix_like_bank, simulate

    rule_set = rules.load(args.rules)
    bank = ItemBank.read(args.bank) if args.bank else pix_like_bank(0)
    population = Population.read(args.population) if args.population else Population()
    responder = responder_from_args(args)
    scheduler, cluster_workers, processes = cluster_or_processes(
        "simulate", args.scheduler, args.workers
    )
    with cluster_client(scheduler, cluster_workers) as client:
        result = simulate(
            population,
            bank,
            rule_set,
            args.n,
            seed=args.seed,
            out=args.out,
            chunk_size=args.chunk_size,
            responder=responder,
            progress=True,
            workers=processes,
            client=client,
        )
    rates = result.outcome_rates()["share"]
    print(
        f"simulated {len(result):,} certifications under {rule_set.id} ({rule_set.hash[:12]}) "
        f"in {result.seconds:.1f} s: "
        + ", ".join(f"{status} {100 * share:.1f}%" for status, share in rates.items())
    )
    mean = result.select(["pix_score"])["pix_score"].mean()
    what = "dataset" if result.path is not None and result.path.is_dir() else "file"
    print(f"mean pix score {mean:.1f}; written to {result.path} ({what})")
    return 0


def _import_pix(args: argparse.Namespace) -> int:
    from pixirt.simulation import read_pix_export, write_sessions

    certs = read_pix_export(args.directory, competences=args.competences)
    path = write_sessions(certs, args.out)
    print(f"{len(certs)} certifications: {path}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from pixirt import ItemBank, rules
    from pixirt._atomic_files import atomic_write
    from pixirt.simulation import replay

    rule_set = rules.load(args.rules)
    bank = ItemBank.read(args.bank) if args.bank else None
    frame = replay(args.sessions, rule_set, bank=bank)
    out = Path(args.out)
    if out.suffix.lower() == ".csv":
        atomic_write(out, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))
    counts = frame["status"].value_counts()
    print(
        f"rescored {len(frame):,} sessions under {rule_set.id} ({rule_set.hash[:12]}): "
        + ", ".join(f"{k} {v}" for k, v in counts.items())
        + f"; written to {out}"
    )
    return 0


def add_simulation_parsers(subparsers: Any) -> None:
    """Register ``simulate`` and ``replay`` on the ``pixirt`` command line."""
    sim = subparsers.add_parser("simulate", help="simulate whole certifications for a population")
    sim.add_argument("--rules", required=True, help="rule set id or TOML file")
    sim.add_argument("--n", type=int, required=True, help="number of candidates")
    sim.add_argument("--seed", type=int, default=0)
    sim.add_argument(
        "--out",
        required=True,
        help="Parquet file of results (with --scheduler/--workers: a dataset directory)",
    )
    sim.add_argument("--bank", help="item bank (default: the Pix-like bank, seed 0)")
    sim.add_argument("--population", help="population TOML (default: N(0, 1), loading 0.8)")
    sim.add_argument("--chunk-size", type=int, default=10_000)
    add_incident_arguments(sim)
    add_cluster_arguments(
        sim,
        workers_help="run on a local Dask cluster of N single-threaded worker processes "
        "(pixirt[distributed]; without it, N local processes)",
    )
    sim.set_defaults(func=_simulate)
    rep = subparsers.add_parser(
        "replay", help="rescore past sessions (JSON lines) under a rule set"
    )
    rep.add_argument("sessions", help="JSON-lines file, one certification per line")
    rep.add_argument("--rules", required=True, help="rule set id or TOML file")
    rep.add_argument("--out", required=True, help="output .parquet or .csv")
    rep.add_argument("--bank", help="item bank (v3 degradation of abandoned tests)")
    rep.set_defaults(func=_replay)
    imp = subparsers.add_parser(
        "import-pix",
        help="past sessions from a Pix-like export (CSV tables) to JSON lines",
    )
    imp.add_argument("directory", help="folder of the export's CSV tables (docs/jury.md)")
    imp.add_argument("--out", required=True, help="JSON-lines file to write")
    imp.add_argument(
        "--competences", help="CSV mapping Pix competence ids to codes (competenceId,code)"
    )
    imp.set_defaults(func=_import_pix)


_RATES = (
    "live-alert-rate",
    "neutralize-rate",
    "abandon-rate",
    "technical-abort-rate",
    "fraud-rate",
)


def add_incident_arguments(parser: argparse.ArgumentParser) -> None:
    """The simulated incidents: ``--incidents`` and one option per rate."""
    parser.add_argument(
        "--incidents",
        choices=("none", "pix-like"),
        default="none",
        help="issue reports, answer statuses and their rates: none, or the assumed "
        "Pix-like rates (pixirt.simulation.PIX_LIKE_INCIDENTS)",
    )
    for name in _RATES:
        parser.add_argument(f"--{name}", type=float, default=0.0)


def responder_from_args(args: argparse.Namespace) -> Responder:
    """The :class:`Responder` the options describe."""
    from pixirt.simulation import PIX_LIKE_INCIDENTS, Responder

    base = dict(PIX_LIKE_INCIDENTS) if args.incidents == "pix-like" else {}
    rates = {name.replace("-", "_"): getattr(args, name.replace("-", "_")) for name in _RATES}
    return Responder(**base, **rates)
