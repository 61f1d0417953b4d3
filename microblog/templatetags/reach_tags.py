"""Template tags for reach: a post's reads humanised for the reader's language, and "Who to follow"."""

from django import template

from microblog.reads import prefers_chinese, read_count_label
from microblog.suggestions import suggestions_for

register = template.Library()


@register.simple_tag(takes_context=True)
def reads_of(context, post) -> str:
    """ "1.2万 reads" for a reader whose browser asks for Chinese first, "12.3K reads" otherwise."""
    return read_count_label(post.read_count, chinese=prefers_chinese(context.get("request")))


@register.inclusion_tag("microblog/_who_to_follow.html", takes_context=True)
def who_to_follow(context) -> dict:
    """`{% who_to_follow %}`: the signed-in viewer's suggestions (microblog.suggestions), with Follow
    buttons that come back to this page."""
    request = context.get("request")
    viewer = getattr(request, "user", None)
    return {
        "suggestions": suggestions_for(viewer),
        "next": request.get_full_path() if request is not None else "/",
        "csrf_token": context.get("csrf_token"),
    }
