"""The diagnostics sub-commands: ``score-persons``, ``fit``, ``dif`` and ``link``.

::

    pixirt score-persons answers.csv --bank bank.csv --method EAP --out scores.csv
    pixirt fit answers.csv --bank bank.csv --out item_fit.csv [--persons-out person_fit.csv]
    pixirt dif answers.csv --bank bank.csv --groups groups.csv --focal F --out dif.csv
    pixirt link reference_bank.csv new_bank.csv --method stocking-lord --out drift.csv

Each writes CSV and prints a short summary. Errors in the input are reported by
:func:`pixirt.cli.main` (one line naming file, row and field, exit status 2).
:func:`add_diagnostics_parsers` registers the four sub-commands on an ``argparse``
sub-parsers object.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pixirt import ItemBank, ResponseLog, read_responses
from pixirt.calibration import (
    LINK_METHODS,
    METHODS,
    empirical_reliability,
    irt_dif,
    item_fit,
    link,
    mantel_haenszel_dif,
    person_fit,
    score_persons,
    yen_q3,
)
from pixirt.exceptions import DataError

__all__ = [
    "add_diagnostics_parsers",
    "dif_command",
    "fit_command",
    "link_command",
    "score_persons_command",
]


def _add_log_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("answers", help="answer log (.csv, .csv.gz or .parquet)")
    p.add_argument("--bank", required=True, help="item bank (.csv, .parquet or .json)")
    p.add_argument("--person", default="person_id", help="person column (default: person_id)")
    p.add_argument("--item", default="item_id", help="item column (default: item_id)")
    p.add_argument("--correct", default="correct", help="answer column (default: correct)")
    p.add_argument(
        "--statuses",
        choices=("wrong", "missing"),
        default="wrong",
        help="read Pix's aband/timedout/... statuses as wrong (default) or as not administered",
    )


def _read(args: argparse.Namespace) -> tuple[ResponseLog, ItemBank]:
    log = read_responses(
        args.answers,
        person=args.person,
        item=args.item,
        correct=args.correct,
        statuses=args.statuses,
    )
    return log, ItemBank.read(args.bank)


def _write(frame: pd.DataFrame, path: str, *, index: bool) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=index, float_format="%.10g")
    return out


def _prior(args: argparse.Namespace) -> tuple[float, float] | None:
    if args.prior_mean is None and args.prior_sd is None:
        return None
    if args.prior_mean is None or args.prior_sd is None:
        raise DataError("give both --prior-mean and --prior-sd", field="prior")
    return float(args.prior_mean), float(args.prior_sd)


def add_diagnostics_parsers(subparsers: Any) -> None:
    """Add ``score-persons``, ``fit``, ``dif`` and ``link`` to an ``argparse`` sub-parsers object.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``; each sub-command's
        ``func`` default is its ``*_command`` function (returning the exit status).
    """
    _add_score_persons_parser(subparsers)
    _add_fit_parser(subparsers)
    _add_dif_parser(subparsers)
    _add_link_parser(subparsers)


def score_persons_command(args: argparse.Namespace) -> int:
    """Run ``pixirt score-persons``; returns the exit status (0)."""
    log, bank = _read(args)
    scores = score_persons(log, bank, args.method, prior=_prior(args), n_quad=args.n_quad)
    path = _write(scores, args.out, index=False)
    finite = scores["finite"].to_numpy()
    line = (
        f"{args.method} scores of {len(scores):,} persons written to {path} "
        f"({int((~finite).sum())} not finite)"
    )
    if finite.sum() >= 2:
        line += f"; empirical reliability {empirical_reliability(scores):.3f}"
    print(line)
    return 0


def fit_command(args: argparse.Namespace) -> int:
    """Run ``pixirt fit``; returns the exit status (0)."""
    log, bank = _read(args)
    table = item_fit(
        log,
        bank,
        n_bins=args.bins,
        min_form_size=args.min_form_size,
        reference=args.reference,
        n_bootstrap=args.n_boot,
        seed=args.seed,
    )
    path = _write(table, args.out, index=True)
    n_sx2 = int(table["s_x2"].notna().sum())
    print(f"item fit of {len(table):,} items written to {path}")
    if n_sx2:
        print(
            f"  S-X² computed for {n_sx2} items, p < {args.alpha:g}: {int((table['s_x2_p'] < args.alpha).sum())}; "
            f"RMSEA > 0.05: {int((table['s_x2_rmsea'] > 0.05).sum())}"
        )
    else:
        print("  S-X² not computed: no form of persons answering the same items is large enough")
    print(
        f"  binned fit ({args.reference}) p < {args.alpha:g}: {int((table['binned_p'] < args.alpha).sum())} items; "
        f"RMSD > 0.1 beyond its noise: {int(table['rmsd_flagged'].sum())}"
    )
    if args.persons_out:
        persons = person_fit(log, bank, method=args.person_method)
        p2 = _write(persons, args.persons_out, index=False)
        print(
            f"  person fit written to {p2} (lz* < -1.645: {int((persons['lz_star'] < -1.645).sum())})"
        )
    if args.q3_out:
        p3 = _write(yen_q3(log, bank), args.q3_out, index=True)
        print(f"  Q3 written to {p3}")
    return 0


def _read_groups(path: str, person: str, column: str, log: ResponseLog) -> pd.Series:
    p = Path(path)
    if not p.exists():
        raise DataError("no such file", path=str(p))
    try:
        frame = pd.read_csv(p, dtype=str, keep_default_na=False)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"unreadable CSV: {exc}", path=str(p)) from None
    for col in (person, column):
        if col not in frame.columns:
            raise DataError(
                f"missing column; columns are {list(map(str, frame.columns))}",
                path=str(p),
                field=col,
            )
    ids: Any = frame[person]
    if log.person_ids.dtype.kind in "iu":
        as_int = pd.to_numeric(ids, errors="coerce")
        bad = as_int.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0]) + 1
            raise DataError(
                f"expected an integer person id, got {ids.iloc[row - 1]!r}",
                path=str(p),
                row=row,
                field=person,
            )
        ids = as_int.astype(np.int64)
    labels = frame[column].replace("", np.nan)
    series = pd.Series(labels.to_numpy(), index=pd.Index(ids.to_numpy(), name="person_id"))
    if not series.index.is_unique:
        dup = int(np.flatnonzero(series.index.duplicated())[0]) + 1
        raise DataError("duplicate person id", path=str(p), row=dup, field=person)
    return series


def dif_command(args: argparse.Namespace) -> int:
    """Run ``pixirt dif``; returns the exit status (0)."""
    log, bank = _read(args)
    groups = _read_groups(args.groups, args.person, args.group_column, log)
    parts = []
    focal: Any = args.focal
    if "," in focal:
        focal = [f.strip() for f in focal.split(",")]
    if args.test in ("mh", "both"):
        mh = mantel_haenszel_dif(
            log,
            bank,
            groups,
            focal=focal,
            reference=args.reference,
            alpha=args.alpha,
            purify=args.purify,
            correction=args.correction,
        )
        parts.append(mh.add_prefix("mh_"))
    if args.test in ("irt", "both"):
        anchors: Any = [a.strip() for a in args.anchors.split(",")] if args.anchors else None
        if anchors == ["sweep"]:
            anchors = "sweep"
        elif anchors is not None and log.item_ids.dtype.kind in "iu":
            try:
                anchors = [int(a) for a in anchors]
            except ValueError:
                raise DataError(
                    "anchor ids must be integers like the log's", field="anchors"
                ) from None
        irt = irt_dif(
            log,
            bank,
            groups,
            focal=focal,
            reference=args.reference,
            anchors=anchors,
            purify=args.purify,
            alpha=args.alpha,
            correction=args.correction,
        )
        parts.append(irt.add_prefix("irt_"))
    table = pd.concat(parts, axis=1)
    path = _write(table, args.out, index=True)
    print(f"DIF of {len(table):,} items ({args.focal} vs the reference group) written to {path}")
    correction = "Benjamini-Hochberg" if args.correction == "bh" else "none"
    print(f"  flags: adjusted p < {args.alpha:g} (multiplicity correction: {correction})")
    if "mh_ets_class" in table:
        counts = table["mh_ets_class"].value_counts()
        print("  MH/ETS: " + ", ".join(f"{c}: {int(counts.get(c, 0))}" for c in ("A", "B", "C")))
    if "irt_flagged" in table:
        print(f"  IRT LR flagged: {int(table['irt_flagged'].sum())} items")
    return 0


def link_command(args: argparse.Namespace) -> int:
    """Run ``pixirt link``; returns the exit status (0)."""
    reference, new = ItemBank.read(args.reference), ItemBank.read(args.new)
    result = link(
        reference,
        new,
        args.method,
        b_threshold=args.b_threshold,
        a_threshold=args.a_threshold,
        purify=not args.no_purify,
    )
    path = _write(result.drift, args.out, index=True)
    print(result.summary())
    print(f"drift table written to {path}")
    if args.linked_bank:
        written = result.transform(new).write(args.linked_bank)
        print(f"linked bank written to {written}")
    if args.result:
        out = Path(args.result)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf-8")
    return 0


def _add_score_persons_parser(subparsers: Any) -> None:
    """``pixirt score-persons``."""
    p = subparsers.add_parser(
        "score-persons",
        help="score persons (EAP, MAP, MLE or WLE) against a bank",
        description="Score every person of an answer log against an item bank; writes "
        "person_id, theta, se, n_answers, finite.",
    )
    _add_log_arguments(p)
    p.add_argument("--method", choices=METHODS, default="EAP", help="estimator (default: EAP)")
    p.add_argument("--prior-mean", type=float, help="prior mean (default: the bank's latent mean)")
    p.add_argument("--prior-sd", type=float, help="prior sd (default: the bank's latent sd)")
    p.add_argument("--n-quad", type=int, default=61, help="quadrature nodes (default: 61)")
    p.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=score_persons_command)


def _add_fit_parser(subparsers: Any) -> None:
    """``pixirt fit``."""
    p = subparsers.add_parser(
        "fit",
        help="item fit (infit/outfit, S-X², binned fit) and optionally person fit and Q3",
        description="Item fit of a bank on an answer log: infit/outfit, Orlando-Thissen "
        "S-X² on shared forms, and the binned leave-one-out fit for sparse logs.",
    )
    _add_log_arguments(p)
    p.add_argument("--out", required=True, help="item-fit CSV file to write")
    p.add_argument("--bins", type=int, default=10, help="ability bins of the binned fit")
    p.add_argument(
        "--min-form-size", type=int, default=100, help="smallest form on which S-X² is computed"
    )
    p.add_argument("--persons-out", help="also write person fit (lz*, infit, outfit) to this CSV")
    p.add_argument(
        "--person-method",
        choices=("WLE", "MLE", "MAP"),
        default="WLE",
        help="ability estimator of the person fit (default: WLE)",
    )
    p.add_argument("--q3-out", help="also write Yen's Q3 matrix (dense logs) to this CSV")
    p.add_argument("--alpha", type=float, default=0.01, help="level of the printed counts")
    p.add_argument(
        "--reference",
        choices=("auto", "bootstrap", "chi2"),
        default="auto",
        help="reference distribution of the binned fit (default: auto, a parametric bootstrap up to 200,000 answers)",
    )
    p.add_argument("--n-boot", type=int, default=100, help="bootstrap replicates (default: 100)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default: 0)")
    p.set_defaults(func=fit_command)


def _add_dif_parser(subparsers: Any) -> None:
    """``pixirt dif``."""
    p = subparsers.add_parser(
        "dif",
        help="DIF between two groups: Mantel-Haenszel (ETS A/B/C) and IRT likelihood ratio",
        description="Differential item functioning between a focal and a reference group.",
    )
    _add_log_arguments(p)
    p.add_argument("--groups", required=True, help="CSV with a person column and a group column")
    p.add_argument("--group-column", default="group", help="group column (default: group)")
    p.add_argument(
        "--focal",
        required=True,
        help="label of the focal group; 'all' (with --reference) or a comma-separated list for more than two groups",
    )
    p.add_argument("--reference", help="label of the reference group (default: the other one)")
    p.add_argument(
        "--test", choices=("mh", "irt", "both"), default="both", help="which tests (default: both)"
    )
    p.add_argument(
        "--anchors",
        help="comma-separated anchor item ids, or 'sweep' (all others, then purified to a fixed point) (IRT; default: all others)",
    )
    p.add_argument(
        "--purify",
        action="store_true",
        help="rerun with unflagged items as anchors / matching items",
    )
    p.add_argument("--alpha", type=float, default=0.05, help="level of the flags (default: 0.05)")
    p.add_argument(
        "--correction",
        choices=("bh", "none"),
        default="bh",
        help="multiplicity correction of the flags: Benjamini-Hochberg (default) or none",
    )
    p.add_argument("--out", required=True, help="CSV file to write")
    p.set_defaults(func=dif_command)


def _add_link_parser(subparsers: Any) -> None:
    """``pixirt link``."""
    p = subparsers.add_parser(
        "link",
        help="link a new bank to a reference bank through common items; flag drift",
        description="Linking constants (θ_ref = A θ_new + B) and parameter drift of the common items.",
    )
    p.add_argument("reference", help="reference bank (its scale is kept)")
    p.add_argument("new", help="bank to put on the reference scale")
    p.add_argument(
        "--method", choices=LINK_METHODS, default="stocking-lord", help="(default: stocking-lord)"
    )
    p.add_argument("--b-threshold", type=float, default=0.3, help="drift threshold on b (logits)")
    p.add_argument(
        "--a-threshold", type=float, default=0.25, help="drift threshold on |log(a ratio)|"
    )
    p.add_argument("--no-purify", action="store_true", help="keep drifted items as anchors")
    p.add_argument("--out", required=True, help="drift CSV file to write")
    p.add_argument("--linked-bank", help="also write the new bank on the reference scale")
    p.add_argument("--result", help="also write the linking result as JSON")
    p.set_defaults(func=link_command)
