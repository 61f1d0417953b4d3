"""Template tags for reach: a post's reads humanised for the reader's language, and "Who to follow"."""

from django import template

from microblog.reads import prefers_chinese, read_count_label

register = template.Library()


@register.simple_tag(takes_context=True)
def reads_of(context, post) -> str:
    """ "1.2万 reads" for a reader whose browser asks for Chinese first, "12.3K reads" otherwise."""
    return read_count_label(post.read_count, chinese=prefers_chinese(context.get("request")))
