"""Sessions (accounts/sessions.py: Django's database sessions, the row read by a prepared query):
a live session signs its user in, one past its expiry or unknown signs nobody in."""

from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db


def signed_in_as(client) -> str | None:
    response = client.get("/api/me/")
    return response.json()["username"] if response.status_code == 200 else None


def test_a_session_signs_in_until_it_expires(alice):
    pages = Client()
    pages.force_login(alice)
    assert signed_in_as(pages) == "alice"
    Session.objects.update(expire_date=timezone.now() - timedelta(seconds=1))
    assert signed_in_as(pages) is None


def test_a_session_key_nobody_holds_is_nobody(alice):
    pages = Client()
    pages.force_login(alice)
    pages.cookies["sessionid"] = "abcdefghijklmnopqrstuvwxyz012345"
    assert signed_in_as(pages) is None


def test_signing_out_ends_the_session(alice):
    pages = Client()
    pages.force_login(alice)
    key = pages.cookies["sessionid"].value
    pages.logout()
    again = Client()
    again.cookies["sessionid"] = key
    assert signed_in_as(again) is None
