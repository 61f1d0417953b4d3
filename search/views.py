"""Search results for the Explore page (the page itself is microblog's)."""

from common.errors import ServiceError

from . import selectors
from .limits import search_take
from .query import parse


def search_page(request, raw: str) -> dict:
    """The template context of a search on Explore: people (with the viewer's relations), tags, posts."""
    search_take(request)
    try:
        query = parse(raw)
    except ServiceError as refusal:
        return {"search_error": refusal.detail}
    people = selectors.search_people(request.user, query, limit=10).items
    if request.user.is_authenticated and people:
        from accounts.models import Contact
        from microblog.models import Follow

        ids = [person.pk for person in people]
        followed = set(
            Follow.objects.filter(follower_id=request.user.pk, followee_id__in=ids).values_list(
                "followee_id", flat=True
            )
        )
        contacts = set(
            Contact.objects.filter(user_id=request.user.pk, contact_id__in=ids).values_list("contact_id", flat=True)
        )
        for person in people:
            person.viewer_follows = person.pk in followed
            person.viewer_contact = person.pk in contacts
    return {
        "found_users": people,
        "found_tags": selectors.search_tags(request.user, raw, limit=10).items,
        "found_posts": selectors.search_posts(request.user, query, limit=20).items,
    }
