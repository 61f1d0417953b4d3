"""How search results are presented. `highlight` fields are HTML: the text escaped, matches in <mark>."""

from rest_framework import serializers

from accounts.serializers import UserSummarySerializer
from chat.limits import MAX_BODY
from microblog.serializers import PostSerializer

from .query import MAX_QUERY_CHARS
from .selectors import MAX_PAGE

HIGHLIGHT_HELP = "The text as HTML: escaped, each match wrapped in <mark>."


class SearchQuerySerializer(serializers.Serializer):
    q = serializers.CharField(
        max_length=MAX_QUERY_CHARS,
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        help_text='Words (`word*` for a prefix), CJK of any length, "exact phrase", from:username, #tag.',
    )
    cursor = serializers.CharField(max_length=400, required=False)
    limit = serializers.IntegerField(min_value=1, max_value=MAX_PAGE, required=False)


class SearchTypeSerializer(SearchQuerySerializer):
    type = serializers.ChoiceField(
        choices=["posts", "users", "tags"],
        required=False,
        help_text="One section only, to page it with `cursor` (each section's `next` names its own).",
    )


class ChatSearchQuerySerializer(SearchQuerySerializer):
    conversation = serializers.IntegerField(min_value=1, max_value=2**63 - 1, required=False)


class PostHitSerializer(PostSerializer):
    highlight = serializers.CharField(read_only=True, help_text=HIGHLIGHT_HELP)

    class Meta(PostSerializer.Meta):
        fields = (*PostSerializer.Meta.fields, "highlight")
        read_only_fields = fields

    def to_representation(self, post) -> dict:
        return {**super().to_representation(post), "highlight": post.highlight}


class PersonHitSerializer(UserSummarySerializer):
    highlight = serializers.CharField(read_only=True, help_text="The username: " + HIGHLIGHT_HELP)
    display_name_highlight = serializers.CharField(read_only=True, help_text="The display name: " + HIGHLIGHT_HELP)

    class Meta(UserSummarySerializer.Meta):
        fields = (*UserSummarySerializer.Meta.fields, "highlight", "display_name_highlight")
        read_only_fields = fields


class TagHitSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)


class SectionLinksSerializer(serializers.Serializer):
    posts = serializers.URLField(allow_null=True)
    users = serializers.URLField(allow_null=True)
    tags = serializers.URLField(allow_null=True)


class SearchResultSerializer(serializers.Serializer):
    posts = PostHitSerializer(many=True)
    users = PersonHitSerializer(many=True)
    tags = TagHitSerializer(many=True)
    next = SectionLinksSerializer(help_text="The next page of each section, or null.")


class SuggestionsSerializer(serializers.Serializer):
    users = PersonHitSerializer(many=True)
    tags = TagHitSerializer(many=True)


class MessageHitSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    conversation_id = serializers.IntegerField()
    sender = UserSummarySerializer()
    body = serializers.CharField(max_length=MAX_BODY)
    highlight = serializers.CharField(help_text=HIGHLIGHT_HELP)
    created_at = serializers.DateTimeField()


class MessageHitPageSerializer(serializers.Serializer):
    results = MessageHitSerializer(many=True)
    next = serializers.URLField(allow_null=True)
