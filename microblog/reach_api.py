"""REST for reach: `GET /api/posts/{id}/reach/`, the author's view of how far a post travelled.

Anyone but the author gets the 404 a missing post gets (one lookup, scoped to what the caller may
see and to their own posts, so both cases take the same path).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound

from . import selectors
from .reach import reach_of


class ReachBucketSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    span = serializers.ChoiceField(choices=["hour", "day"], help_text="Hourly for the first 48 h, then daily.")
    reads = serializers.IntegerField()
    likes = serializers.IntegerField()
    replies = serializers.IntegerField()
    reposts = serializers.IntegerField()


class CascadeRepostSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    parent = serializers.IntegerField(
        allow_null=True, help_text="The repost it came through (null: straight from the post)."
    )
    username = serializers.CharField()
    depth = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    reads = serializers.IntegerField(help_text="Distinct people this repost was shown to.")


class TopReposterSerializer(serializers.Serializer):
    username = serializers.CharField()
    repost = serializers.IntegerField()
    reads = serializers.IntegerField(help_text="Reads of the repost and of every repost below it.")
    share = serializers.FloatField(help_text="Those reads over total_reads (0 to 1).")


class ReachSummarySerializer(serializers.Serializer):
    depth = serializers.IntegerField(help_text="The deepest level of the cascade (0: no reposts).")
    breadth = serializers.IntegerField(help_text="Reposts on the widest level.")
    levels = serializers.ListField(child=serializers.IntegerField(), help_text="Reposts per level, from depth 1.")
    top_reposters = TopReposterSerializer(many=True)


class ReachSerializer(serializers.Serializer):
    """The response's shape, for the schema (the view returns `reach_of`'s values as they are)."""

    post = serializers.IntegerField()
    reads = serializers.IntegerField()
    likes = serializers.IntegerField()
    replies = serializers.IntegerField(help_text="Replies the author may see.")
    reposts = serializers.IntegerField()
    total_reads = serializers.IntegerField(help_text="Reads of the post and of every repost in its cascade.")
    series = ReachBucketSerializer(many=True)
    cascade = CascadeRepostSerializer(many=True)
    summary = ReachSummarySerializer()
    plot = serializers.CharField(help_text="The cascade as an SVG (depth over time), with its text alternative.")


def authored_post(request, pk):
    """The caller's own post, or NotFound exactly as for a missing one."""
    post = selectors.post_visible(request.user, pk)
    if post is None or post.author_id != request.user.pk:
        raise NotFound()
    return post


class ReachView(APIView):
    @extend_schema(responses=ReachSerializer)
    def get(self, request, pk: int):
        # reach_of already gives plain values in ReachSerializer's shape: run through the serializer,
        # 10,000 cascade rows took most of the request (bench/RESULTS.md, "Reach").
        return Response(reach_of(authored_post(request, pk)))
