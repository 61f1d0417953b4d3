from django.urls import path

from . import api, channel_api

urlpatterns = [
    path("contacts/", api.ContactListView.as_view()),
    path("contacts/<str:username>/", api.ContactDetailView.as_view()),
    path("contact-requests/", api.ContactRequestListView.as_view()),
    path("contact-requests/<str:request_id>/accept/", api.ContactRequestAcceptView.as_view()),
    path("contact-requests/<str:request_id>/decline/", api.ContactRequestDeclineView.as_view()),
    path("blocks/", api.BlockListView.as_view()),
    path("blocks/<str:username>/", api.BlockDetailView.as_view()),
    path("conversations/", api.ConversationListView.as_view()),
    path("conversations/from-post/", api.ConversationFromPostView.as_view()),
    path("conversations/<str:conversation_id>/", api.ConversationDetailView.as_view()),
    path("conversations/<str:conversation_id>/messages/", api.MessageListView.as_view()),
    path("conversations/<str:conversation_id>/read/", api.ReadView.as_view()),
    path("conversations/<str:conversation_id>/mute/", api.ConversationMuteView.as_view()),
    path("conversations/<str:conversation_id>/members/", api.MembersView.as_view()),
    path("conversations/<str:conversation_id>/members/<str:username>/", api.MemberDetailView.as_view()),
    path("messages/<str:message_id>/recall/", api.RecallView.as_view()),
    path("messages/<str:message_id>/played/", api.PlayedView.as_view()),
    path("messages/<str:message_id>/hide/", api.HideView.as_view()),
    path("channels/", channel_api.ChannelCreateView.as_view()),
    path("channels/<str:username>/", channel_api.ChannelDetailView.as_view()),
    path("channels/<str:username>/subscribe/", channel_api.SubscribeView.as_view()),
    path("channels/<str:username>/broadcasts/", channel_api.BroadcastListView.as_view()),
    path("channels/<str:username>/conversation/", channel_api.PrivateConversationView.as_view()),
]
