"""`seed_demo` gives a new visitor a living app, and running it twice changes nothing."""

import pytest
from django.core.management import call_command

from accounts.models import Contact, User
from chat.models import Conversation, Message

pytestmark = pytest.mark.django_db


def test_seed_demo_is_repeatable(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert "alice" in capsys.readouterr().out
    assert User.objects.count() == 4
    assert Contact.objects.count() == 6
    assert Conversation.objects.filter(kind="group").count() == 1
    assert Message.objects.count() == 8
    alice = User.objects.get(username="alice")
    assert alice.check_password("tandem-demo-2026")


def test_seed_demo_if_empty_leaves_a_used_database_alone(make_user):
    make_user(username="someone")
    call_command("seed_demo", "--if-empty")
    assert not User.objects.filter(username="alice").exists()
