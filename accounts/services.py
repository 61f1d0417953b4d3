"""Writes for accounts: sign-up, login with failure limits, tokens."""

from dataclasses import dataclass
from functools import partial

from django.conf import settings
from django.contrib.auth import authenticate
from django.db import transaction
from rest_framework.authtoken.models import Token

from . import limits
from .models import User
from .signals import token_revoked


@dataclass
class RateLimited(Exception):
    retry_after: int
    detail: str


def _check(scope: str, subject: str, *, limit: int, detail: str) -> None:
    wait = limits.retry_after(scope, subject, limit=limit)
    if wait is not None:
        raise RateLimited(retry_after=wait, detail=detail)


def user_authenticate(*, request, username: str, password: str, client_address: str) -> User | None:
    """The user for this pair, None for any bad pair, RateLimited after too many failures.

    Failures count per account (unknown usernames too, so probing them is limited
    alike) and per client address, each in its own window.
    """
    account = username.strip().lower()
    detail = "Too many failed logins. Try again later."
    _check("login-account", account, limit=settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT, detail=detail)
    _check("login-address", client_address, limit=settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS, detail=detail)
    user = authenticate(request, username=username, password=password)
    if user is None:
        limits.record("login-account", account, window=settings.LOGIN_FAILURE_WINDOW)
        limits.record("login-address", client_address, window=settings.LOGIN_FAILURE_WINDOW)
        return None
    limits.reset("login-account", account)
    return user


def registration_check(*, client_address: str) -> None:
    """Counts a sign-up attempt from this address; RateLimited past the limit."""
    _check(
        "register-address",
        client_address,
        limit=settings.REGISTRATIONS_PER_ADDRESS,
        detail="Too many sign-ups from this address. Try again later.",
    )
    limits.record("register-address", client_address, window=settings.REGISTRATION_WINDOW)


def user_register(*, username: str, password: str, email: str = "", display_name: str = "") -> User:
    """Creates the account; callers validate first (the serializer or the sign-up form)."""
    return User.objects.create_user(username=username, password=password, email=email, display_name=display_name)


def token_for(*, user: User) -> Token:
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    """Deletes the user's one token: every client using it is signed out, sockets included."""
    keys = list(Token.objects.filter(user=user).values_list("key", flat=True))
    Token.objects.filter(user=user).delete()
    for key in keys:
        transaction.on_commit(partial(token_revoked.send, sender=User, user=user, token_key=key))


def profile_update(
    *, user: User, display_name: str | None = None, bio: str | None = None, feed_uses_chats: bool | None = None
) -> User:
    changes = {"display_name": display_name, "bio": bio, "feed_uses_chats": feed_uses_chats}
    fields = [name for name, value in changes.items() if value is not None]
    for name in fields:
        setattr(user, name, changes[name])
    if fields:
        user.save(update_fields=fields)
    return user


def client_address(request) -> str:
    return request.META.get("REMOTE_ADDR") or "unknown"
