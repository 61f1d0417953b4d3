from django.urls import path

from . import channel_views, views

urlpatterns = [
    path("contacts/", views.contacts_page, name="contacts"),
    path("chat/", views.chat_page, name="chat"),
    path("chat/share/", views.share_page, name="chat-share"),
    path("chat/private/", views.private_page, name="chat-private"),
    path("chat/with/<str:username>/", views.chat_with, name="chat-with"),
    path("chat/mute-author/", views.author_mute, name="chat-mute-author"),
    path("chat/<int:conversation_id>/", views.chat_page, name="chat-conversation"),
    path("chat/<int:conversation_id>/mute/", views.conversation_mute, name="chat-mute"),
    path("chat/subscriptions/", channel_views.subscriptions_page, name="chat-subscriptions"),
    path("channels/new/", channel_views.channel_create, name="channel-create"),
    path("c/<str:username>/", channel_views.channel_page, name="channel"),
    path("c/<str:username>/subscribe/", channel_views.subscribe, name="channel-subscribe"),
    path("c/<str:username>/message/", channel_views.message_channel, name="channel-message"),
    path("c/<str:username>/inbox/", channel_views.inbox_page, name="channel-inbox"),
    path("c/<str:username>/dashboard/", channel_views.dashboard_page, name="channel-dashboard"),
]
