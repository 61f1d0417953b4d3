"""Keeps the follow graph in step with blocks (a block ends follows both ways), and tells people about their V badge."""

from django.db.models import Q
from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import Block
from accounts.signals import verification_changed

from .models import Follow
from .ranking.candidates import viewer_inputs_forget


@receiver(post_save, sender=Block)
def end_follows_across_block(sender, instance: Block, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        Follow.objects.filter(
            Q(follower_id=instance.blocker_id, followee_id=instance.blocked_id)
            | Q(follower_id=instance.blocked_id, followee_id=instance.blocker_id)
        ).delete()
        viewer_inputs_forget(instance.blocker_id, instance.blocked_id)


@receiver(verification_changed)
def tell_about_badge(sender, user, outcome: str, **kwargs):
    from .reach_tiers import badge_notify

    badge_notify(user=user, outcome=outcome)
