"""REST endpoints for the microblog. Views parse, call a service (which checks the rules), and present.

A post or person the viewer may not see answers exactly as one that does not exist:
404 with the same body. Refusals are `ServiceError`s, mapped once in config.exceptions.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from accounts.serializers import UserSummarySerializer
from accounts.services import action_take
from common.errors import NotFound
from config.pagination import CursorPagination
from config.schema import RATE_LIMITED_RESPONSE

from . import ranking, reads, selectors, services, trending
from .models import Post
from .serializers import (
    FeedPageSerializer,
    FeedQuerySerializer,
    NotificationSerializer,
    NotificationsReadSerializer,
    PostCreateSerializer,
    PostSerializer,
    ProfileSerializer,
    RepostSerializer,
    TrendSerializer,
    UnreadSerializer,
    post_json,
    serialize_notifications,
)

NOT_AUTHOR_RESPONSE = OpenApiResponse(
    description="The caller may see the post but it is someone else's (code `not_author`), or a cookie "
    "write without the CSRF token."
)


class OldestFirstPagination(CursorPagination):
    """Replies read as a conversation, oldest first."""

    ordering = "id"


class NotificationPagination(CursorPagination):
    """Notification pages also carry the viewer's unread count."""

    def paginate_queryset(self, queryset, request, view=None):
        self.unread = selectors.notifications_unread(request.user)
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["unread"] = self.unread
        return response

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["unread"] = {"type": "integer"}
        return response


def _visible_post(request, pk) -> Post:
    post = selectors.post_visible(request.user, pk)
    if post is None:
        raise NotFound()
    return post


def _visible_user(request, username: str):
    user = selectors.user_visible(request.user, username)
    if user is None:
        raise NotFound()
    return user


def _present(request, pk) -> dict:
    return PostSerializer(_visible_post(request, pk)).data


class PostListView(generics.ListAPIView):
    """Lists of posts: the subclass says which, starting from what the viewer may see."""

    serializer_class = PostSerializer
    permission_classes = [AllowAny]

    def paginate_queryset(self, queryset):
        # The page's photos in one query, not one per post.
        page = super().paginate_queryset(queryset)
        if page is None:
            return None
        reads.reads_record(self.request.user, page)
        return selectors.posts_with_media(page)


class PostsView(APIView):
    @extend_schema(request=PostCreateSerializer, responses={201: PostSerializer, 429: RATE_LIMITED_RESPONSE})
    def post(self, request):
        data = PostCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        action_take(action="post", user=request.user)
        post = services.post_create(
            author=request.user,
            body=data.validated_data["body"],
            visibility=data.validated_data.get("visibility"),
            reply_to=data.validated_data.get("reply_to"),
            media=data.validated_data["media"],
            article=data.validated_data.get("article"),
        )
        return Response(_present(request, post.pk), status=status.HTTP_201_CREATED)


class PostDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses=PostSerializer)
    def get(self, request, pk: int):
        post = _visible_post(request, pk)
        reads.reads_record(request.user, [post])
        return Response(PostSerializer(post).data)

    @extend_schema(responses={204: None, 403: NOT_AUTHOR_RESPONSE})
    def delete(self, request, pk: int):
        services.post_delete(actor=request.user, post=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RepostView(APIView):
    @extend_schema(
        request=RepostSerializer, responses={200: PostSerializer, 201: PostSerializer, 429: RATE_LIMITED_RESPONSE}
    )
    def post(self, request, pk: int):
        action_take(action="post", user=request.user)
        data = RepostSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        repost, created = services.post_repost(author=request.user, post=pk, comment=data.validated_data["comment"])
        return Response(_present(request, repost.pk), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class LikeView(APIView):
    """POST likes, DELETE unlikes; both answer with the post as it now stands."""

    @extend_schema(request=None, responses=PostSerializer)
    def post(self, request, pk: int):
        services.post_like(user=request.user, post=pk)
        return Response(_present(request, pk))

    # A dict, or drf-spectacular documents a DELETE as 204 with no body.
    @extend_schema(responses={200: PostSerializer})
    def delete(self, request, pk: int):
        services.post_unlike(user=request.user, post=pk)
        return Response(_present(request, pk))


class BookmarkView(APIView):
    @extend_schema(request=None, responses=PostSerializer)
    def post(self, request, pk: int):
        services.post_bookmark(user=request.user, post=pk)
        return Response(_present(request, pk))

    @extend_schema(responses={200: PostSerializer})
    def delete(self, request, pk: int):
        services.post_unbookmark(user=request.user, post=pk)
        return Response(_present(request, pk))


class PostRepliesView(PostListView):
    pagination_class = OldestFirstPagination

    def get_queryset(self):
        return selectors.post_replies(self.request.user, _visible_post(self.request, self.kwargs["pk"]))


class PostRepostsView(PostListView):
    def get_queryset(self):
        return selectors.post_reposts(self.request.user, _visible_post(self.request, self.kwargs["pk"]))


class PublicTimelineView(PostListView):
    def get_queryset(self):
        return selectors.public_timeline(self.request.user)


class TagPostsView(PostListView):
    def get_queryset(self):
        return selectors.tag_posts(self.request.user, self.kwargs["tag"])


class UserPostsView(PostListView):
    def get_queryset(self):
        return selectors.user_posts(self.request.user, _visible_user(self.request, self.kwargs["username"]))


def _profile(request, user) -> dict:
    return ProfileSerializer(selectors.profile_of(request.user, user)).data


class UserProfileView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=ProfileSerializer)
    def get(self, request, username: str):
        return Response(_profile(request, _visible_user(request, username)))


class _PeopleView(generics.ListAPIView):
    serializer_class = UserSummarySerializer
    permission_classes = [AllowAny]
    side = ""  # which end of the Follow rows to show

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        people = [getattr(link, self.side) for link in page]
        return self.get_paginated_response(UserSummarySerializer(people, many=True).data)


class UserFollowersView(_PeopleView):
    side = "follower"

    def get_queryset(self):
        return selectors.followers_of(self.request.user, _visible_user(self.request, self.kwargs["username"]))


class UserFollowingView(_PeopleView):
    side = "followee"

    def get_queryset(self):
        return selectors.following_of(self.request.user, _visible_user(self.request, self.kwargs["username"]))


class _ProfileToggleView(APIView):
    """POST turns a relation to the user on, DELETE off (both idempotent); both answer with the profile."""

    # An ACTION_LIMITS key counting each POST (follow churn), or None.
    limited_action: str | None = None

    @staticmethod
    def turn_on(viewer, user) -> None:
        raise NotImplementedError

    @staticmethod
    def turn_off(viewer, user) -> None:
        raise NotImplementedError

    @extend_schema(request=None, responses={200: ProfileSerializer, 429: RATE_LIMITED_RESPONSE})
    def post(self, request, username: str):
        user = _visible_user(request, username)
        if self.limited_action:
            action_take(action=self.limited_action, user=request.user)
        self.turn_on(request.user, user)
        return Response(_profile(request, user))

    @extend_schema(responses={200: ProfileSerializer})
    def delete(self, request, username: str):
        user = _visible_user(request, username)
        self.turn_off(request.user, user)
        return Response(_profile(request, user))


class FollowView(_ProfileToggleView):
    """POST follows, DELETE unfollows (both idempotent); both answer with the profile."""

    limited_action = "follow"

    @staticmethod
    def turn_on(viewer, user) -> None:
        services.user_follow(follower=viewer, followee=user)

    @staticmethod
    def turn_off(viewer, user) -> None:
        services.user_unfollow(follower=viewer, followee=user)


class MuteView(_ProfileToggleView):
    """POST mutes, DELETE unmutes: a muted author leaves the viewer's timelines, tags, search and notifications."""

    @staticmethod
    def turn_on(viewer, user) -> None:
        services.user_mute(user=viewer, muted=user)

    @staticmethod
    def turn_off(viewer, user) -> None:
        services.user_unmute(user=viewer, muted=user)


FEED_ORDERS = ("ranked", "latest", "moments")


class FeedView(APIView):
    """The home feed: `ranked` (the default, by settings.FEED_RANKER), `latest`, or `moments` (contacts-only
    posts of the viewer's chat contacts and the viewer, newest first), paged by an opaque cursor.

    Each item carries the `score` the ranking used (null for latest) and its `reasons`.
    A ranked cursor whose snapshot has expired starts the feed afresh and says `restarted: true`.
    """

    @extend_schema(
        parameters=[
            OpenApiParameter("order", OpenApiTypes.STR, enum=FEED_ORDERS, default="ranked"),
            OpenApiParameter("cursor", OpenApiTypes.STR, required=False),
            OpenApiParameter("limit", OpenApiTypes.INT, required=False),
        ],
        responses=FeedPageSerializer,
    )
    def get(self, request):
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        try:
            page = ranking.feed_page(viewer=request.user, for_api=True, **query.validated_data)
        except ranking.InvalidCursor:
            raise NotFound(detail="Invalid cursor.") from None
        next_url = None
        if page.next_cursor is not None:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        selectors.posts_with_media(item.post for item in page.items)
        reads.reads_record(request.user, (item.post for item in page.items))
        # FeedItemSerializer's shape, by hand (PostSerializer's reasons: serializers.post_json).
        results = [
            {"post": post_json(item.post), "score": item.score, "reasons": list(item.reasons)} for item in page.items
        ]
        body = {"results": results, "next": next_url}
        if page.restarted:
            body["restarted"] = True
        return Response(body)


class TrendingView(APIView):
    permission_classes = [AllowAny]

    @extend_schema(responses=TrendSerializer(many=True))
    def get(self, request):
        return Response(TrendSerializer(trending.trending_for(request.user), many=True).data)


class NotificationsView(generics.ListAPIView):
    serializer_class = NotificationSerializer
    pagination_class = NotificationPagination

    def get_queryset(self):
        return selectors.notifications_for(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(serialize_notifications(page, request.user))


class NotificationsReadView(APIView):
    @extend_schema(request=NotificationsReadSerializer, responses=UnreadSerializer)
    def post(self, request):
        data = NotificationsReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.notifications_mark_read(user=request.user, up_to=data.validated_data.get("up_to"))
        return Response({"unread": selectors.notifications_unread(request.user)})


class NotificationsUnreadView(APIView):
    @extend_schema(responses=UnreadSerializer)
    def get(self, request):
        return Response({"unread": selectors.notifications_unread(request.user)})
