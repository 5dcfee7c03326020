"""GET /ai/api/credits/alerts/ and POST .../alerts/<id>/acknowledge/."""

from decimal import Decimal

import pytest

from ai_features.models import AIUsageAlert
from testing.clients import token_client
from testing.factories import BusinessFactory, UserFactory

pytestmark = pytest.mark.django_db
ALERTS = "/ai/api/credits/alerts/"


def alert(business, alert_type="low_balance", acknowledged=False):
    return AIUsageAlert.objects.create(
        business=business,
        alert_type=alert_type,
        current_balance=Decimal("9.50"),
        threshold=Decimal("10.00"),
        acknowledged=acknowledged,
    )


def test_alerts_list_the_business_own_newest_first(api, business):
    low = alert(business)
    gone = alert(business, "depleted", acknowledged=True)
    alert(BusinessFactory())

    body = api.get(ALERTS).json()

    assert body["count"] == 2
    assert [a["id"] for a in body["results"]] == [gone.id, low.id]
    assert body["results"][1] == {
        "id": low.id,
        "alert_type": "low_balance",
        "current_balance": 9.5,
        "threshold": 10.0,
        "sent_at": body["results"][1]["sent_at"],
        "acknowledged": False,
    }


def test_alerts_filter_by_acknowledged(api, business):
    low = alert(business)
    seen = alert(business, "depleted", acknowledged=True)

    unseen = api.get(ALERTS, {"acknowledged": "false"}).json()["results"]
    acked = api.get(ALERTS, {"acknowledged": "true"}).json()["results"]

    assert [a["id"] for a in unseen] == [low.id]
    assert [a["id"] for a in acked] == [seen.id]


def test_acknowledging_marks_the_alert_and_is_idempotent(api, business):
    low = alert(business)

    first = api.post(f"{ALERTS}{low.id}/acknowledge/")
    again = api.post(f"{ALERTS}{low.id}/acknowledge/")

    assert first.status_code == again.status_code == 200
    assert first.json()["acknowledged"] is True
    low.refresh_from_db()
    assert low.acknowledged


def test_another_business_alert_cannot_be_acknowledged(api):
    theirs = alert(BusinessFactory())

    response = api.post(f"{ALERTS}{theirs.id}/acknowledge/")

    assert response.status_code == 404
    assert response.json()["code"] == "alert_not_found"
    theirs.refresh_from_db()
    assert not theirs.acknowledged


def test_alerts_need_membership(business):
    alert(business)
    outsider = UserFactory()

    assert token_client(outsider).get(ALERTS).status_code == 403


def test_an_alert_id_beyond_64_bits_is_404_not_a_crash(api):
    response = api.post(f"{ALERTS}99999999999999999999/acknowledge/")

    assert response.status_code == 404
