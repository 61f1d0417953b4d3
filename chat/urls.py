from django.urls import path

from . import views

urlpatterns = [
    path("contacts/", views.contacts_page, name="contacts"),
    path("chat/", views.chat_page, name="chat"),
    path("chat/share/", views.share_page, name="chat-share"),
    path("chat/private/", views.private_page, name="chat-private"),
    path("chat/with/<str:username>/", views.chat_with, name="chat-with"),
    path("chat/mute-author/", views.author_mute, name="chat-mute-author"),
    path("chat/<int:conversation_id>/", views.chat_page, name="chat-conversation"),
    path("chat/<int:conversation_id>/mute/", views.conversation_mute, name="chat-mute"),
]
