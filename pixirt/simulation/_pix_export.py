"""Past sessions from a Pix-like export: CSV tables as Pix's platform stores them.

:func:`read_pix_export` turns a directory of Pix-style tables into
:class:`~pixirt.cat.Certification` objects, ready for
:func:`pixirt.simulation.replay` and ``pixirt compare --past``;
:func:`write_sessions` writes them as the JSON-lines format of docs/jury.md (one
certification per line, ``docs/schemas/certification.schema.json``). The CLI is
``pixirt import-pix DIR --out sessions.jsonl``.

The tables (CSV, Pix's camelCase column names; docs/jury.md, "Past sessions"):

- ``certification-courses.csv``: ``id``, ``version`` (2 or 3), ``abortReason``
  (``candidate``, ``technical`` or empty), ``isRejectedForFraud``, ``isCancelled``;
  optional ``hasCleaBadge``;
- ``certification-challenges.csv``: ``courseId``, ``challengeId``, ``competenceId``,
  ``createdAt``; optional ``associatedSkillName``, ``type``, ``isNeutralized``,
  ``hasBeenSkippedAutomatically``, ``discriminant``, ``difficulty``, ``features``
  (``image|embed``);
- ``answers.csv``: ``courseId``, ``challengeId``, ``result`` (``ok``, ``ko``, ``aband``,
  ``timedout``, ``focusedOut``, ...), ``createdAt``;
- ``certification-issue-reports.csv`` (optional): ``certificationCourseId``,
  ``category``, ``subcategory``, ``questionNumber`` (1-based, over the answers by date,
  as Pix numbers them);
- ``jury-events.csv`` (optional): ``certificationCourseId``, ``kind``, ``challengeId``,
  ``createdAt`` (replayed in date order);
- ``placement-profiles.csv`` (v2): ``certificationCourseId``, ``competenceId``,
  ``level``, ``pixScore``.

Pix identifies competences by internal ids (``recIhdrmCuEmCDAzj``); pixirt by codes
(``1.1``). A ``competenceId`` that is a code is kept; any other needs the
``competences`` mapping (id → code): an unknown id is refused, naming the file, the row
and the id, never silently dropped.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from pixirt.cat._certification import Certification
from pixirt.cat._incidents import STATUSES
from pixirt.exceptions import DataError

__all__ = ["read_pix_export", "write_sessions"]

_CODE = re.compile(r"^[1-9]\.[1-9]$")
_TABLES: dict[str, tuple[tuple[str, ...], bool]] = {
    # name: (required columns, required table)
    "certification-courses.csv": (("id", "version"), True),
    "certification-challenges.csv": (
        ("courseId", "challengeId", "competenceId", "createdAt"),
        True,
    ),
    "answers.csv": (("courseId", "challengeId", "result", "createdAt"), True),
    "certification-issue-reports.csv": (
        ("certificationCourseId", "category", "subcategory", "questionNumber"),
        False,
    ),
    "jury-events.csv": (("certificationCourseId", "kind", "challengeId", "createdAt"), False),
    "placement-profiles.csv": (
        ("certificationCourseId", "competenceId", "level", "pixScore"),
        False,
    ),
}
_TRUE = {"true", "t", "1", "yes"}
_FALSE = {"false", "f", "0", "no", ""}


def read_pix_export(
    directory: str | os.PathLike[str],
    *,
    competences: Mapping[str, str] | str | os.PathLike[str] | None = None,
) -> list[Certification]:
    """Read a Pix-like export (see the module doc) into certifications, one per course.

    Parameters
    ----------
    directory
        The folder holding the CSV tables.
    competences
        Pix competence id → code (``{"recIhdrmCuEmCDAzj": "1.1"}``), or a CSV file with
        columns ``competenceId`` and ``code``. Not needed when the export uses codes.

    Returns
    -------
    list of Certification
        In the order of ``certification-courses.csv``, ``id`` as the certification id.

    Raises
    ------
    DataError
        Naming the file, the row (as in a spreadsheet: the header is row 1) and the field
        of the first problem: a missing table or column, an unknown competence id, a bad
        status or boolean, an answer or event on a challenge the course did not ask.
    """
    root = Path(directory)
    if not root.is_dir():
        raise DataError("expected a directory of CSV tables", path=str(root))
    mapping = _competence_map(competences)
    tables = {name: _read(root, name, cols, required) for name, (cols, required) in _TABLES.items()}
    courses = tables["certification-courses.csv"]
    assert courses is not None
    by_course: dict[str, dict[str, list[tuple[int, dict[str, Any]]]]] = {}
    for name, frame in tables.items():
        if frame is None or name == "certification-courses.csv":
            continue
        key = "courseId" if "courseId" in _TABLES[name][0] else "certificationCourseId"
        for i, rec in enumerate(_records(frame)):
            by_course.setdefault(str(rec[key]), {}).setdefault(name, []).append((i + 2, rec))
    known = {str(x) for x in courses["id"]}
    for cid, parts in by_course.items():
        if cid not in known:
            name, rows = next(iter(parts.items()))
            raise DataError(
                f"course {cid!r} is not in certification-courses.csv",
                path=str(root / name),
                row=rows[0][0],
            )
    out = []
    for i, rec in enumerate(_records(courses)):
        course_id = str(rec["id"])
        out.append(_certification(root, rec, i + 2, by_course.get(course_id, {}), mapping))
    return out


def write_sessions(certifications: Iterable[Certification], path: str | os.PathLike[str]) -> Path:
    """Write certifications as JSON lines (one ``Certification.to_dict()`` per line), atomically."""
    from pixirt._atomic_files import atomic_write

    target = Path(path)
    lines = [json.dumps(c.to_dict(), ensure_ascii=False) for c in certifications]

    def write(tmp: Path) -> None:
        tmp.write_text("".join(x + "\n" for x in lines), encoding="utf-8")

    atomic_write(target, write)
    return target


# ---------------------------------------------------------------------- helpers
def _competence_map(
    competences: Mapping[str, str] | str | os.PathLike[str] | None,
) -> dict[str, str]:
    if competences is None:
        return {}
    if isinstance(competences, Mapping):
        items = dict(competences)
        where = "competences"
    else:
        path = Path(competences)
        frame = _csv(path)
        for col in ("competenceId", "code"):
            if col not in frame.columns:
                raise DataError("missing column", path=str(path), field=col)
        items = dict(zip(frame["competenceId"].astype(str), frame["code"].astype(str), strict=True))
        where = str(path)
    for pix_id, code in items.items():
        if not _CODE.match(str(code)):
            raise DataError(
                f"expected a competence code like '1.1' for {pix_id!r}, got {code!r}",
                path=where,
                field="code",
            )
    return {str(k): str(v) for k, v in items.items()}


def _csv(path: Path) -> pd.DataFrame:
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise DataError(f"cannot read the table: {exc}", path=str(path)) from None


def _read(root: Path, name: str, cols: tuple[str, ...], required: bool) -> pd.DataFrame | None:
    path = root / name
    if not path.exists():
        if required:
            raise DataError("missing table of the export", path=str(path))
        return None
    frame = _csv(path)
    for col in cols:
        if col not in frame.columns:
            raise DataError(
                f"missing column (columns are {list(frame.columns)})", path=str(path), field=col
            )
    return frame


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in rec.items()} for rec in frame.to_dict("records")]


def _bool(value: str, path: Path, row: int, field: str) -> bool:
    v = str(value).strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise DataError(f"expected true or false, got {value!r}", path=str(path), row=row, field=field)


def _number(value: str, path: Path, row: int, field: str) -> float | None:
    if str(value).strip() == "":
        return None
    try:
        return float(value)
    except ValueError:
        raise DataError(
            f"expected a number, got {value!r}", path=str(path), row=row, field=field
        ) from None


def _code(value: str, mapping: Mapping[str, str], path: Path, row: int) -> str:
    v = str(value).strip()
    if _CODE.match(v):
        return v
    if v in mapping:
        return mapping[v]
    raise DataError(
        f"Pix competence id {v!r} has no code: pass competences={{id: code}} (CLI --competences)",
        path=str(path),
        row=row,
        field="competenceId",
    )


Rows = list[tuple[int, dict[str, Any]]]


def _certification(
    root: Path,
    course: dict[str, Any],
    course_row: int,
    parts: dict[str, Rows],
    mapping: Mapping[str, str],
) -> Certification:
    courses_path = root / "certification-courses.csv"
    version = str(course["version"]).strip()
    if version not in ("2", "3"):
        raise DataError(
            f"expected 2 or 3, got {version!r}",
            path=str(courses_path),
            row=course_row,
            field="version",
        )
    challenges = _by_date(parts.get("certification-challenges.csv", []))
    answers = _by_date(parts.get("answers.csv", []))
    asked = {str(rec["challengeId"]) for _, rec in challenges}
    status = _statuses(root, course, answers, asked)
    items = _challenges(root, challenges, status, mapping)  # first: the first bad row named
    data = {
        "id": str(course["id"]),
        "profile": _profile(root, parts.get("placement-profiles.csv", []), mapping),
        "challenges": items,
        "abort_reason": str(course.get("abortReason", "") or "").strip() or None,
        "fraud": _bool(
            course.get("isRejectedForFraud", ""), courses_path, course_row, "isRejectedForFraud"
        ),
        "cancelled": _bool(course.get("isCancelled", ""), courses_path, course_row, "isCancelled"),
        "clea_badge": _bool(
            course.get("hasCleaBadge", ""), courses_path, course_row, "hasCleaBadge"
        ),
        "issue_reports": _reports(
            root,
            parts.get("certification-issue-reports.csv", []),
            [str(rec["challengeId"]) for _, rec in answers],
        ),
        "jury_events": _events(root, course, parts.get("jury-events.csv", []), asked),
    }
    try:
        return Certification.from_dict(data)
    except DataError as exc:
        raise DataError(
            f"course {course['id']}: {exc.message}",
            path=str(courses_path),
            row=course_row,
            field=exc.field,
        ) from None


def _by_date(rows: Rows) -> Rows:
    """Rows in date order (``createdAt``), ties in file order."""
    return sorted(rows, key=lambda x: (x[1]["createdAt"], x[0]))


def _statuses(root: Path, course: dict[str, Any], answers: Rows, asked: set[str]) -> dict[str, str]:
    """Challenge id → its answer status, checked against the course and Pix's statuses."""
    path = root / "answers.csv"
    status: dict[str, str] = {}
    for row, rec in answers:
        cid = str(rec["challengeId"])
        if cid not in asked:
            raise DataError(
                f"answer to challenge {cid!r}, which course {course['id']} did not ask",
                path=str(path),
                row=row,
                field="challengeId",
            )
        result = str(rec["result"]).strip()
        if result not in STATUSES:
            raise DataError(
                f"expected one of {'/'.join(STATUSES)}, got {result!r}",
                path=str(path),
                row=row,
                field="result",
            )
        status[cid] = result
    return status


def _challenges(
    root: Path, challenges: Rows, status: dict[str, str], mapping: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The certification's challenges in the order asked, with their answers."""
    path = root / "certification-challenges.csv"
    items = []
    for row, rec in challenges:
        cid = str(rec["challengeId"])
        feats = str(rec.get("features", "") or "").strip()
        item: dict[str, Any] = {
            "challenge_id": cid,
            "competence": _code(rec["competenceId"], mapping, path, row),
            "status": status.get(cid),
            "neutralized": _bool(rec.get("isNeutralized", ""), path, row, "isNeutralized"),
            "skipped_automatically": _bool(
                rec.get("hasBeenSkippedAutomatically", ""),
                path,
                row,
                "hasBeenSkippedAutomatically",
            ),
            "discriminant": _number(rec.get("discriminant", ""), path, row, "discriminant"),
            "difficulty": _number(rec.get("difficulty", ""), path, row, "difficulty"),
            "type": (str(rec.get("type", "")).strip() or None),
            "features": [f for f in feats.split("|") if f] if feats else None,
        }
        skill = str(rec.get("associatedSkillName", "") or "").strip()
        if skill:
            item["tube"] = skill.rstrip("0123456789")
        items.append(item)
    return items


def _reports(root: Path, rows: Rows, by_number: list[str]) -> list[dict[str, Any]]:
    """The issue reports, their question numbers read over the answers by date (as Pix)."""
    path = root / "certification-issue-reports.csv"
    reports = []
    for row, rec in rows:
        number = str(rec["questionNumber"]).strip()
        reported: str | None = None
        if number:
            try:
                k = int(number)
            except ValueError:
                raise DataError(
                    f"expected a question number, got {number!r}",
                    path=str(path),
                    row=row,
                    field="questionNumber",
                ) from None
            # beyond the answers: Pix's "no such question"
            reported = by_number[k - 1] if 1 <= k <= len(by_number) else None
        reports.append(
            {
                "category": str(rec["category"]).strip(),
                "subcategory": str(rec["subcategory"]).strip() or None,
                "challenge_id": reported,
            }
        )
    return reports


def _events(
    root: Path, course: dict[str, Any], rows: Rows, asked: set[str]
) -> list[dict[str, Any]]:
    """The jury events in date order, each on a challenge the course asked (or none)."""
    path = root / "jury-events.csv"
    events = []
    for row, rec in _by_date(rows):
        on: str | None = str(rec["challengeId"]).strip() or None
        if on is not None and on not in asked:
            raise DataError(
                f"jury event on challenge {on!r}, which course {course['id']} did not ask",
                path=str(path),
                row=row,
                field="challengeId",
            )
        events.append({"kind": str(rec["kind"]).strip(), "challenge_id": on})
    return events


def _profile(root: Path, rows: Rows, mapping: Mapping[str, str]) -> dict[str, dict[str, int]]:
    """The v2 placement profile: competence code → level and pix."""
    path = root / "placement-profiles.csv"
    profile: dict[str, dict[str, int]] = {}
    for row, rec in rows:
        code = _code(rec["competenceId"], mapping, path, row)
        level = _number(rec["level"], path, row, "level")
        pix = _number(rec["pixScore"], path, row, "pixScore")
        if level is None or pix is None:
            raise DataError("level and pixScore are required", path=str(path), row=row)
        profile[code] = {"level": int(level), "pix": int(pix)}
    return profile
