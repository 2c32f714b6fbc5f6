"""Each rule once, in pixirt/cat: the packages around it read no rule of selection, capacity or scoring.

The simulator, the jury comparison and the service draw candidates, answers and
incidents, and call :mod:`pixirt.cat` (:class:`~pixirt.cat._batch.SessionBatch`,
the v2 rules over arrays, :mod:`pixirt.cat._scale`, :func:`~pixirt.cat.score`, the
engine). This test reads their source (every function, nested ones included) and fails
when one of them reads a field of the selection, capacity or scoring rules, or calls a
rule primitive of :mod:`pixirt.cat` directly.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pixirt
from pixirt.rules import (
    CapacityRules,
    LevelRule,
    ReproducibilityThresholds,
    SelectionRules,
    V2Scoring,
    V3Scoring,
)

PACKAGE = Path(pixirt.__file__).parent
OUTSIDE = sorted(p for d in ("simulation", "service") for p in (PACKAGE / d).glob("*.py"))
#: Field names the rules share with other objects read there: a certification's
#: ``challenges``, a responder's ``neutralized`` draws.
SHARED_NAMES = {"challenges", "neutralized", "correct"}
RULE_FIELDS = (
    set().union(
        *(
            m.model_fields
            for m in (
                SelectionRules,
                CapacityRules,
                V2Scoring,
                V3Scoring,
                ReproducibilityThresholds,
                LevelRule,
            )
        )
    )
    - SHARED_NAMES
)
#: Rule primitives: what only pixirt.cat may call.
PRIMITIVES = {
    "candidate_pool",
    "rank_by_information",
    "reward",
    "limit_variation",
    "pick_rank",
    "posterior",
    "answer_log_likelihood",
    "pix_score_from_capacity",
    "mesh_index_from_capacity",
    "mesh_from_score",
    "competence_level",
    "js_round",
    "row_index",
    "minimum_success_rate_at",
    "log_likelihood_table",
    "update_rows",
    "shortlist_hits",
    "top_of_hits",
}


def _uses(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and node.attr in RULE_FIELDS | PRIMITIVES:
            found.append((node.lineno, node.attr))
        elif isinstance(node, ast.Name) and node.id in PRIMITIVES:
            found.append((node.lineno, node.id))
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pixirt.cat"):
            found += [(node.lineno, a.name) for a in node.names if a.name in PRIMITIVES]
    return found


def test_the_scan_sees_a_rule_read(tmp_path):
    """The check can fail: a copy of a rule is found."""
    copy = tmp_path / "copy.py"
    copy.write_text(
        "from pixirt.cat._selection import candidate_pool\n"
        "def f(rules, x):\n"
        "    def g():\n"
        "        return x < rules.v3.minimum_answers\n"
        "    return g()\n",
        encoding="utf-8",
    )
    assert {name for _, name in _uses(copy)} == {"candidate_pool", "minimum_answers"}


@pytest.mark.parametrize("path", OUTSIDE, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_rule_outside_pixirt_cat(path):
    assert _uses(path) == [], f"{path.relative_to(PACKAGE.parent)} reads rules: {_uses(path)}"
