"""pos is the project's configuration: none of its modules imports an app (accounts,
ai_features, the sandbox under its old name or its new one, the demo page). Settings and root
urls name apps by dotted string, which is not an import. The graph comes from testing.imports,
as test_import_graph.py reads it."""

import functools

import pytest

from testing.imports import import_graph, project_modules

APPS = ("accounts", "ai_features", "sandbox", "paystack_sandbox", "demo_spa")


@functools.cache
def _graph() -> dict[str, set[str]]:
    return import_graph(project_modules())


def _is_app(module: str) -> bool:
    return any(module == app or module.startswith(f"{app}.") for app in APPS)


@pytest.mark.parametrize(
    "module", sorted(m for m in project_modules() if m.split(".")[0] == "pos"), ids=str
)
def test_pos_imports_no_app(module):
    reaching_out = {target for target in _graph()[module] if _is_app(target)}

    assert not reaching_out, f"{module} imports {sorted(reaching_out)}"


def test_the_check_sees_an_app_under_either_name_of_the_sandbox():
    assert _is_app("sandbox.stripe.views") and _is_app("paystack_sandbox.views")
    assert _is_app("accounts") and not _is_app("pos.paths") and not _is_app("sandboxes")
