"""Closes open sockets whose credentials were revoked or whose user was deactivated, and gives
each new user a stream."""

from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.signals import credentials_revoked, token_revoked

from .groups import user_group
from .models import UserStream


def _revoke(user_id: int, credential: str) -> None:
    async_to_sync(get_channel_layer().group_send)(
        user_group(user_id), {"type": "auth.revoked", "credential": credential}
    )


@receiver(token_revoked)
def close_token_sockets(sender, user, token_key, **kwargs):
    _revoke(user.pk, f"token:{token_key}")


@receiver(credentials_revoked)
def close_sockets_not_kept(sender, user, keep, **kwargs):
    async_to_sync(get_channel_layer().group_send)(user_group(user.pk), {"type": "auth.revoked", "keep": sorted(keep)})


@receiver(user_logged_out)
def close_session_sockets(sender, request, user, **kwargs):
    if user is not None and request.session.session_key:
        _revoke(user.pk, f"session:{request.session.session_key}")


def _close_every_socket(user_id: int) -> None:
    async_to_sync(get_channel_layer().group_send)(user_group(user_id), {"type": "user.deactivated"})


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def create_stream(sender, instance, created, raw=False, **kwargs):
    if created and not raw:
        UserStream.objects.get_or_create(user=instance)


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def close_deactivated_sockets(sender, instance, created, raw=False, **kwargs):
    # Whatever saved it (the admin, a shell, a service): an inactive user keeps no open socket.
    # Sockets check is_active when they open, so only the ones already open need closing.
    if not created and not raw and not instance.is_active:
        transaction.on_commit(partial(_close_every_socket, instance.pk))
