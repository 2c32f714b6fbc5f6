"""``pixirt session``: take a certification by hand in the terminal, one challenge at a time.

Usage::

    pixirt session                                   # Pix-like bank, rules pix-v3
    pixirt session --bank bank.csv --rules pix-v3 --seed 7
    pixirt session --rules pix-v2 --profile profile.json

Each challenge is shown (id, competence, tube, skill; in v3 the capacity it was chosen
at and its rank among the top challenges), then an answer is read from standard input:

- an answer status: ``ok``, ``ko``, ``aband``, ``timedout``, ``focusedOut``,
  ``partially``, ``unimplemented`` (``y``/``1`` stand for ``ok``, ``n``/``0`` for
  ``ko``);
- ``alert``: a validated live alert (v3): the challenge is withdrawn and replaced;
- ``q``: the candidate abandons (the session is aborted, reason ``candidate``);
- ``?``: this list.

The end of the input aborts the session for a technical reason. When the test is over the
result is printed (status, score, capacity, competence levels) and, with ``--save``, the
final state and result are written as JSON (the state resumes with
:meth:`pixirt.cat.CatState.from_dict`).

Without ``--bank`` the bank is :func:`pixirt.simulation.pix_like_bank` (seed 0). A v2
session needs a positioning profile: ``--profile`` (the JSON of
:meth:`pixirt.cat.Profile.to_dict`), otherwise the first certifiable candidate of
a simulated population is used.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pixirt.exceptions import DataError, PixirtError

if TYPE_CHECKING:
    from pixirt import ItemBank
    from pixirt.cat import CatState, CertificationResult, ChallengeChoice, Profile

__all__ = ["add_session_parser", "main", "run_session", "session_command"]

ALIASES = {"y": "ok", "yes": "ok", "1": "ok", "n": "ko", "no": "ko", "0": "ko"}
HELP = (
    "answers: ok ko aband timedout focusedOut partially unimplemented "
    "(y/1 = ok, n/0 = ko); alert = validated live alert (v3); q = abandon; ? = help"
)


def add_session_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``session`` sub-command to an :mod:`argparse` sub-parser collection.

    Parameters
    ----------
    subparsers
        The object returned by ``ArgumentParser.add_subparsers()``.

    Returns
    -------
    argparse.ArgumentParser
        The ``session`` parser; its ``func`` default is :func:`session_command`.
    """
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "session",
        help="take a certification by hand in the terminal (answers typed)",
        description=(
            "Run an interactive certification session: each challenge is shown and its "
            "answer typed (ok, ko, aband, ...; alert for a live alert; q to abandon)."
        ),
    )
    _arguments(parser)
    parser.set_defaults(func=session_command)
    return parser


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bank", default=None, help="item bank file (default: the Pix-like bank, seed 0)"
    )
    parser.add_argument(
        "--rules", default="pix-v3", help="rule set name or TOML path (default: pix-v3)"
    )
    parser.add_argument(
        "--seed", type=int, default=None, help="seed of the draws (default: random)"
    )
    parser.add_argument("--profile", default=None, help="v2: positioning profile JSON file")
    parser.add_argument(
        "--candidate-index", type=int, default=0, help="index keying the candidate's draws"
    )
    parser.add_argument(
        "--accessibility", action="store_true", help="only challenges flagged accessible"
    )
    parser.add_argument("--save", default=None, help="write the final state and result as JSON")


def session_command(
    args: argparse.Namespace,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> int:
    """Run ``pixirt session``.

    Parameters
    ----------
    args
        Parsed arguments (see :func:`add_session_parser`).
    read
        Reads one answer after showing a prompt (default: :func:`input`); raises
        ``EOFError`` at the end of the input.
    write
        Writes one line (default: :func:`print`).

    Returns
    -------
    int
        0 when the session ended (finished or aborted) and was scored; 2 on invalid
        input (file, field or rule set named on standard error); 1 when the rules cannot
        score the session.
    """
    from pixirt import rules as rules_module
    from pixirt.cat import Candidate, start
    from pixirt.exceptions import ScoringError

    try:
        rule_set = rules_module.load(args.rules)
        bank = _bank(args.bank)
        notes: list[str] = []
        profile = _profile(args.profile, rule_set.algorithm, bank, args.seed, notes)
        candidate = Candidate(
            "candidate", index=args.candidate_index, accessibility=args.accessibility
        )
        state = start(bank, rule_set, profile=profile, candidate=candidate, seed=args.seed)
    except PixirtError as exc:
        print(f"pixirt session: {exc}", file=sys.stderr)
        return 2
    write(
        f"pixirt session: rules {rule_set.id} ({rule_set.algorithm}), bank of {bank.n_items} "
        f"challenges ({bank.hash[:12]}), seed {state.seed}"
    )
    for note in notes:
        write(note)
    write(HELP)
    try:
        final, outcome = run_session(state, read=read, write=write)
    except ScoringError as exc:
        print(f"pixirt session: cannot score the session: {exc}", file=sys.stderr)
        return 1
    except PixirtError as exc:  # e.g. the rules leave no challenge for the next step
        print(f"pixirt session: {exc}", file=sys.stderr)
        return 2
    if args.save is not None:
        payload = {"state": final.to_dict(), "result": outcome.to_dict()}
        Path(args.save).write_text(
            json.dumps(payload, ensure_ascii=False, allow_nan=False, indent=2) + "\n",
            encoding="utf-8",
        )
        write(f"wrote {args.save}")
    return 0


def _bank(path: str | None) -> ItemBank:
    from pixirt import ItemBank
    from pixirt.simulation import pix_like_bank

    return pix_like_bank(0) if path is None else ItemBank.read(path)


def _profile(
    path: str | None,
    algorithm: str,
    bank: ItemBank,
    seed: int | None,
    notes: list[str],
) -> Profile | None:
    """The v2 profile: read from ``path``, or the first certifiable simulated candidate (noted)."""
    from pixirt.cat import Profile

    if path is not None:
        p = Path(path)
        if not p.exists():
            raise DataError("no such file", path=str(p))
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataError(f"invalid JSON: {exc.msg}", path=str(p), row=exc.lineno) from None
        return Profile.from_dict(data, path=str(p))
    if algorithm != "v2":
        return None
    from pixirt.simulation import Population

    cands = Population().sample(50, seed=0 if seed is None else seed, bank=bank)
    for row in range(len(cands)):
        profile = cands.profile(row)
        if profile.is_certifiable():
            levels = ", ".join(
                f"{code}: {profile.competences[code].level}"
                for code in profile.certifiable_competences()
            )
            notes.append(f"simulated positioning profile (candidate c{cands.index[row]}): {levels}")
            return profile
    raise DataError("no certifiable profile among 50 simulated candidates", field="profile")


def run_session(
    state: CatState,
    *,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = print,
) -> tuple[CatState, CertificationResult]:
    """Serve challenges and record typed answers until the test is over; print the result.

    Parameters
    ----------
    state
        A started :class:`~pixirt.cat.CatState`.
    read, write
        As in :func:`session_command`.

    Returns
    -------
    tuple
        The final :class:`~pixirt.cat.CatState` and its
        :class:`~pixirt.cat.CertificationResult`.
    """
    from pixirt.cat import ANSWER_STATUSES, abort, flag_live_alert, next_challenge, record, result

    runtime = state.runtime
    if runtime is None:
        raise DataError("the state has no engine attached: start it with pixirt.cat.start")
    selection = runtime.rules.selection
    total = len(state.plan) if selection is None else selection.test_length
    while (choice := next_challenge(state)) is not None:
        write("")
        write(_describe(choice, runtime.bank, state.n_answers + 1, total))
        while True:
            try:
                typed = read("answer> ").strip()
            except EOFError:
                write("(end of input: the session is aborted for a technical reason)")
                state = abort(state, "technical")
                break
            answer = ALIASES.get(typed.lower(), typed)
            if answer in ANSWER_STATUSES:
                state = record(state, choice.challenge_id, answer)
                break
            if answer.lower() in ("q", "quit", "exit"):
                state = abort(state, "candidate")
                write("the candidate abandons: session aborted")
                break
            if answer.lower() == "alert":
                if state.algorithm != "v3":
                    write("live alerts replace challenges in v3 only (in v2 the jury neutralizes)")
                    continue
                state = flag_live_alert(state, choice.challenge_id)
                write(f"live alert validated: {choice.challenge_id} and its skill are withdrawn")
                break
            if answer not in ("?", "help", "h"):
                write(f"not understood: {typed!r}")
            write(HELP)
    outcome = result(state)
    write("")
    for line in _summary(outcome):
        write(line)
    return state, outcome


def _describe(choice: ChallengeChoice, bank: ItemBank, number: int, total: int) -> str:
    """Two lines about a challenge: where it sits and, in v3, why it was chosen."""
    meta = bank.metadata
    extra = []
    for col in ("type", "level"):
        if col in meta.columns:
            extra.append(f"{col} {meta[col].iloc[bank.index_of([choice.challenge_id])[0]]}")
    where = f"competence {choice.competence} · tube {choice.tube}"
    if choice.skill is not None:
        where += f" · skill {choice.skill}"
    if extra:
        where += f" ({', '.join(extra)})"
    head = f"[{number}/{total}] challenge {choice.challenge_id}: {where}"
    if choice.capacity is None:
        return head
    return (
        f"{head}\n    capacity {choice.capacity:+.3f} ± {choice.error_rate or 0.0:.3f}; "
        f"picked rank {choice.rank} of {len(choice.ranked)} by information"
    )


def _summary(outcome: CertificationResult) -> list[str]:
    lines = [f"result: {outcome.status}, {outcome.pix_score} pix ({outcome.rules_id})"]
    if outcome.capacity is not None:
        err = "" if outcome.error_rate is None else f" ± {outcome.error_rate:.3f}"
        lines.append(
            f"capacity {outcome.capacity:+.3f}{err} after {outcome.n_answers} answers"
            + (f"; level {outcome.global_level}" if outcome.global_level else "")
        )
    if outcome.reproducibility_rate is not None:
        lines.append(f"reproducibility rate {outcome.reproducibility_rate}%")
    levels = ", ".join(f"{code}: {c.level}" for code, c in outcome.competences.items())
    if levels:
        lines.append(f"competence levels: {levels}")
    return lines


def main(argv: list[str] | None = None) -> int:
    """``python -m pixirt.cli._session [options]``: the sub-command on its own.

    Parameters
    ----------
    argv
        Arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status of :func:`session_command`.
    """
    parser = argparse.ArgumentParser(
        prog="pixirt session", description=__doc__.splitlines()[0] if __doc__ else None
    )
    _arguments(parser)
    return session_command(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
