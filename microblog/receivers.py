"""Keeps the follow graph in step with blocks: a block ends follows both ways."""

from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Block

from .models import Follow


@receiver(post_save, sender=Block)
def end_follows_across_block(sender, instance: Block, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        Follow.objects.filter(
            Q(follower_id=instance.blocker_id, followee_id=instance.blocked_id)
            | Q(follower_id=instance.blocked_id, followee_id=instance.blocker_id)
        ).delete()
