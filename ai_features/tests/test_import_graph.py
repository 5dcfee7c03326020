"""The import graph of the project's own modules has no cycle, counting imports inside
functions too; and the credits core never imports payments, the features or the sandbox."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("accounts", "ai_features", "pos", "sandbox", "demo_spa")
CORE = "ai_features.credits"
NOT_FOR_THE_CORE = ("ai_features.payments", "ai_features.features", "sandbox")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the project but tests and migrations, by its dotted name."""
    return {
        _module_name(path): path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "tests" not in path.parts and "migrations" not in path.parts
    }


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """For each module, the project modules it imports, wherever in the file the import is."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
        graph[name] = {target for t in found if (target := resolve(t)) and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index, low, on_stack, stack, groups = {}, {}, set(), [], []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_no_module_of_the_project_imports_itself_back():
    assert cycles(import_graph(project_modules())) == []


@pytest.mark.parametrize(
    "module", sorted(m for m in project_modules() if m.startswith(CORE)), ids=str
)
def test_the_credits_core_never_imports_payments_features_or_the_sandbox(module):
    reaching_out = {
        target
        for target in import_graph(project_modules())[module]
        if target.startswith(NOT_FOR_THE_CORE)
    }

    assert not reaching_out, f"{module} imports {sorted(reaching_out)}"


def test_the_check_sees_a_cycle_through_an_import_inside_a_function(tmp_path):
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]

    inner = tmp_path / "inner.py"
    inner.write_text("def f():\n    from ai_features.payments import purchases\n")
    modules = {"x.inner": inner, "ai_features.payments.purchases": inner}
    assert import_graph(modules)["x.inner"] == {"ai_features.payments.purchases"}
