"""The ``pixirt`` command line: one entry point, one sub-command per job.

Every sub-command calls the public API only. Errors in the input are printed as one
line naming the file, row and field, with exit status 2; no traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import pixirt
from pixirt.exceptions import PixirtError

__all__ = ["build_parser", "main"]


def _cmd_demo(args: argparse.Namespace) -> int:
    from pixirt.cli._demo import run_demo

    summary = run_demo(
        args.out,
        n_candidates=args.candidates,
        n_certifications=args.certifications,
        n_compare=args.compare,
        seed=args.seed,
    )
    bank, sim, real = summary["bank"], summary["simulated_log"], summary["real_log"]
    print("pixirt demo")
    print(
        f"  Pix-like bank: {bank['n_challenges']} challenges, {bank['n_competences']} competences, "
        f"{bank['n_tubes']} tubes, {bank['n_skills']} skills"
    )
    print(
        f"  simulated log: {sim['n_persons']:,} candidates, {sim['n_answers']:,} answers, "
        f"{100 * sim['p_correct']:.1f}% correct"
    )
    print(
        f"  real log ({real['name']}): {real['n_persons']:,} persons × {real['n_items']} items, "
        f"{real['n_answers']:,} answers, density {real['density']:.3f}"
    )
    cal, certs = summary["calibration"], summary["certifications"]
    sim_fit, real_fit = cal["simulated_2pl"], cal["real_2pl"]
    print(
        f"  calibration (2PL, MML-EM): simulated log in {sim_fit['n_iter']} iterations, RMSE of b "
        f"{sim_fit['rmse_b_informed_items']} on the {sim_fit['n_informed_items']} "
        f"challenges answered right 10-90% of the time; real log: 2PL AIC {real_fit['aic']:.0f} vs Rasch "
        f"{cal['real_rasch']['aic']:.0f}"
    )
    print(
        f"  certifications (pix-v3): {certs['n']:,} simulated in {certs['seconds']} s, "
        f"{100 * certs['validated_share']:.1f}% validated, mean score {certs['mean_pix_score']}, "
        f"capacity RMSE {certs['capacity_rmse']}"
    )
    print(
        f"outputs in {args.out}/: bank.csv, simulated_answers.parquet, logs.png, calibrated_bank.csv, "
        "pisa_2pl_bank.csv, calibration.png, certifications.parquet, rule-change-report.html, "
        "summary.json"
    )
    print(f"the jury's report on pix-v3 -> pix-v3-2023: {summary['rule_change']['report']}")
    return 0


def _cmd_describe(args: argparse.Namespace) -> int:
    log = pixirt.read_responses(
        args.answers,
        person=args.person,
        item=args.item,
        correct=args.correct,
        statuses=args.statuses,
    )
    print(log.describe())
    return 0


def _cmd_bank(args: argparse.Namespace) -> int:
    from pixirt.simulation import pix_like_bank

    bank = pix_like_bank(args.seed)
    path = bank.write(args.out)
    print(f"wrote {bank.n_items} challenges to {path} (hash {bank.hash[:12]})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="pixirt", description=__doc__.splitlines()[0] if __doc__ else None
    )
    parser.add_argument("--version", action="version", version=f"pixirt {pixirt.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run the demo job on embedded data")
    demo.add_argument("--out", default="demo-output", help="output folder (default: demo-output)")
    demo.add_argument(
        "--candidates", type=int, default=20_000, help="simulated candidates (answer log)"
    )
    demo.add_argument(
        "--certifications", type=int, default=5_000, help="simulated v3 certifications"
    )
    demo.add_argument(
        "--compare", type=int, default=1_000, help="candidates of the rule-change comparison"
    )
    demo.add_argument("--seed", type=int, default=0)
    demo.set_defaults(func=_cmd_demo)

    describe = sub.add_parser("describe", help="describe a long-format answer log (CSV or Parquet)")
    describe.add_argument("answers")
    describe.add_argument("--person", default="person_id")
    describe.add_argument("--item", default="item_id")
    describe.add_argument("--correct", default="correct")
    describe.add_argument("--statuses", choices=("wrong", "missing"), default="wrong")
    describe.set_defaults(func=_cmd_describe)

    bank = sub.add_parser("bank", help="generate a Pix-like item bank")
    bank.add_argument("--seed", type=int, default=0)
    bank.add_argument("--out", required=True, help="bank file (.csv, .parquet or .json)")
    bank.set_defaults(func=_cmd_bank)

    from pixirt.cli._calibrate import add_calibrate_parser
    from pixirt.cli._compare import add_compare_parser
    from pixirt.cli._diagnostics import add_diagnostics_parsers
    from pixirt.cli._score import add_score_parser
    from pixirt.cli._serve import add_serve_parser
    from pixirt.cli._session import add_session_parser
    from pixirt.cli._simulate import add_simulation_parsers

    add_calibrate_parser(sub)
    add_diagnostics_parsers(sub)
    add_score_parser(sub)
    add_session_parser(sub)
    add_serve_parser(sub)
    add_simulation_parsers(sub)
    add_compare_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except PixirtError as exc:
        print(f"pixirt {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
