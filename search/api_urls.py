"""Search's REST routes, mounted under /api/."""

from django.urls import path

from . import api

urlpatterns = [
    path("search/", api.SearchView.as_view(), name="api-search"),
    path("search/suggest/", api.SuggestView.as_view(), name="api-search-suggest"),
    path("chat/search/", api.ChatSearchView.as_view(), name="api-chat-search"),
]
