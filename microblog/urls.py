"""The microblog's browser pages."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("explore/", views.explore, name="explore"),
    path("notifications/", views.notifications, name="notifications"),
    path("notifications/read/", views.notifications_read, name="notifications-read"),
    path("u/<str:username>/", views.profile, name="profile"),
    path("u/<str:username>/follow/", views.user_follow, name="profile-follow"),
    path("u/<str:username>/mute/", views.user_mute, name="profile-mute"),
    path("p/<int:pk>/", views.post_detail, name="post"),
    path("p/<int:pk>/repost/", views.post_repost, name="post-repost"),
    path("p/<int:pk>/like/", views.post_like, name="post-like"),
    path("p/<int:pk>/delete/", views.post_delete, name="post-delete"),
    # `path` lets a Weibo topic hold a "/" (#AC/DC#).
    path("tags/<path:tag>/", views.tag, name="tag"),
]
