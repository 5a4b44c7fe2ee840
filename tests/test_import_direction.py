"""Imports between the project's packages run one way, down the layers, and form no cycle.

Read from the source with `ast` (every import, those inside functions too), so a lazy import
cannot hide an upward dependency. A new top-level package must be given its layer here.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parent.parent

#: Bottom to top. A package may import packages of lower layers, never its own layer or above.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("schema",),  # the wire contract: data classes, tables, names
    ("engines",),  # pure computation on schema types
    ("core",),  # ground floor: settings, database, object store, events, Temporal client
    ("workflows", "activities"),  # orchestration, and the adapters it schedules
    ("api", "worker_cpu", "worker_gpu", "ingress"),  # the processes
    ("ascension",),  # the roof: CLI, dev stack, demo, bench, server runners, toolchain
)
#: Narrower than their layer: the only packages of ours these may import.
ONLY: dict[str, set[str]] = {
    "engines": {"schema"},  # pure: no settings, database, broker or Temporal
    "core": {"schema"},  # needs nothing computed; every process imports it
    "workflows": {"schema"},  # Temporal's sandbox replays them: data classes only
}
#: Imports allowed against the layers, each with its reason. None is needed today.
EXCEPTIONS: dict[tuple[str, str], str] = {}
#: Third-party libraries: the only ones a package may import, or ones it must never import.
THIRD_PARTY_ONLY: dict[str, set[str]] = {"workflows": {"temporalio"}}  # deterministic code
THIRD_PARTY_NEVER: dict[str, set[str]] = {"engines": {"temporalio"}, "schema": {"temporalio"}}

LAYER = {package: rank for rank, layer in enumerate(LAYERS) for package in layer}


def imports(package: str) -> Iterator[tuple[str, str]]:
    """(top-level name imported, "file:line") for every absolute import in ``package``."""
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue  # relative imports stay inside their package
            for name in names:
                yield name.split(".")[0], f"{path.relative_to(ROOT)}:{node.lineno}"


def package_edges() -> dict[tuple[str, str], str]:
    """Package -> package it imports, with the first place it does."""
    edges: dict[tuple[str, str], str] = {}
    for package in LAYER:
        for target, where in imports(package):
            if target in LAYER and target != package:
                edges.setdefault((package, target), where)
    return edges


def allowed(package: str, target: str) -> bool:
    if (package, target) in EXCEPTIONS:
        return True
    if package in ONLY:
        return target in ONLY[package]
    return LAYER[target] < LAYER[package]


def test_every_package_has_a_layer() -> None:
    packages = {init.parent.name for init in ROOT.glob("*/__init__.py")} - {"tests"}
    assert packages == set(LAYER)


def test_no_import_runs_up_the_layers() -> None:
    wrong = [
        f"{where}: {package} imports {target}"
        for (package, target), where in package_edges().items()
        if not allowed(package, target)
    ]
    assert not wrong, "\n".join(wrong)


def test_no_package_cycle() -> None:
    edges = package_edges()
    graph = {package: {b for a, b in edges if a == package} for package in LAYER}

    def cycle_from(path: list[str]) -> list[str] | None:
        for target in sorted(graph[path[-1]]):
            if target in path:
                return [*path[path.index(target) :], target]
            found = cycle_from([*path, target])
            if found:
                return found
        return None

    for package in LAYER:
        cycle = cycle_from([package])
        assert cycle is None, " -> ".join(cycle) + f" (first: {edges[cycle[0], cycle[1]]})"


def test_third_party_imports_fit_the_package() -> None:
    ours = set(LAYER) | set(sys.stdlib_module_names) | {"__future__"}
    wrong = [
        f"{where}: {package} imports {name}"
        for package in LAYER
        for name, where in imports(package)
        if name not in ours
        and (
            name in THIRD_PARTY_NEVER.get(package, set())
            or (package in THIRD_PARTY_ONLY and name not in THIRD_PARTY_ONLY[package])
        )
    ]
    assert not wrong, "\n".join(wrong)
