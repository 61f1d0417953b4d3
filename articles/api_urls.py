"""The article REST routes (mounted under /api/ by articles.urls)."""

from django.urls import path

from . import api

urlpatterns = [
    path("articles/", api.ArticlesView.as_view(), name="api-articles"),
    path("articles/preview/", api.ArticlePreviewView.as_view(), name="api-article-preview"),
    path("articles/search/", api.ArticleSearchView.as_view(), name="api-article-search"),
    path("articles/<int:pk>/", api.ArticleDetailView.as_view(), name="api-article"),
    path("articles/<int:pk>/publish/", api.ArticlePublishView.as_view(), name="api-article-publish"),
]
