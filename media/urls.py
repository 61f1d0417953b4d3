from django.urls import path

from . import pages, views

urlpatterns = [
    path("media/<str:key>/<str:variant>", views.serve, name="media-file"),
    path("settings/avatar/", pages.avatar_change, name="settings-avatar"),
]
