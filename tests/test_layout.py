"""The package's import graph: no circles, no reach into the other packages, layers that only look down.

Every import statement of every module counts, those inside functions included (a lazy import is still
a dependency); imports under `if TYPE_CHECKING:` do not run and do not count.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "agentmem"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> set[str]:
    """The modules `module` imports (resolved to agentmem modules where they are ones), anywhere in it."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in MODULES else base)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


GRAPH = {m: {t for t in _imports(m) if t in MODULES and t != m} for m in MODULES}
EXTERNAL = {m: _imports(m) for m in MODULES}


def test_no_module_of_agentmem_imports_the_eval_or_langchain_packages():
    reaching = {
        m: sorted(t for t in targets if t.split(".")[0] in ("agentmem_eval", "langchain_agentmem"))
        for m, targets in EXTERNAL.items()
    }
    assert {m: t for m, t in reaching.items() if t} == {}


def test_the_import_graph_has_no_circles():
    """Tarjan's strongly connected components: every one must be a single module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in GRAPH[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for v in sorted(GRAPH):
        if v not in index:
            connect(v)
    assert circles == []


def _reaches(module: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(t for t in GRAPH[module] if t.startswith(forbidden))


@pytest.mark.parametrize(
    "layer, forbidden, allowed",
    [
        # storage answers questions; it never learns how they are scored or who asks
        ("agentmem.storage", ("agentmem.controller", "agentmem.memory", "agentmem.cli"), ()),
        # the policy sees the memory only through the storage seam; only the training recipe writes
        # episodes through a Memory
        ("agentmem.controller", ("agentmem.memory", "agentmem.cli"), ("agentmem.controller.train",)),
        ("agentmem.episodes", ("agentmem.memory", "agentmem.controller", "agentmem.storage", "agentmem.cli"), ()),
        # the research models share addressing with the agent memory, never the other way round
        (
            "agentmem.research",
            ("agentmem.memory", "agentmem.controller", "agentmem.storage", "agentmem.cli"),
            (),
        ),
        ("agentmem.text", ("agentmem.",), ()),
        # the CLI's client of a warm server starts in milliseconds: nothing that loads numpy or a model
        (
            "agentmem.client",
            ("agentmem.memory", "agentmem.storage", "agentmem.controller", "agentmem.encoder", "agentmem.server"),
            (),
        ),
        # the JSON operations know the Memory, never the transports that carry them
        ("agentmem.service", ("agentmem.server", "agentmem.cli", "agentmem.client"), ()),
    ],
)
def test_layers_only_look_down(layer, forbidden, allowed):
    offending = {
        m: _reaches(m, forbidden)
        for m in MODULES
        if (m == layer or m.startswith(layer + ".")) and m not in allowed and _reaches(m, forbidden)
    }
    assert offending == {}


def test_nothing_but_the_cli_imports_the_cli():
    users = {m for m, targets in GRAPH.items() if any(t.startswith("agentmem.cli") for t in targets)}
    assert {m for m in users if not m.startswith("agentmem.cli")} == {"agentmem.__main__"}


def test_the_public_api_names_what_it_exports():
    import agentmem

    for name in agentmem.__all__:
        assert getattr(agentmem, name) is not None, name
    from agentmem.errors import AgentMemError

    errors = {n for n in agentmem.__all__ if isinstance(getattr(agentmem, n), type)}
    exported = {getattr(agentmem, n) for n in errors}
    every_error = {c for c in vars(__import__("agentmem.errors").errors).values() if isinstance(c, type)}
    assert {c for c in every_error if issubclass(c, AgentMemError)} <= exported
    assert (PACKAGE / "py.typed").exists()


def test_the_client_needs_nothing_beyond_the_standard_library():
    third_party = {
        t.split(".")[0]
        for m in ("agentmem.client", "agentmem.records", "agentmem.errors")
        for t in EXTERNAL[m]
        if not t.startswith("agentmem")
    }
    import sys

    assert third_party <= set(sys.stdlib_module_names) | {"__future__"}
