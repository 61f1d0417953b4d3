"""REST endpoints for channels. Views parse, call a service or a read of chat.channel_data, present.

A channel is public (its page and broadcasts answer anyone), except to someone with a block either
way, who gets 404 as for a channel that does not exist.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.serializers import UserSummarySerializer
from common.errors import NotFound
from config.pagination import CursorPagination
from config.schema import RATE_LIMITED_RESPONSE

from . import channel_data, selectors
from .serializers import ConversationSerializer
from .services import channels as services

FORBIDDEN = OpenApiResponse(description="Not the channel's owner or editor (code `forbidden`).")


class ChannelCreateSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=30)
    display_name = serializers.CharField(max_length=50)
    bio = serializers.CharField(max_length=280, required=False, allow_blank=True, default="")


class ChannelSerializer(UserSummarySerializer):
    bio = serializers.CharField()
    subscriber_count = serializers.IntegerField()
    is_subscribed = serializers.BooleanField(help_text="The caller subscribes (false when signed out).")
    owner = serializers.CharField(help_text="The owner's username.")
    created_at = serializers.DateTimeField()

    class Meta(UserSummarySerializer.Meta):
        fields = (*UserSummarySerializer.Meta.fields, "bio", "subscriber_count", "is_subscribed", "owner", "created_at")


class ArticleCardSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    unavailable = serializers.BooleanField()
    title = serializers.CharField(required=False)
    excerpt = serializers.CharField(required=False)
    url = serializers.CharField(required=False)


class BroadcastSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    channel = UserSummarySerializer()
    message = serializers.IntegerField(help_text="Its message in the channel's conversation (the read marker's unit).")
    title = serializers.CharField()
    body = serializers.CharField()
    articles = ArticleCardSerializer(many=True)
    created_at = serializers.DateTimeField()


class BroadcastCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=120, trim_whitespace=False)
    body = serializers.CharField(max_length=1000, required=False, allow_blank=True, default="", trim_whitespace=False)
    media = serializers.ListField(child=serializers.IntegerField(), required=False, max_length=9)
    articles = serializers.ListField(child=serializers.IntegerField(), min_length=1, max_length=8)


def _channel(request, username):
    channel = channel_data.channel_by_username(username, request.user)
    if channel is None:
        raise NotFound()
    return channel


class ChannelCreateView(APIView):
    @extend_schema(request=ChannelCreateSerializer, responses={201: ChannelSerializer})
    def post(self, request):
        data = ChannelCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        channel = services.channel_create(owner=request.user, **data.validated_data)
        return Response(channel_data.channel_data(channel, request.user), status=status.HTTP_201_CREATED)


class ChannelDetailView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ChannelSerializer)
    def get(self, request, username):
        return Response(channel_data.channel_data(_channel(request, username), request.user))


class SubscribeView(APIView):
    @extend_schema(request=None, responses=ChannelSerializer)
    def post(self, request, username):
        channel = _channel(request, username)
        services.channel_subscribe(user=request.user, channel=channel)
        channel.refresh_from_db(fields=["subscriber_count"])
        return Response(channel_data.channel_data(channel, request.user))

    @extend_schema(responses=ChannelSerializer)
    def delete(self, request, username):
        channel = _channel(request, username)
        services.channel_unsubscribe(user=request.user, channel=channel)
        channel.refresh_from_db(fields=["subscriber_count"])
        return Response(channel_data.channel_data(channel, request.user))


class BroadcastPagination(CursorPagination):
    page_size = channel_data.BROADCAST_PAGE


class BroadcastListView(generics.ListAPIView):
    """A channel's broadcasts, newest first (anyone may read them); its owner and editors broadcast."""

    permission_classes = [IsAuthenticatedOrReadOnly]
    pagination_class = BroadcastPagination
    serializer_class = BroadcastSerializer

    def get_queryset(self):
        return channel_data.broadcasts_of(_channel(self.request, self.kwargs["username"]))

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        rows = channel_data.with_articles(page, request.user)
        return self.get_paginated_response([channel_data.broadcast_data(b) for b in rows])

    @extend_schema(
        request=BroadcastCreateSerializer,
        responses={201: BroadcastSerializer, 403: FORBIDDEN, 429: RATE_LIMITED_RESPONSE},
    )
    def post(self, request, username):
        channel = _channel(request, username)
        data = BroadcastCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        broadcast = services.broadcast_create(sender=request.user, channel=channel, **data.validated_data)
        return Response(channel_data.broadcast_data(broadcast), status=status.HTTP_201_CREATED)


class PrivateConversationView(APIView):
    """The caller's private conversation with the channel (made on first use); write in it as in any chat."""

    @extend_schema(
        request=None, responses={200: ConversationSerializer, 403: OpenApiResponse(description="Not subscribed.")}
    )
    def post(self, request, username):
        channel = _channel(request, username)
        conversation = services.private_conversation(user=request.user, channel=channel)
        detail = selectors.conversation_detail(user=request.user, conversation_id=conversation.pk)
        return Response(ConversationSerializer(detail, context={"viewer": request.user}).data)
