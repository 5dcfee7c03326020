import pytest
from django.db import connection
from django.urls import path
from rest_framework.decorators import api_view, permission_classes
from rest_framework.permissions import AllowAny

from accounts.models import Business
from ai_features.payments.errors import GatewayTimeout
from pos.errors import Conflict
from testing.factories import UserFactory


@api_view(["POST"])
@permission_classes([AllowAny])
def write_then_conflict(request):
    Business.objects.create(name="Half-done", owner=UserFactory())
    raise Conflict("Someone else changed it.", code="edit_conflict")


@api_view(["GET"])
@permission_classes([AllowAny])
def gateway_down(request):
    raise GatewayTimeout()


urlpatterns = [
    path("conflict/", write_then_conflict),
    path("gateway/", gateway_down),
]


@pytest.fixture(autouse=True)
def _urls(settings):
    settings.ROOT_URLCONF = __name__


@pytest.mark.django_db(transaction=True)
def test_a_domain_error_maps_to_its_status_and_code_and_rolls_back(client):
    # Views run inside a transaction when a caller wraps them (ATOMIC_REQUESTS, or a service
    # calling a view); the handler must mark it for rollback so half-done writes vanish.
    connection.settings_dict["ATOMIC_REQUESTS"] = True
    try:
        response = client.post("/conflict/")
    finally:
        connection.settings_dict["ATOMIC_REQUESTS"] = False

    assert response.status_code == 409
    assert response.json() == {"detail": "Someone else changed it.", "code": "edit_conflict"}
    assert not Business.objects.filter(name="Half-done").exists()


def test_a_gateway_outage_is_a_504_with_a_clear_message(client):
    response = client.get("/gateway/")

    assert response.status_code == 504
    assert response.json()["code"] == "payment_gateway_timeout"
    assert "did not answer in time" in response.json()["detail"]


def test_billing_errors_are_402_payment_required(rf):
    from ai_features.errors import CreditsExpired, InsufficientCredits
    from pos.exception_handler import api_exception_handler

    short = api_exception_handler(InsufficientCredits(), {})
    expired = api_exception_handler(CreditsExpired(), {})

    assert (short.status_code, short.data["code"]) == (402, "insufficient_credits")
    assert (expired.status_code, expired.data["code"]) == (402, "credits_expired")
    assert short.data["detail"].startswith("Not enough AI credits")


def test_a_domain_errors_extra_fields_join_the_body_without_replacing_detail_or_code():
    from pos.errors import DomainError
    from pos.exception_handler import api_exception_handler

    error = DomainError("Short.", code="insufficient_credits", balance=1, detail_x="y")
    error.extra["code"] = "must-not-win"

    response = api_exception_handler(error, {})

    assert response.data == {
        "detail": "Short.",
        "code": "insufficient_credits",
        "balance": 1,
        "detail_x": "y",
    }
