"""The microblog's REST routes, mounted under /api/."""

from django.urls import path

from . import api, reach_api

urlpatterns = [
    path("posts/", api.PostsView.as_view(), name="api-posts"),
    path("posts/<int:pk>/", api.PostDetailView.as_view(), name="api-post"),
    path("posts/<int:pk>/repost/", api.RepostView.as_view(), name="api-post-repost"),
    path("posts/<int:pk>/like/", api.LikeView.as_view(), name="api-post-like"),
    path("posts/<int:pk>/bookmark/", api.BookmarkView.as_view(), name="api-post-bookmark"),
    path("posts/<int:pk>/replies/", api.PostRepliesView.as_view(), name="api-post-replies"),
    path("posts/<int:pk>/reposts/", api.PostRepostsView.as_view(), name="api-post-reposts"),
    path("posts/<int:pk>/reach/", reach_api.ReachView.as_view(), name="api-post-reach"),
    path("users/<str:username>/", api.UserProfileView.as_view(), name="api-user"),
    path("users/<str:username>/follow/", api.FollowView.as_view(), name="api-user-follow"),
    path("users/<str:username>/mute/", api.MuteView.as_view(), name="api-user-mute"),
    path("users/<str:username>/followers/", api.UserFollowersView.as_view(), name="api-user-followers"),
    path("users/<str:username>/following/", api.UserFollowingView.as_view(), name="api-user-following"),
    path("users/<str:username>/posts/", api.UserPostsView.as_view(), name="api-user-posts"),
    path("feed/", api.FeedView.as_view(), name="api-feed"),
    path("timeline/public/", api.PublicTimelineView.as_view(), name="api-timeline-public"),
    path("trending/", api.TrendingView.as_view(), name="api-trending"),
    # `path` lets a Weibo topic hold a "/" (#AC/DC#).
    path("tags/<path:tag>/posts/", api.TagPostsView.as_view(), name="api-tag-posts"),
    # search/ is the search app's (search/api_urls.py).
    path("notifications/", api.NotificationsView.as_view(), name="api-notifications"),
    path("notifications/read/", api.NotificationsReadView.as_view(), name="api-notifications-read"),
    path("notifications/unread/", api.NotificationsUnreadView.as_view(), name="api-notifications-unread"),
]
