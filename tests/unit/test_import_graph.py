"""The package layout holds: sub-packages import only downward, no module cycles, profiles/ never imports Pulumi,
and the top level keeps only the entry points and the cross-cutting modules."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "profiles"
LAYERS = {  # sub-package -> layer; a module may import its own sub-package and lower layers only
    "errors": 0, "files": 0, "checks": 0.5, "catalog": 1, "store": 2, "selection": 3, "serving": 4,
    "gke": 5, "estimator": 5, "harness": 5, "manifests": 6, "stack": 7, "cli": 7, "__main__": 8,
}
TOP_LEVEL = {"__init__.py", "__main__.py", "errors.py", "files.py", "checks.py"}


def modules() -> dict[str, Path]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path, name: str) -> set[str]:
    """Every module an import statement names, including imports inside functions and TYPE_CHECKING blocks."""
    found = set()
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return found


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {i for i in imports(path, name) if i in known and i != name} for name, path in known.items()}


def sub_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_top_level_holds_only_entry_points_and_cross_cutting_modules():
    files = {p.name for p in PACKAGE.iterdir() if p.suffix == ".py"}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert files == TOP_LEVEL
    assert packages == {name for name, layer in LAYERS.items() if 1 <= layer < 8}


def test_every_sub_package_says_what_it_owns():
    for init in PACKAGE.rglob("__init__.py"):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        assert doc and len(doc.split()) >= 15, f"{init.relative_to(PACKAGE.parent)} needs a docstring saying what it owns"


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    found = []
    for module, targets in edges.items():
        own = sub_package(module)
        for target in targets:
            other = sub_package(target)
            if own != "__init__" and other not in (own, "__init__") and LAYERS[other] >= LAYERS[own]:
                found.append(f"{module} -> {target}")
    return sorted(found)


def cycles(edges: dict[str, set[str]]) -> list[str]:
    state: dict[str, int] = defaultdict(int)  # 0 new, 1 on the stack, 2 done
    found = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state[nxt] == 1:
                found.append(" -> ".join(path[path.index(nxt):] + [nxt]))
            elif state[nxt] == 0:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if state[node] == 0:
            visit(node, [node])
    return found


def test_imports_go_downward_only():
    upward = upward_imports(graph())
    assert not upward, "imports that do not go downward:\n" + "\n".join(upward)


def test_no_import_cycles():
    found = cycles(graph())
    assert not found, "import cycles:\n" + "\n".join(found)


@pytest.mark.parametrize("forbidden", ["pulumi", "pulumi_gcp", "pulumi_kubernetes", "components"])
def test_profiles_never_imports_pulumi_or_the_components(forbidden):
    offenders = [name for name, path in modules().items()
                 if any(i == forbidden or i.startswith(forbidden + ".") for i in imports(path, name))]
    assert not offenders, f"{forbidden} imported by {offenders}"


def test_the_checks_catch_what_they_look_for():
    """Negative controls: an upward edge, a sibling edge and a cycle planted in a copy of the real graph are reported."""
    edges = {k: set(v) for k, v in graph().items()}
    edges["profiles.catalog.catalog"].add("profiles.stack.plan")
    edges["profiles.estimator.estimate"].add("profiles.harness.records")
    assert upward_imports(edges) == ["profiles.catalog.catalog -> profiles.stack.plan",
                                     "profiles.estimator.estimate -> profiles.harness.records"]
    edges["profiles.store.points"].add("profiles.store.store")
    assert any("profiles.store.store" in c and "profiles.store.points" in c for c in cycles(edges))
