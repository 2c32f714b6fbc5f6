"""The house's import rules, checked on every import, function-level ones included.

Layers, from the ground up (issue "The house"):

    ground floor  pixirt/*.py (data, item bank, responses, models, streams, I/O, answers)
    rules         pixirt/rules.py and its private modules (pixirt/_rule*.py)
    calibration | cat      (siblings: neither imports the other)
    simulation
    service
    cli                    (every command: it may import anything, the service included)

A module may import its own layer or a lower one, never a higher one; no module imports
another that imports it back (even inside a function); no module imports a private
name (``_name``) from a *public* module of another package. The applications — the
service and the CLI — import no private module (``_x.py``) of the library's packages:
they use the public names, as a user would. (Inside the library, the simulator runs the
engine's batch internals on purpose — one engine, see docs/engine.md — and the ground
floor's private modules, ``pixirt/_x.py``, are what every layer shares.) ``TYPE_CHECKING`` imports are ignored (they
never run). The top package ``pixirt`` re-exports the ground floor and rules only.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "pixirt"
LEVEL = {
    "ground": 0,
    "rules": 1,
    "calibration": 2,
    "cat": 2,
    "simulation": 3,
    "service": 4,
    "cli": 5,
}
SIBLINGS = {frozenset({"calibration", "cat"})}
APPLICATIONS = {"service", "cli"}  # import only the library's public names


def _modname(path: Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_modname(p): p for p in ROOT.rglob("*.py")}


def _layer(mod: str) -> str:
    parts = mod.split(".")
    if len(parts) == 1:
        return "rules"  # the top package: ground floor and rules re-exported
    if parts[1] in ("calibration", "cat", "simulation", "service", "cli"):
        return parts[1]
    if parts[1] == "rules" or parts[1].startswith("_rule"):
        return "rules"
    if parts[1] == "testing":  # the plug-in checks: above the CAT stages
        return "cat"
    return "ground"


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for sub in node.body:
                for inner in ast.walk(sub):
                    if hasattr(inner, "lineno"):
                        lines.add(inner.lineno)
    return lines


def _imports(mod: str, modules: dict[str, Path]) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every pixirt import of ``mod``."""
    path = modules[mod]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = _type_checking_lines(tree)
    out: list[tuple[str, str | None, int]] = []
    package = mod if path.name == "__init__.py" else mod.rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            out += [(a.name, None, node.lineno) for a in node.names if a.name.startswith("pixirt")]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            if not base.startswith("pixirt"):
                continue
            for a in node.names:
                full = f"{base}.{a.name}"
                out.append(
                    (full, None, node.lineno) if full in modules else (base, a.name, node.lineno)
                )
    return out


def _violations(modules: dict[str, Path] = MODULES) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"upward": [], "circle": [], "private": [], "private module": []}
    graph: dict[str, set[str]] = {}
    for mod in modules:
        for target, name, line in _imports(mod, modules):
            if target not in modules:
                continue
            graph.setdefault(mod, set()).add(target)
            a, b = _layer(mod), _layer(target)
            if LEVEL[b] > LEVEL[a] or (
                a != b and LEVEL[a] == LEVEL[b] and frozenset({a, b}) in SIBLINGS
            ):
                found["upward"].append(f"{mod}:{line} imports {target} ({a} → {b})")
            if name is not None and name.startswith("_") and not name.startswith("__"):
                owner = target.rsplit(".", 1)[-1]
                same_package = target.rsplit(".", 1)[0] == mod.rsplit(".", 1)[0]
                if not (owner.startswith("_") and same_package):
                    found["private"].append(f"{mod}:{line} imports {name} from {target}")
            owner_package, _, leaf = target.rpartition(".")
            if (
                _layer(mod) in APPLICATIONS
                and leaf.startswith("_")
                and owner_package != "pixirt"
                and not (mod == owner_package or mod.startswith(owner_package + "."))
            ):
                found["private module"].append(f"{mod}:{line} imports {target}")

    # circles: a module reaching itself through imports (package __init__ re-exports aside)
    def reach(start: str) -> set[str]:
        seen: set[str] = set()
        todo = [t for t in graph.get(start, ()) if modules[t].name != "__init__.py"]
        while todo:
            m = todo.pop()
            if m in seen:
                continue
            seen.add(m)
            todo += [t for t in graph.get(m, ()) if modules[t].name != "__init__.py"]
        return seen

    for mod in sorted(graph):
        if modules[mod].name != "__init__.py" and mod in reach(mod):
            found["circle"].append(mod)
    return found


@pytest.mark.parametrize("kind", ["upward", "circle", "private", "private module"])
def test_the_import_rules_hold(kind):
    found = _violations()[kind]
    assert not found, f"{len(found)} {kind} import(s):\n" + "\n".join(found)


def test_no_library_package_parses_arguments():
    offenders = [
        mod
        for mod, path in MODULES.items()
        if _layer(mod) != "cli" and "argparse" in path.read_text(encoding="utf-8")
    ]
    assert not offenders, offenders


def test_the_checker_sees_function_level_imports(tmp_path):
    """A planted upward import inside a function is found (the scan is not blind)."""
    planted = tmp_path / "_planted_for_test.py"
    planted.write_text("def f():\n    from pixirt.simulation import simulate\n", encoding="utf-8")
    found = _violations({**MODULES, "pixirt.calibration._planted_for_test": planted})["upward"]
    assert any("_planted_for_test" in x for x in found)


def test_the_checker_sees_a_private_module_of_another_package(tmp_path):
    """A planted ``from pixirt.cat import _engine`` in the service is found; the same
    import inside ``pixirt.cat`` is not."""
    planted = tmp_path / "_planted_for_test.py"
    planted.write_text("from pixirt.cat import _engine as engine\n", encoding="utf-8")
    outside = _violations({**MODULES, "pixirt.service._planted_for_test": planted})
    inside = _violations({**MODULES, "pixirt.cat._planted_for_test": planted})
    assert any("_planted_for_test" in x for x in outside["private module"])
    assert not any("_planted_for_test" in x for x in inside["private module"])
