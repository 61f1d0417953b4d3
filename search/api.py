"""Search's REST endpoints: posts, people and tags (/api/search/), suggestions as you type, and chat history."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param
from rest_framework.views import APIView

from chat.selectors import conversation_for_member
from common.errors import NotFound
from config.schema import RATE_LIMITED_RESPONSE

from . import selectors
from .limits import search_take
from .query import parse
from .serializers import (
    ChatSearchQuerySerializer,
    MessageHitPageSerializer,
    MessageHitSerializer,
    PersonHitSerializer,
    PostHitSerializer,
    SearchQuerySerializer,
    SearchResultSerializer,
    SearchTypeSerializer,
    SuggestionsSerializer,
    TagHitSerializer,
)

SUGGESTIONS = 6


def _next(request, page: selectors.Page, section: str | None = None) -> str | None:
    if page.next_cursor is None:
        return None
    url = request.build_absolute_uri()
    if section is not None:
        url = replace_query_param(url, "type", section)
    return replace_query_param(url, "cursor", page.next_cursor)


def _params(request, serializer_class):
    params = serializer_class(data=request.query_params)
    params.is_valid(raise_exception=True)
    return params.validated_data


class SearchView(APIView):
    """Posts (best first: relevance, recency, engagement), people (username or display name by word
    prefix) and tags (by prefix), each as the viewer may see them, each paged by its own `next`."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[SearchTypeSerializer],
        responses={200: SearchResultSerializer, 429: RATE_LIMITED_RESPONSE},
    )
    def get(self, request):
        params = _params(request, SearchTypeSerializer)
        raw, section, cursor = params.get("q", ""), params.get("type"), params.get("cursor")
        if cursor and section is None:
            raise selectors.InvalidCursor(detail="A cursor pages one section: give `type` too.")
        limit = params.get("limit", selectors.PAGE)
        search_take(request)
        query = parse(raw)
        empty = selectors.Page()

        def wanted(name):
            return section is None or section == name

        posts = (
            selectors.search_posts(request.user, query, cursor=cursor, limit=limit, with_originals=False)
            if wanted("posts")
            else empty
        )
        users = selectors.search_people(request.user, query, cursor=cursor, limit=limit) if wanted("users") else empty
        tags = selectors.search_tags(request.user, raw, cursor=cursor, limit=limit) if wanted("tags") else empty
        body = {
            "posts": PostHitSerializer(posts.items, many=True).data,
            "users": PersonHitSerializer(users.items, many=True).data,
            "tags": TagHitSerializer(tags.items, many=True).data,
            "next": {
                "posts": _next(request, posts, "posts"),
                "users": _next(request, users, "users"),
                "tags": _next(request, tags, "tags"),
            },
        }
        return Response(body)


class SuggestView(APIView):
    """What the search box suggests as you type: a few people and tags."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[SearchQuerySerializer], responses={200: SuggestionsSerializer, 429: RATE_LIMITED_RESPONSE}
    )
    def get(self, request):
        raw = _params(request, SearchQuerySerializer).get("q", "")
        search_take(request)
        query = parse(raw)
        users = selectors.search_people(request.user, query, limit=SUGGESTIONS)
        tags = selectors.search_tags(request.user, raw, limit=SUGGESTIONS)
        return Response(
            {
                "users": PersonHitSerializer(users.items, many=True).data,
                "tags": TagHitSerializer(tags.items, many=True).data,
            }
        )


class ChatSearchView(APIView):
    """The viewer's own chat history: messages they see (from where their membership's view starts,
    nobody hidden by a block in a group, never a recalled one), newest first; in one conversation of
    theirs with `conversation` (404 for one that is not)."""

    @extend_schema(
        parameters=[
            ChatSearchQuerySerializer,
            OpenApiParameter("conversation", OpenApiTypes.INT, required=False),
        ],
        responses={200: MessageHitPageSerializer, 429: RATE_LIMITED_RESPONSE},
    )
    def get(self, request):
        params = _params(request, ChatSearchQuerySerializer)
        conversation_id = params.get("conversation")
        if (
            conversation_id is not None
            and conversation_for_member(user=request.user, conversation_id=conversation_id) is None
        ):
            raise NotFound()
        search_take(request)
        page = selectors.search_messages(
            request.user,
            parse(params.get("q", "")),
            conversation_id=conversation_id,
            cursor=params.get("cursor"),
            limit=params.get("limit", selectors.PAGE),
        )
        results = [
            {
                "id": message.pk,
                "conversation_id": message.conversation_id,
                "sender": message.sender,
                "body": message.body,
                "highlight": message.highlight,
                "created_at": message.created_at,
            }
            for message in page.items
        ]
        return Response({"results": MessageHitSerializer(results, many=True).data, "next": _next(request, page)})
