"""Keeps the index in step with writes, inside their transactions (deletions are triggers)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from accounts.models import User
from articles.models import Article
from chat.signals import messages_stored
from microblog.models import Post

from . import index

# A user's save that changes neither name (a login's last_login, say) leaves the index alone.
_NAME_FIELDS = {"username", "display_name"}


@receiver(post_save, sender=Post)
def post_indexed(sender, instance: Post, created: bool, raw: bool = False, **kwargs):
    # Posts are never edited: one entry when made (a deletion empties the row; a trigger drops it).
    if created and not raw:
        index.posts_index([instance], new=True)


@receiver(post_save, sender=User)
def person_indexed(sender, instance: User, raw: bool = False, update_fields=None, **kwargs):
    if raw or (update_fields is not None and not _NAME_FIELDS & set(update_fields)):
        return
    index.people_index([instance])


@receiver(messages_stored)
def messages_indexed(sender, messages, **kwargs):
    # messages_stored is sent for messages just inserted, never for a message stored before.
    index.messages_index(messages, new=True)


@receiver(post_save, sender=Article)
def article_indexed(sender, instance: Article, raw: bool = False, **kwargs):
    # Every save of a published article (its title or text may have changed); drafts stay out.
    if not raw and instance.is_published:
        index.articles_index([instance])
