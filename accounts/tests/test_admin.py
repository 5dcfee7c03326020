from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Business, BusinessMembership
from ai_features.credits.grants import credits_grant
from ai_features.models import AICreditPurchase, BusinessAICredits, CreditLedgerEntry
from testing.credits import ledger_sum, stored_balance
from testing.factories import BusinessFactory, UserFactory

pytestmark = pytest.mark.django_db

BUSINESSES = reverse("admin:accounts_business_changelist")
MEMBERSHIPS = reverse("admin:accounts_businessmembership_changelist")


def results(response):
    return list(response.context["cl"].result_list)


def texts(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def choose_grant(client, businesses):
    """The changelist's own submit: the action picked, the businesses ticked."""
    return client.post(
        BUSINESSES,
        {
            "action": "grant_credits",
            "_selected_action": [b.pk for b in businesses],
            "index": 0,
            "select_across": 0,
        },
    )


def confirm_grant(client, businesses, credits="25.50", package="support", follow=True):
    """The intermediate form's submit, as its hidden fields send it."""
    return client.post(
        BUSINESSES,
        {
            "action": "grant_credits",
            "_selected_action": [b.pk for b in businesses],
            "select_across": 0,
            "confirm": "yes",
            "credits": credits,
            "package": package,
        },
        follow=follow,
    )


# --- changelists --------------------------------------------------------------------------


def test_the_business_changelist_lists_businesses_with_their_current_balance(admin_client):
    rich = BusinessFactory(name="Kofi Mart")
    poor = BusinessFactory(name="Ama Stores")
    credits_grant(business=rich, credits=Decimal("42.50"), package="support")

    response = admin_client.get(BUSINESSES)

    assert response.status_code == 200
    rows = {b.pk: b for b in results(response)}
    assert set(rows) == {rich.pk, poor.pk}
    admin = response.context["cl"].model_admin
    assert admin.current_balance(rows[rich.pk]) == Decimal("42.50")
    assert admin.current_balance(rows[poor.pk]) == Decimal("0.00")
    content = response.content.decode()
    assert '<td class="field-current_balance">42.50</td>' in content


def test_the_balance_column_ignores_an_expired_inactive_row(admin_client):
    business = BusinessFactory()
    BusinessAICredits.objects.create(business=business, balance=0, is_active=False)
    BusinessAICredits.objects.create(business=business, balance=Decimal("7.00"), is_active=True)

    response = admin_client.get(BUSINESSES)

    (row,) = results(response)
    assert response.context["cl"].model_admin.current_balance(row) == Decimal("7.00")


def test_the_business_changelist_costs_the_same_queries_for_one_or_many_businesses(admin_client):
    credits_grant(business=BusinessFactory(), credits=5, package="support")
    with CaptureQueriesContext(connection) as one:
        assert admin_client.get(BUSINESSES).status_code == 200
    for _ in range(4):
        credits_grant(business=BusinessFactory(), credits=5, package="support")
    with CaptureQueriesContext(connection) as five:
        assert admin_client.get(BUSINESSES).status_code == 200

    assert len(five.captured_queries) == len(one.captured_queries)


@pytest.mark.parametrize(
    "query, expected",
    [("Kofi", "Kofi Mart"), ("ama_owner", "Ama Stores"), ("kofi@shop.example", "Kofi Mart")],
)
def test_businesses_are_found_by_name_owner_username_and_email(admin_client, query, expected):
    kofi = BusinessFactory(name="Kofi Mart")
    Business.objects.filter(pk=kofi.pk).update(email="kofi@shop.example")
    BusinessFactory(owner=UserFactory(username="ama_owner"), name="Ama Stores")

    response = admin_client.get(BUSINESSES, {"q": query})

    assert response.status_code == 200
    assert [b.name for b in results(response)] == [expected]


def test_the_business_change_page_shows_its_memberships_inline(admin_client):
    business = BusinessFactory(owner=UserFactory(username="inline_owner"), name="Inline Shop")
    BusinessMembership.objects.create(user=UserFactory(username="inline_staff"), business=business)

    response = admin_client.get(reverse("admin:accounts_business_change", args=[business.pk]))

    assert response.status_code == 200
    (inline,) = response.context["inline_admin_formsets"]
    assert {f.instance.user.username for f in inline.formset.forms} == {
        "inline_owner",
        "inline_staff",
    }


def test_the_membership_changelist_filters_by_role_and_searches(admin_client):
    business = BusinessFactory(owner=UserFactory(username="boss"), name="Esi Foods")
    BusinessMembership.objects.create(
        user=UserFactory(username="helper"), business=business, role="staff"
    )
    BusinessFactory(owner=UserFactory(username="other_boss"), name="Yaw Hardware")

    everyone = admin_client.get(MEMBERSHIPS)
    staff = admin_client.get(MEMBERSHIPS, {"role__exact": "staff"})
    owners_of_esi = admin_client.get(MEMBERSHIPS, {"role__exact": "owner", "q": "Esi"})
    by_user = admin_client.get(MEMBERSHIPS, {"q": "helper"})

    assert everyone.status_code == staff.status_code == owners_of_esi.status_code == 200
    assert len(results(everyone)) == 3
    assert [m.user.username for m in results(staff)] == ["helper"]
    assert [m.user.username for m in results(owners_of_esi)] == ["boss"]
    assert [m.user.username for m in results(by_user)] == ["helper"]


def test_the_default_user_admin_is_still_there(admin_client):
    UserFactory(username="someone")

    response = admin_client.get(reverse("admin:auth_user_changelist"), {"q": "someone"})

    assert response.status_code == 200
    assert [u.username for u in results(response)] == ["someone"]


# --- the grant action ------------------------------------------------------------------------


def test_choosing_grant_credits_shows_the_form_and_grants_nothing_yet(admin_client):
    first, second = BusinessFactory(), BusinessFactory()

    response = choose_grant(admin_client, [first, second])

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/ai_features/grant_credits.html"
    assert response.context["form"]["package"].value() == "support"
    content = response.content.decode()
    for business in (first, second):
        assert f'name="_selected_action" value="{business.pk}"' in content
        assert business.name in content
    assert 'name="action" value="grant_credits"' in content
    assert 'name="confirm"' in content
    assert not AICreditPurchase.objects.exists()
    assert not CreditLedgerEntry.objects.exists()


def test_confirming_grants_the_credits_to_each_selected_business_through_the_ledger(
    admin_client, admin_user
):
    first, second = BusinessFactory(name="First"), BusinessFactory(name="Second")
    left_out = BusinessFactory(name="Left out")
    credits_grant(business=second, credits=10, package="earlier")

    response = confirm_grant(admin_client, [first, second], credits="25.50", package="goodwill")

    assert response.status_code == 200
    assert response.redirect_chain[-1][0].endswith(BUSINESSES)
    assert stored_balance(first) == ledger_sum(first) == Decimal("25.50")
    assert stored_balance(second) == ledger_sum(second) == Decimal("35.50")
    assert stored_balance(left_out) == ledger_sum(left_out) == Decimal("0.00")
    for business in (first, second):
        grant = AICreditPurchase.objects.get(business=business, package="goodwill")
        assert grant.payment_method == "admin_grant"
        assert grant.payment_status == "completed"
        assert grant.credits_purchased == Decimal("25.50")
        assert grant.total_amount == Decimal("0.00")
        assert grant.user == admin_user
        entry = CreditLedgerEntry.objects.get(purchase=grant)
        assert (entry.kind, entry.amount) == ("grant", Decimal("25.50"))
    (message,) = texts(response)
    assert "Granted 25.50 credits" in message and "2 businesses" in message


@pytest.mark.parametrize(("typed", "granted"), [(" 12.5 ", "12.50"), ("7", "7.00")])
def test_credits_typed_as_money_are_granted_exactly(admin_client, typed, granted):
    business = BusinessFactory()

    confirm_grant(admin_client, [business], credits=typed)

    assert stored_balance(business) == Decimal(granted)


def test_the_note_defaults_to_support_in_the_form_and_is_stored_as_the_package(admin_client):
    business = BusinessFactory()

    confirm_grant(admin_client, [business], credits="3", package="support")

    grant = AICreditPurchase.objects.get(business=business)
    assert grant.package == "support"
    assert stored_balance(business) == Decimal("3.00")


@pytest.mark.parametrize(
    "credits",
    [
        *("-1", "abc", "0", "", "1.234", "100000.01", "NaN", "Infinity"),
        # Django's DecimalField reads these as numbers; money is ASCII digits, 2 places at most.
        *("1_000", "\u0661\u0660", "\uff11\uff10", "1e1", "10.000", "+5"),
    ],
)
def test_invalid_credits_re_render_the_form_with_errors_and_grant_nothing(admin_client, credits):
    business = BusinessFactory()

    response = confirm_grant(admin_client, [business], credits=credits, follow=False)

    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "admin/ai_features/grant_credits.html"
    assert response.context["form"].errors["credits"]
    assert f'name="_selected_action" value="{business.pk}"' in response.content.decode()
    assert not AICreditPurchase.objects.exists()
    assert not CreditLedgerEntry.objects.exists()
    assert stored_balance(business) == Decimal("0.00")


@pytest.mark.parametrize("package", ["", "x" * 31])
def test_a_missing_or_too_long_note_grants_nothing(admin_client, package):
    business = BusinessFactory()

    response = confirm_grant(admin_client, [business], package=package, follow=False)

    assert response.status_code == 200
    assert response.context["form"].errors["package"]
    assert not AICreditPurchase.objects.exists()


def test_the_largest_grant_allowed_is_100000_credits(admin_client):
    business = BusinessFactory()

    confirm_grant(admin_client, [business], credits="100000")

    assert stored_balance(business) == ledger_sum(business) == Decimal("100000.00")


def test_staff_without_the_grant_permission_cannot_grant(client):
    staff = UserFactory(username="support_staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_business", "change_business"])
    )
    client.force_login(staff)
    business = BusinessFactory()

    listing = client.get(BUSINESSES)
    response = confirm_grant(client, [business])

    assert listing.status_code == 200
    action_form = listing.context["action_form"]  # None: no action left to offer at all
    assert action_form is None
    assert response.status_code == 200
    assert not AICreditPurchase.objects.exists()
    assert stored_balance(business) == Decimal("0.00")


def test_staff_with_the_grant_permission_can_grant(client):
    staff = UserFactory(username="granting_staff", is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_business", "add_aicreditpurchase"],
        )
    )
    client.force_login(staff)
    business = BusinessFactory()

    confirm_grant(client, [business], credits="4.25")

    assert stored_balance(business) == ledger_sum(business) == Decimal("4.25")
    assert AICreditPurchase.objects.get(business=business).user == staff


def test_a_grant_refused_for_one_business_grants_nothing_to_any(admin_client, monkeypatch):
    from ai_features import admin as accounts_admin
    from ai_features.errors import InvalidAmount

    first, second = BusinessFactory(name="First"), BusinessFactory(name="Refused")
    real_grant = accounts_admin.credits_grant

    def grant(*, business, **kwargs):
        if business == second:
            raise InvalidAmount()
        return real_grant(business=business, **kwargs)

    monkeypatch.setattr(accounts_admin, "credits_grant", grant)

    response = confirm_grant(admin_client, [first, second])

    assert response.status_code == 200
    assert stored_balance(first) == ledger_sum(first) == Decimal("0.00")
    assert not AICreditPurchase.objects.exists()
    (message,) = texts(response)
    assert message.startswith("Nothing was granted") and "Refused" in message


def test_api_tokens_are_not_shown_in_the_admin(admin_client):
    response = admin_client.get("/admin/authtoken/tokenproxy/")

    assert response.status_code == 404
