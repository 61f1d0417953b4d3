"""The article pages, and the REST routes under /api/ (config.urls includes this once)."""

from django.urls import include, path

from . import views

urlpatterns = [
    path("write/", views.write, name="article-write"),
    path("write/<int:pk>/", views.write, name="article-edit"),
    path("a/<int:pk>/", views.read, name="article"),
    path("a/<int:pk>/delete/", views.delete, name="article-delete"),
    path("api/", include("articles.api_urls")),
]
