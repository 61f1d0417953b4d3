"""The media REST routes, mounted under /api/."""

from django.urls import path

from . import api

urlpatterns = [
    path("media/", api.MediaUploadView.as_view(), name="api-media"),
    path("media/<int:pk>/", api.MediaDetailView.as_view(), name="api-media-item"),
]
