"""REST endpoints for articles. Views parse, call a service or selector, and present.

An article the caller may not read (someone else's draft, a followers-only article to a
stranger, across a block) answers exactly as one that does not exist: 404.
"""

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.response import Response
from rest_framework.views import APIView

from common.errors import NotFound
from config.pagination import CursorPagination
from config.schema import RATE_LIMITED_RESPONSE
from search.limits import search_take
from search.query import parse
from search.selectors import search_articles

from . import selectors, services
from .serializers import (
    ArticlePatchSerializer,
    ArticleSearchQuerySerializer,
    ArticleSerializer,
    ArticleSummarySerializer,
    ArticleWriteSerializer,
    PreviewAnswerSerializer,
    PreviewSerializer,
)

NOT_AUTHOR_RESPONSE = OpenApiResponse(
    description="The caller may read the article but it is someone else's (code `not_author`), or a cookie "
    "write without the CSRF token."
)


def _visible(viewer, article_id):
    article = selectors.article_visible(viewer, article_id)
    if article is None:
        raise NotFound()
    return article


def present(viewer, article) -> dict:
    article = article if not isinstance(article, int) else _visible(viewer, article)
    selectors.with_carrying_posts(viewer, [article])
    return ArticleSerializer(article).data


class LatestEditedPagination(CursorPagination):
    ordering = ("-updated_at", "-id")


class ArticlesView(generics.ListAPIView):
    """The caller's own articles, drafts included, latest edited first; and writing a new one."""

    serializer_class = ArticleSummarySerializer
    permission_classes = [IsAuthenticated]
    pagination_class = LatestEditedPagination

    def get_queryset(self):
        return selectors.articles_of_author(self.request.user)

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        return None if page is None else selectors.with_carrying_posts(self.request.user, page)

    @extend_schema(request=ArticleWriteSerializer, responses={201: ArticleSerializer})
    def post(self, request):
        data = ArticleWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        article = services.article_create(author=request.user, **data.validated_data)
        return Response(present(request.user, article.pk), status=status.HTTP_201_CREATED)


class ArticleDetailView(APIView):
    permission_classes = [IsAuthenticatedOrReadOnly]

    @extend_schema(responses=ArticleSerializer)
    def get(self, request, pk: int):
        """An article; a signed-in reader other than its author counts once in `read_count`, as on /a/{id}/."""
        article = _visible(request.user, pk)
        services.article_read(reader=request.user, article=article)
        return Response(present(request.user, article))

    @extend_schema(request=ArticlePatchSerializer, responses={200: ArticleSerializer, 403: NOT_AUTHOR_RESPONSE})
    def patch(self, request, pk: int):
        data = ArticlePatchSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.article_update(author=request.user, article=pk, **data.validated_data)
        return Response(present(request.user, pk))

    @extend_schema(responses={204: None, 403: NOT_AUTHOR_RESPONSE})
    def delete(self, request, pk: int):
        services.article_delete(author=request.user, article=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ArticlePublishView(APIView):
    @extend_schema(request=None, responses={200: ArticleSerializer, 403: NOT_AUTHOR_RESPONSE})
    def post(self, request, pk: int):
        services.article_publish(author=request.user, article=pk)
        return Response(present(request.user, pk))


class ArticlePreviewView(APIView):
    """The editor's live preview: Markdown rendered and sanitised by the same code as the reading page."""

    @extend_schema(request=PreviewSerializer, responses={200: PreviewAnswerSerializer, 429: RATE_LIMITED_RESPONSE})
    def post(self, request):
        data = PreviewSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return Response({"html": services.article_preview(author=request.user, body=data.validated_data["body"])})


class ArticleSearchView(APIView):
    """Published articles the viewer may read, best first, by the search index (the syntax of
    /api/search/: words, "phrases", word*, from:name; CJK inside sentences), at most 20."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[OpenApiParameter("q", str, description="Words in the title or the text.")],
        responses={200: ArticleSummarySerializer(many=True), 429: RATE_LIMITED_RESPONSE},
    )
    def get(self, request):
        query = ArticleSearchQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        search_take(request)
        found = search_articles(request.user, parse(query.validated_data["q"]))
        selectors.with_carrying_posts(request.user, found)
        return Response(ArticleSummarySerializer(found, many=True).data)
