"""Layering rules checked on the source tree: the core imports no outer part, and only the
service functions assign an item's state."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OUTER = ("flows", "notifications", "app")
PACKAGES = ("states", "flows", "notifications", "app", "config", "bench")


def _modules(*dirs: str) -> list[Path]:
    return sorted(p for d in dirs for p in (ROOT / d).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", _modules("states"), ids=lambda p: str(p.relative_to(ROOT)))
def test_states_imports_no_outer_part(path: Path) -> None:
    assert not _imports(path) & set(OUTER)


def _state_assignments(path: Path) -> list[int]:
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = [t for tgt in node.targets for t in (tgt.elts if isinstance(tgt, ast.Tuple) else [tgt])]
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        # ``self.state`` in a class of its own (an error's attribute) is not an item's state.
        lines += [
            t.lineno
            for t in targets
            if isinstance(t, ast.Attribute)
            and t.attr == "state"
            and not (isinstance(t.value, ast.Name) and t.value.id == "self")
        ]
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "setattr" and len(node.args) > 1:
            arg = node.args[1]
            if isinstance(arg, ast.Constant) and arg.value == "state":
                lines.append(node.lineno)
    return lines


def test_only_the_service_assigns_item_state() -> None:
    offenders = {str(p.relative_to(ROOT)): _state_assignments(p) for p in _modules(*PACKAGES, "tests")}
    offenders = {k: v for k, v in offenders.items() if v and k != "states/service.py"}
    assert offenders == {}


def test_the_scan_finds_an_assignment(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("def f(item):\n    item.state, x = 'closed', 1\n", encoding="utf-8")
    assert _state_assignments(bad) == [2]
