"""``pixirt simulate`` and ``pixirt replay``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

__all__ = ["add_simulation_parsers"]


def _simulate(args: argparse.Namespace) -> int:
    from pixirt import rules
    from pixirt.item_bank import ItemBank
    from pixirt.simulation.bank import pix_like_bank
    from pixirt.simulation.population import Population
    from pixirt.simulation.responders import Responder
    from pixirt.simulation.runner import simulate

    rule_set = rules.load(args.rules)
    bank = ItemBank.read(args.bank) if args.bank else pix_like_bank(0)
    population = Population.read(args.population) if args.population else Population()
    responder = Responder(
        live_alert_rate=args.live_alert_rate,
        neutralize_rate=args.neutralize_rate,
        abandon_rate=args.abandon_rate,
        technical_abort_rate=args.technical_abort_rate,
        fraud_rate=args.fraud_rate,
    )
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
    )
    rates = result.outcome_rates()["share"]
    print(
        f"simulated {len(result):,} certifications under {rule_set.id} ({rule_set.hash[:12]}) "
        f"in {result.seconds:.1f} s: "
        + ", ".join(f"{status} {100 * share:.1f}%" for status, share in rates.items())
    )
    print(f"mean pix score {result.frame['pix_score'].mean():.1f}; written to {result.path}")
    return 0


def _replay(args: argparse.Namespace) -> int:
    from pixirt import rules
    from pixirt.item_bank import ItemBank, _atomic_write
    from pixirt.simulation.replay import replay

    rule_set = rules.load(args.rules)
    bank = ItemBank.read(args.bank) if args.bank else None
    frame = replay(args.sessions, rule_set, bank=bank)
    out = Path(args.out)
    if out.suffix.lower() == ".csv":
        _atomic_write(out, lambda tmp: frame.to_csv(tmp, index=False))
    else:
        _atomic_write(out, lambda tmp: frame.to_parquet(tmp, index=False))
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
    sim.add_argument("--out", required=True, help="Parquet file of results")
    sim.add_argument("--bank", help="item bank (default: the Pix-like bank, seed 0)")
    sim.add_argument("--population", help="population TOML (default: N(0, 1), loading 0.8)")
    sim.add_argument("--chunk-size", type=int, default=10_000)
    for name in (
        "live-alert-rate",
        "neutralize-rate",
        "abandon-rate",
        "technical-abort-rate",
        "fraud-rate",
    ):
        sim.add_argument(f"--{name}", type=float, default=0.0)
    sim.set_defaults(func=_simulate)
    rep = subparsers.add_parser(
        "replay", help="rescore past sessions (JSON lines) under a rule set"
    )
    rep.add_argument("sessions", help="JSON-lines file, one certification per line")
    rep.add_argument("--rules", required=True, help="rule set id or TOML file")
    rep.add_argument("--out", required=True, help="output .parquet or .csv")
    rep.add_argument("--bank", help="item bank (v3 degradation of abandoned tests)")
    rep.set_defaults(func=_replay)
