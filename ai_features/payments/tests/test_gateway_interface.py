"""Each gateway is one module behind the interface in `gateways/base.py`: it imports no other
gateway and none of the payment services, it has every member of the interface, and the shared
payment modules decide nothing by a gateway's name."""

import ast
import inspect
from pathlib import Path

import pytest

from ai_features.payments.gateways import GATEWAYS
from ai_features.payments.gateways.base import Gateway
from testing.imports import imported_modules

PAYMENTS = Path(__file__).resolve().parents[1]
# What a gateway module may import of the payments package.
ALLOWED = {"ai_features.payments.errors", "ai_features.payments.gateways.base"}
SHARED = ("purchases.py", "packages.py", "views.py", "fulfilment.py", "webhooks.py")


@pytest.mark.parametrize("name", sorted(GATEWAYS))
def test_a_gateway_imports_only_base_of_the_payments_package(name):
    path = PAYMENTS / "gateways" / f"{name}.py"
    reaching = {
        module
        for module in imported_modules(path)
        if module.startswith("ai_features.payments")
        and not any(module == allowed or module.startswith(f"{allowed}.") for allowed in ALLOWED)
    }

    assert not reaching, f"gateways/{name}.py imports {sorted(reaching)}"


@pytest.mark.parametrize("name", sorted(GATEWAYS))
def test_a_gateway_has_every_member_of_the_interface(name):
    members = set(Gateway.__annotations__) | {
        attr for attr, value in vars(Gateway).items() if inspect.isfunction(value)
    }
    gateway = GATEWAYS[name]()

    assert {m for m in members if not hasattr(gateway, m)} == set()
    assert gateway.name == name
    assert all(callable(handler) for handler in gateway.handlers.values())


def _named_gateways(tree: ast.AST, *, endpoints: bool) -> list[int]:
    """Lines that compare with a gateway's name, or (but for a parameter's default, and in the
    views the webhook endpoints' own names) spell one."""
    names = set(GATEWAYS) | {name.upper() for name in GATEWAYS}
    defaults = {
        id(default)
        for node in ast.walk(tree)
        if isinstance(node, ast.arguments)
        for default in [*node.defaults, *node.kw_defaults]
    }

    def named(side) -> bool:
        return (isinstance(side, ast.Constant) and side.value in names) or (
            isinstance(side, ast.Attribute) and side.attr in names
        )

    lines = set()
    for node in ast.walk(tree):
        branch = isinstance(node, ast.Compare) and any(map(named, [node.left, *node.comparators]))
        spelt = not endpoints and id(node) not in defaults and named(node)
        if branch or spelt:
            lines.add(node.lineno)
    return sorted(lines)


@pytest.mark.parametrize("module", SHARED)
def test_the_shared_payment_modules_do_not_branch_on_a_gateway(module):
    tree = ast.parse((PAYMENTS / module).read_text())

    lines = _named_gateways(tree, endpoints=module == "views.py")

    assert lines == [], f"{module} names a gateway on lines {lines}"


def test_the_check_sees_a_branch_a_lookup_and_a_table():
    source = (
        'def f(gateway="paystack"):\n'
        "    if gateway == Gateway.STRIPE:\n"
        '        return Purchase.objects.filter(gateway="stripe")\n'
        '    return {"paystack": 1}\n'
    )

    assert _named_gateways(ast.parse(source), endpoints=False) == [2, 3, 4]
    assert _named_gateways(ast.parse(source), endpoints=True) == [2]


def test_the_purchase_serializers_ask_the_gateway_what_it_takes():
    """Which optional fields a purchase may carry is the gateway's to say
    (`purchase_options_refused`), not a branch on its name."""
    tree = ast.parse((PAYMENTS / "serializers.py").read_text())

    assert _named_gateways(tree, endpoints=True) == []
