"""/admin/login/ locks out a client IP and a username after AXES_FAILURE_LIMIT wrong passwords
(django-axes); the API login keeps working as before."""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from testing.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
TOKEN = "/accounts/api/auth/token/"
PASSWORD = "kelewele-at-night-5"


@pytest.fixture
def staff():
    return UserFactory(username="akosua", password=PASSWORD, is_staff=True, is_superuser=True)


def admin_login(password, *, username="akosua", ip="203.0.113.20", **headers):
    client = Client(REMOTE_ADDR=ip, **headers)
    return client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})


def test_thirty_wrong_passwords_from_one_ip_are_locked_out_after_the_limit(staff, settings):
    """Regression: 30 wrong admin passwords in a row were all answered 200."""
    limit = settings.AXES_FAILURE_LIMIT

    codes = [admin_login(f"guess-{n}").status_code for n in range(30)]

    assert limit == 5
    assert codes == [200] * (limit - 1) + [429] * (30 - limit + 1)
    # Locked out: even the right password from that address is refused now.
    assert admin_login(PASSWORD).status_code == 429
    # Another address, another user: unaffected.
    UserFactory(username="yaw", password=PASSWORD, is_staff=True)
    assert admin_login(PASSWORD, username="yaw", ip="203.0.113.21").status_code == 302


def test_a_username_is_locked_out_whatever_addresses_the_guesses_come_from(staff, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(f"guess-{n}", ip=f"198.51.100.{n + 1}")

    refused = admin_login(PASSWORD, ip="192.0.2.99")

    assert refused.status_code == 429
    assert b"too many login attempts" in refused.content


def test_the_lockout_ends_after_the_cool_off(staff, settings):
    assert settings.AXES_COOLOFF_TIME.total_seconds() == 15 * 60
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(f"guess-{n}")
    assert admin_login(PASSWORD).status_code == 429

    past = timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    AccessAttempt.objects.update(attempt_time=past)

    assert admin_login(PASSWORD).status_code == 302


def test_behind_a_proxy_the_client_is_read_from_x_forwarded_for(staff, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    balancer = "10.0.0.2"
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(f"guess-{n}", username="nobody", ip=balancer, HTTP_X_FORWARDED_FOR="1.1.1.1")

    locked = admin_login(PASSWORD, ip=balancer, HTTP_X_FORWARDED_FOR="1.1.1.1")
    another_client = admin_login(PASSWORD, ip=balancer, HTTP_X_FORWARDED_FOR="2.2.2.2")

    assert locked.status_code == 429
    assert another_client.status_code == 302
    assert set(AccessAttempt.objects.values_list("ip_address", flat=True)) == {"1.1.1.1"}


def test_without_proxies_a_forged_x_forwarded_for_does_not_dodge_the_lockout(staff, settings):
    for n in range(settings.AXES_FAILURE_LIMIT):
        admin_login(f"guess-{n}", username="nobody", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}")

    assert admin_login(PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429


def test_the_api_login_still_works_and_is_not_locked_by_axes(settings):
    UserFactory(username="kwame", password=PASSWORD)
    client = APIClient(REMOTE_ADDR="203.0.113.30")

    wrong = [
        client.post(TOKEN, {"username": "kwame", "password": "no"}, format="json").status_code
        for _ in range(settings.AXES_FAILURE_LIMIT + 1)
    ]
    right = client.post(TOKEN, {"username": "kwame", "password": PASSWORD}, format="json")

    assert wrong == [400] * (settings.AXES_FAILURE_LIMIT + 1)
    assert right.status_code == 200 and right.json()["token"]


def test_axes_log_lines_carry_no_username_and_no_raw_newline(staff, caplog):
    caplog.set_level(logging.WARNING, logger="axes")

    for _ in range(2):
        admin_login("wrong\nINFO forged", username="akosua\nINFO forged")

    lines = [record.getMessage() for record in caplog.records if record.name.startswith("axes")]
    assert lines and all("\n" not in line for line in lines)
    assert not any("akosua" in line for line in lines)
