"""Listens to microblog: a post shared into chats changed, so its cards there are pushed again."""

from django.dispatch import receiver

from microblog.signals import post_changed

from .cards import shared_cards_push


@receiver(post_changed)
def push_shared_cards(sender, post_ids, **kwargs):
    shared_cards_push(post_ids)
