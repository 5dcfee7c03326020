"""The import graph of the project's own modules has no cycle, counting imports inside
functions too; and the credits core never imports payments, the features or the sandbox."""

import pytest

from testing.imports import cycles, import_graph, project_modules

CORE = "ai_features.credits"
NOT_FOR_THE_CORE = ("ai_features.payments", "ai_features.features", "sandbox")


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


def test_no_module_outside_testing_imports_it():
    graph = import_graph(project_modules())
    importers = {
        module
        for module, targets in graph.items()
        if not module.startswith("testing") and any(t.startswith("testing") for t in targets)
    }

    assert importers == set()
