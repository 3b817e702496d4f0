"""The package's shape: modules import each other without cycles, and each platform fact
is written in one module."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

PACKAGE = "pytest_trigger_batches"
SOURCE = Path(__file__).resolve().parent.parent / "src" / PACKAGE


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(SOURCE.rglob("*.py")):
        parts = path.relative_to(SOURCE).with_suffix("").parts
        name = ".".join((PACKAGE, *parts)).removesuffix(".__init__")
        found[name] = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _run_time_nodes(node: ast.AST) -> Iterator[ast.AST]:
    """Every node that runs: `if TYPE_CHECKING:` bodies are left out, function bodies not."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            for other in child.orelse:
                yield other
                yield from _run_time_nodes(other)
            continue
        yield child
        yield from _run_time_nodes(child)


def _imported(module: str, tree: ast.Module) -> set[str]:
    """The package's modules `module` imports, at the top or inside a function."""
    package = module if module.endswith(PACKAGE) else module.rsplit(".", 1)[0]
    wanted: set[str] = set()
    for node in _run_time_nodes(tree):
        if isinstance(node, ast.Import):
            wanted.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                base = ".".join(anchor[: len(anchor) - node.level + 1] + ([base] if base else []))
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                wanted.add(submodule if submodule in MODULES else base)
    return {name for name in wanted if name in MODULES and name != module}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_module_of_the_package_imports_itself_back_through_others() -> None:
    graph = {name: _imported(name, tree) for name, tree in MODULES.items()}
    assert graph[f"{PACKAGE}.model"], "the import graph is empty: the parsing is broken"
    assert _cycles(graph) == []


def test_the_redaction_module_imports_nothing_from_the_package() -> None:
    # Any module that makes a message or a record can redact it there, without a cycle.
    assert _imported(f"{PACKAGE}.redact", MODULES[f"{PACKAGE}.redact"]) == set()


def test_the_cycle_finder_finds_a_cycle_made_by_a_function_local_import() -> None:
    sample = ast.parse("def f():\n    from pytest_trigger_batches import model\n")
    graph = {name: _imported(name, tree) for name, tree in MODULES.items()}
    graph[f"{PACKAGE}.statuses"] |= _imported(f"{PACKAGE}.statuses", sample)
    assert any(f"{PACKAGE}.statuses" in cycle for cycle in _cycles(graph))


# -- facts written once -------------------------------------------------------------------


def _values(tree: ast.Module) -> Iterator[object]:
    """Every constant, and every arithmetic of constants (`3 * 1024 * 1024`), folded;
    not docstrings, which may name a fact where it is used."""
    prose = {
        id(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
    }
    for node in ast.walk(tree):
        if id(node) in prose:
            continue
        if isinstance(node, ast.Constant):
            yield node.value
        elif isinstance(node, ast.BinOp):
            try:
                yield _fold(node)
            except ValueError:
                continue


def _fold(node: ast.expr) -> int:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult | ast.Add):
        left, right = _fold(node.left), _fold(node.right)
        return left * right if isinstance(node.op, ast.Mult) else left + right
    raise ValueError("not arithmetic of whole numbers")


def _homes(wanted: object) -> set[str]:
    def holds(value: object) -> bool:
        if isinstance(wanted, str):
            return isinstance(value, str) and wanted in value
        return type(value) is int and value == wanted

    return {
        name.removeprefix(f"{PACKAGE}.")
        for name, tree in MODULES.items()
        if any(holds(value) for value in _values(tree))
    }


@pytest.mark.parametrize(
    ("fact", "homes"),
    [
        ("Cannot trigger", {"rules"}),
        ("the queue size limit", {"rules"}),
        ("items in this batch failed", {"rules"}),
        ("Batch item payload is too large", {"rules"}),
        (2048, {"rules"}),  # the longest idempotency key
        (3 * 1024 * 1024, {"rules"}),  # the largest item and trigger body
        # The queue size; also the limiter's 10 s and the server's calls kept (not facts
        # about the queue).
        (10_000, {"rules", "ratelimit", "__main__"}),
        ("2025-07-16", {"statuses"}),  # the API version with the current status names
        ("COMPLETED_SUCCESSFULLY", {"statuses"}),  # the stored status names
        ("COMPLETED_WITH_ERRORS", {"statuses"}),
        ("RETRYING_AFTER_FAILURE", {"statuses"}),
        ("%Y-%m-%d", set()),  # moments are written by timefmt.iso_ms alone
    ],
)
def test_a_platform_fact_is_written_in_one_module(fact: object, homes: set[str]) -> None:
    assert _homes(fact) == homes


# -- handlers: parse, call the backend, render --------------------------------------------


def _all_imports(module: str, tree: ast.Module) -> set[str]:
    """The package's modules `module` imports anywhere, type-only imports included."""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PACKAGE):
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                found.add(submodule if submodule in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in MODULES)
    return found - {module}


ENDPOINTS = {
    name
    for name in _all_imports(f"{PACKAGE}.table", MODULES[f"{PACKAGE}.table"])
    if name.startswith(f"{PACKAGE}.handlers.")
}
"""The modules whose functions the routing table serves; the rest of handlers/ parses."""

HANDLER_MAY_IMPORT = {
    f"{PACKAGE}.{name}"
    for name in (
        "pipeline",  # the request's Context, Reply
        "errors",  # the platform's error answers
        "handlers.validate",  # parsing helpers
        "handlers.query",
        "rules",  # limits a body is checked against
        "statuses",
        "timefmt",
        "backend",  # what the handler calls
        "records",  # what the backend returns
        "stored_run",
        "listing",
        "payloads",  # rendering
        "realtime",  # rendering realtime shapes
        "durations",  # the duration grammars a body or query is read with
        "waitpoints",  # waitpoint tokens' records and how they are shown
    )
}


def test_the_routing_table_serves_handler_modules_that_import_no_other_endpoint_module() -> None:
    served = sorted(name.rsplit(".", 1)[1] for name in ENDPOINTS)
    expected = [
        "auth",
        "batches",
        "bulkqueues",
        "realtime",
        "results",
        "runs",
        "triggers",
        "waitpoints",
    ]
    assert served == expected, "the table's handler modules changed"
    for name in ENDPOINTS:
        assert not _all_imports(name, MODULES[name]) & ENDPOINTS, name


def test_handlers_import_the_request_the_backend_and_the_renderers_only() -> None:
    for name, tree in MODULES.items():
        if name.startswith(f"{PACKAGE}.handlers."):
            assert _all_imports(name, tree) <= HANDLER_MAY_IMPORT, name


def _backend_reaches(tree: ast.Module) -> list[str]:
    """How a handler uses its `backend`: anything but a public method or property of
    `TriggerBackend`, or reaching through one (`backend.keys.pinned`), is listed."""
    from pytest_trigger_batches.backend import TriggerBackend

    public = {
        name
        for name, value in vars(TriggerBackend).items()
        if not name.startswith("_") and (callable(value) or isinstance(value, property))
    }
    parents = {id(child): node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)):
            continue
        if node.value.id != "backend":
            continue
        parent = parents.get(id(node))
        if node.attr not in public or isinstance(parent, ast.Attribute):
            found.append(node.attr)
    return found


def test_handlers_call_the_backends_public_methods_and_reach_through_none() -> None:
    for name in ENDPOINTS:
        assert _backend_reaches(MODULES[name]) == [], name


def test_the_backend_check_finds_a_handler_reaching_into_the_backends_state() -> None:
    sample = ast.parse(
        "def h(context, backend):\n"
        "    backend.keys.pinned.clear()\n"
        "    backend._runs.clear()\n"
        "    return backend.run('r', 'dev')\n"
    )
    assert sorted(_backend_reaches(sample)) == ["_runs", "keys"]
