"""One log line per request with a request id; secrets and tokens never reach the logs."""

import logging

import pytest
from rest_framework.test import APIClient

from conftest import TEST_SECRET, charge_success_body, deliver_webhook

pytestmark = pytest.mark.django_db


def test_every_answer_carries_a_request_id_and_one_log_line(api, caplog):
    caplog.set_level(logging.INFO, logger="pos.request")

    first = api.get("/ai/api/credits/balance/")
    second = api.get("/ai/api/credits/balance/")

    ids = {first["X-Request-ID"], second["X-Request-ID"]}
    assert len(ids) == 2 and all(len(i) == 32 for i in ids)
    lines = [r for r in caplog.records if r.name == "pos.request"]
    assert len(lines) == 2
    assert lines[0].getMessage().startswith("GET /ai/api/credits/balance/ 200 ")
    assert {r.request_id for r in lines} == ids


def test_a_sane_incoming_request_id_is_kept_and_a_strange_one_replaced(api):
    kept = api.get("/healthz", HTTP_X_REQUEST_ID="lb-7f3a9c21-0001")
    replaced = api.get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")

    assert kept["X-Request-ID"] == "lb-7f3a9c21-0001"
    assert (
        replaced["X-Request-ID"] != "bad id\nwith newline" and len(replaced["X-Request-ID"]) == 32
    )


def test_a_whole_purchase_logs_no_secret_key_and_no_token(paystack, caplog):
    caplog.set_level(logging.DEBUG)
    client = APIClient()
    registered = client.post(
        "/accounts/api/auth/register/",
        {
            "username": "abena",
            "email": "abena@example.com",
            "password": "waakye-and-shito-9",
            "business_name": "Abena's Chop Bar",
        },
        format="json",
    ).json()
    token = registered["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    paystack.initialize_ok()
    reference = client.post(
        "/ai/api/credits/purchase/", {"package": "value"}, format="json"
    ).json()["reference"]
    paystack.verify(reference)
    client.get("/ai/api/credits/verify/", {"reference": reference})
    deliver_webhook(APIClient(), charge_success_body(reference, 9400))
    client.post("/accounts/api/auth/token/", {"username": "abena", "password": "nope"})
    client.post("/accounts/api/auth/logout/")

    logged = "\n".join(f"{r.getMessage()} {r.args!r}" for r in caplog.records)
    assert f"purchase started reference={reference}" in logged
    assert f"purchase credited reference={reference}" in logged
    assert "paystack webhook event=charge.success" in logged
    assert f"payment verdict reference={reference} gateway_status=success outcome=credited" in (
        logged
    )
    assert TEST_SECRET not in logged
    assert token not in logged
    assert "waakye-and-shito-9" not in logged
    assert "Bearer" not in logged


def test_django_error_lines_logged_after_the_answer_keep_the_request_id(caplog):
    from unittest import mock

    from django.db import DatabaseError

    caplog.set_level(logging.WARNING, logger="django.request")
    with mock.patch("pos.views.connection.cursor", side_effect=DatabaseError("gone")):
        response = APIClient().get("/healthz")

    records = [r for r in caplog.records if r.name == "django.request"]
    assert records, "Django logs the 503"
    from pos.middleware import RequestIdFilter

    RequestIdFilter().filter(records[0])
    assert records[0].request_id == response["X-Request-ID"]
