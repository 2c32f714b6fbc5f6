"""``pixirt score``: score a certification file with a rule set and print the result JSON.

Usage::

    pixirt score certification.json --rules pix-v2
    pixirt score certification.json --rules pix-v3 --bank bank.csv --explain

The certification is the JSON of :meth:`pixirt.cat.Certification.to_dict`; the
rule set a shipped name or a TOML path; the bank (v3, needed to degrade a test abandoned
by the candidate) anything :meth:`pixirt.ItemBank.read` reads. The result JSON goes to
standard output; ``--explain`` also writes the plain-words explanation to standard
error. Invalid input is reported on standard error, naming the file and the field, with
exit status 2 (1 when the rules cannot score the certification).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from pixirt.exceptions import PixirtError, ScoringError

__all__ = ["add_score_parser", "score_command"]


def add_score_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``score`` sub-command to an :mod:`argparse` sub-parser collection.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``score`` parser; its ``func`` default is :func:`score_command`.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "score",
        help="score a certification (v2 or v3) with a rule set",
        description=(
            "Score a certification exactly as Pix does and print the result as JSON. "
            "The rule set is a shipped name (pix-v2, pix-v3, pix-v3-2023) or a TOML file."
        ),
    )
    parser.add_argument("certification", help="certification JSON file")
    parser.add_argument("--rules", required=True, help="rule set name or TOML path (e.g. pix-v2)")
    parser.add_argument(
        "--bank", default=None, help="item bank file (v3: needed to degrade an abandoned test)"
    )
    parser.add_argument(
        "--explain", action="store_true", help="also write the explanation to standard error"
    )
    parser.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    parser.set_defaults(func=score_command)
    return parser


def score_command(args: argparse.Namespace) -> int:
    """Run ``pixirt score``.

    Parameters
    ----------
    args
        Parsed arguments with ``certification``, ``rules``, ``bank``, ``explain`` and
        ``indent``.

    Returns
    -------
    int
        0 on success, 2 on invalid input (file, field or rule set named on standard
        error), 1 when the rules cannot score the certification.
    """
    from pixirt import rules as rules_module
    from pixirt.cat import Certification, score

    try:
        certification = Certification.read(args.certification)
        rule_set = rules_module.load(args.rules)
        bank = None
        if args.bank is not None:
            from pixirt import ItemBank

            bank = ItemBank.read(args.bank)
        result = score(certification, rule_set, bank=bank)
    except ScoringError as exc:
        print(f"pixirt score: cannot score {args.certification}: {exc}", file=sys.stderr)
        return 1
    except PixirtError as exc:
        print(f"pixirt score: {exc}", file=sys.stderr)
        return 2
    indent = getattr(args, "indent", 2)
    print(json.dumps(result.to_dict(), ensure_ascii=False, allow_nan=False, indent=indent))
    if getattr(args, "explain", False):
        print(result.explain(), file=sys.stderr)
    return 0
