"""Writes for accounts: sign-up, login with failure limits, tokens, password changes, profiles."""

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.db import transaction
from rest_framework.authtoken.models import Token

from common.errors import RateLimited

from . import avatars, limits
from .models import User
from .signals import credentials_revoked, token_revoked
from .validators import display_name_check

__all__ = ["RateLimited"]  # raised here; defined with the other service errors in common.errors


def _take(scope: str, subject: str, *, limit: int, window: timedelta, detail: str) -> None:
    _refused_past(limits.take(scope, subject, limit=limit, window=window), detail)


def _refused_past(wait: int | None, detail: str) -> None:
    if wait is not None:
        raise RateLimited(retry_after=wait, detail=detail)


def user_authenticate(*, request, username: str, password: str, client_address: str) -> User | None:
    """The user for this pair, None for any bad pair, RateLimited after too many failures.

    Nobody can lock anyone else out. The hard limits count failures per (account, address)
    and per address, so a stranger's failures close only the stranger's own address. Across
    all addresses an account has a much higher ceiling against distributed guessing, past
    which attempts are slowed down (a growing Retry-After), not locked; addresses the account
    has signed in from before skip that slowdown. Sessions and tokens already signed in never
    pass through here. Unknown usernames count alike, so probing them is limited the same.

    Each attempt is counted before the password is checked, so parallel guesses cannot all
    pass the check first; a right password takes its counts back.
    """
    account = username.strip().lower()
    pair = f"{account}\n{client_address}"
    window = settings.LOGIN_FAILURE_WINDOW
    detail = "Too many failed logins. Try again later."
    counted: list[tuple[str, str]] = []

    def refuse(wait: int, why: str) -> None:
        for scope, subject in counted:
            limits.forgive(scope, subject)
        raise RateLimited(retry_after=wait, detail=why)

    for scope, subject, limit in (
        ("login-address", client_address, settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS),
        ("login-pair", pair, settings.LOGIN_FAILURE_LIMIT_PER_ACCOUNT_ADDRESS),
    ):
        wait = limits.take(scope, subject, limit=limit, window=window)
        if wait is not None:
            refuse(wait, detail)
        counted.append((scope, subject))
    if not limits.marked("login-known", pair):
        wait = limits.pace(
            "login-account",
            account,
            free=settings.LOGIN_FAILURE_CEILING_PER_ACCOUNT,
            window=settings.LOGIN_FAILURE_CEILING_WINDOW,
            first=settings.LOGIN_SLOWDOWN_FIRST,
            longest=settings.LOGIN_SLOWDOWN_LONGEST,
        )
        if wait is not None:
            refuse(wait, "Too many failed logins for this account. Try again in a moment.")
        counted.append(("login-account", account))
    user = authenticate(request, username=username, password=password)
    if user is not None:
        limits.reset("login-pair", pair)
        for scope, subject in counted:
            if scope != "login-pair":
                limits.forgive(scope, subject)
        limits.mark("login-known", pair, remember=settings.LOGIN_KNOWN_ADDRESS_FOR)
    return user


def registration_check(*, client_address: str) -> None:
    """Counts a sign-up attempt from this address; RateLimited past the limit."""
    _take(
        "register-address",
        client_address,
        limit=settings.REGISTRATIONS_PER_ADDRESS,
        window=settings.REGISTRATION_WINDOW,
        detail="Too many sign-ups from this address. Try again later.",
    )


def action_take(*, action: str, user: User) -> None:
    """Counts one `action` (a key of settings.ACTION_LIMITS) by `user`; RateLimited past its limit."""
    count, refused = _action_count(action, user)
    _refused_past(limits.take(**count), refused)


async def action_atake(*, action: str, user: User) -> None:
    """action_take from the event loop: the same count (chat's socket takes a message's from it)."""
    count, refused = _action_count(action, user)
    _refused_past(await limits.atake(**count), refused)


def _action_count(action: str, user: User) -> tuple[dict, str]:
    """The count an action takes from (limits.take's arguments), and what a refusal says."""
    limit, window = settings.ACTION_LIMITS[action]
    count = {"scope": f"action-{action}", "subject": str(user.pk), "limit": limit, "window": window}
    return count, f"Too many {action.replace('-', ' ')}s. Try again later."


def user_register(*, username: str, password: str, email: str = "", display_name: str = "") -> User:
    """Creates the account. The display name is checked here (InvalidName); the username and
    password were parsed and checked by the serializer or the sign-up form."""
    display_name_check(display_name, username=username)
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


@transaction.atomic
def user_deactivate(*, user: User) -> None:
    """Closes an account (moderation): it can no longer sign in, its token goes, and its open
    sockets close (realtime listens for the save)."""
    user.is_active = False
    user.save(update_fields=["is_active"])
    token_revoke(user=user)


@transaction.atomic
def password_change(*, user: User, new_password: str | None, request=None) -> None:
    """Sets the password (None: none usable) and signs the user out everywhere else.

    Done like logout and deactivation: the token goes (the next login makes a new one) and
    its sockets close; every other session ends, its HTTP access by Django's session hash,
    which no longer matches, its open sockets by `credentials_revoked`. Only `request`'s
    session goes on, when it is the user's own (the settings page), under a new key; its
    sockets stay open. An administrator's reset keeps nothing.
    """
    if new_password is None:
        user.set_unusable_password()
    else:
        user.set_password(new_password)
    user.save(update_fields=["password"])
    token_revoke(user=user)
    keep = set()
    if request is not None and request.user.pk == user.pk and request.session.session_key:
        keep.add(f"session:{request.session.session_key}")
        update_session_auth_hash(request, user)  # a new key, with the new hash
        keep.add(f"session:{request.session.session_key}")
    transaction.on_commit(partial(credentials_revoked.send, sender=User, user=user, keep=frozenset(keep)))


# `profile_update`'s avatar when the request does not name one (None removes it).
UNCHANGED = object()


@transaction.atomic
def profile_update(
    *,
    user: User,
    display_name: str | None = None,
    bio: str | None = None,
    feed_uses_chats: bool | None = None,
    avatar: int | object | None = UNCHANGED,
) -> User:
    """Changes what is given. A new display name is checked (InvalidName); one kept unchanged
    is not, so a name from before a rule existed does not block editing the bio.

    `avatar` is an upload id (media's rules: the user's own, unattached, ready, an image; the
    avatar it replaces is detached) or None for the generated default. A refusal of any part
    changes nothing.
    """
    if display_name is not None and display_name != user.display_name:
        display_name_check(display_name, username=user.username, user_id=user.pk)
    changes = {"display_name": display_name, "bio": bio, "feed_uses_chats": feed_uses_chats}
    fields = [name for name, value in changes.items() if value is not None]
    if avatar is not UNCHANGED:
        avatars.avatar_set(user=user, media_id=avatar)
    for name in fields:
        setattr(user, name, changes[name])
    if fields:
        user.save(update_fields=fields)
    return user


def client_address(request) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies, the address they saw.

    Each proxy appends the address it got the request from to X-Forwarded-For, so the
    entry that many places from the end is the last one a trusted proxy wrote; anything
    before it is whatever the client chose to send.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        if len(forwarded) >= proxies and forwarded[-proxies]:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"
