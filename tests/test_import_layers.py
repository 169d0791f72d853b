"""The packages of gan_jax import each other in one direction only (DESIGN.md, "Data flow").

Bug this catches: a package that imports another which imports it back at module level, e.g.
`gan_jax.config.schemas` reading model constants while models and mitigations read
`gan_jax.config.number`. Such a loop works or breaks depending on which module a program imports
first. The check reads the source (module-level imports only, as Python runs them on import), so
it needs no JAX and fails on the loop whatever the import order.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[1] / "gan_jax"


def _module_name(path: pathlib.Path) -> str:
    parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _unit(module: str) -> str:
    """The first-level unit a module belongs to: gan_jax.models.tabular -> gan_jax.models."""
    return ".".join(module.split(".")[:2])


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _module_level_imports(body: list[ast.stmt]):
    """Names imported when the module runs: top-level statements, and those inside top-level
    `if`/`try` blocks (not `if TYPE_CHECKING:`, not inside functions or classes)."""
    for node in body:
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.If) and not _is_type_checking(node):
            yield from _module_level_imports(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            handlers = [stmt for handler in node.handlers for stmt in handler.body]
            yield from _module_level_imports(node.body + handlers + node.orelse + node.finalbody)


def _unit_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(ROOT.rglob("*.py")):
        module = _module_name(path)
        source = _unit(module)
        for name in _module_level_imports(ast.parse(path.read_text()).body):
            # `gan_jax` alone (the top package, e.g. `from gan_jax import __version__`) is no unit.
            if name.startswith("gan_jax.") and _unit(name) != source:
                graph.setdefault(source, set()).add(_unit(name))
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, str] = {}
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_config_does_not_loop_with_models_or_mitigations():
    graph = _unit_graph()
    assert "gan_jax.models" in graph["gan_jax.config"], "the walk no longer sees schemas' imports"
    for unit in ("gan_jax.models", "gan_jax.mitigations"):
        assert "gan_jax.config" not in graph.get(unit, set()), (
            f"{unit} imports gan_jax.config, which imports models and mitigations: "
            "read numeric settings through gan_jax.numeric_settings.number instead")


def test_no_import_cycle_between_packages():
    cycle = _find_cycle(_unit_graph())
    assert cycle is None, "import cycle between gan_jax packages: " + " -> ".join(cycle)
