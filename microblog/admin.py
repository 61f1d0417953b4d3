from django.contrib import admin

from .models import Bookmark, Follow, Hashtag, Like, Mute, Notification, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("id", "author", "visibility", "created_at", "like_count", "repost_count", "deleted_at")
    list_filter = ("visibility",)
    search_fields = ("body", "author__username")
    raw_id_fields = ("author", "reply_to", "repost_of", "original")
    readonly_fields = ("html", "hashtags", "mentions", "like_count", "repost_count", "reply_count")


@admin.register(Hashtag)
class HashtagAdmin(admin.ModelAdmin):
    search_fields = ("name",)


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ("follower", "followee", "created_at")
    raw_id_fields = ("follower", "followee")


@admin.register(Mute)
class MuteAdmin(admin.ModelAdmin):
    list_display = ("user", "muted", "created_at")
    raw_id_fields = ("user", "muted")


@admin.register(Like)
class LikeAdmin(admin.ModelAdmin):
    list_display = ("user", "post", "created_at")
    raw_id_fields = ("user", "post")


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ("user", "post", "created_at")
    raw_id_fields = ("user", "post")


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "actor", "post", "read", "created_at")
    list_filter = ("kind", "read")
    raw_id_fields = ("recipient", "actor", "post")
