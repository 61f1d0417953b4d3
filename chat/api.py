"""REST endpoints for contacts, conversations and messages. Views parse, call a service, present."""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import blocked_by, blocked_ids, contact_requests_for, contacts_of
from accounts.serializers import UserSummarySerializer
from accounts.services import action_take
from config.schema import RATE_LIMITED_RESPONSE
from realtime import presence

from . import selectors, services
from .cards import article_cards, post_cards
from .serializers import (
    AcceptedSerializer,
    ContactPresenceSerializer,
    ContactRequestCreateSerializer,
    ContactRequestSerializer,
    ConversationCreateSerializer,
    ConversationSerializer,
    FromPostSerializer,
    MessageCreateSerializer,
    MessagePageSerializer,
    MessageSerializer,
    PrivateThreadSerializer,
    ReadSerializer,
    UsernameSerializer,
    UsernamesSerializer,
)


class ContactListView(APIView):
    @extend_schema(responses=ContactPresenceSerializer(many=True))
    def get(self, request):
        hidden = blocked_ids(request.user)
        contacts = [contact for contact in contacts_of(request.user) if contact.pk not in hidden]
        context = {"presence": presence.presence_of([c.pk for c in contacts])}
        return Response(ContactPresenceSerializer(contacts, many=True, context=context).data)


class ContactDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, username):
        services.contact_remove(user=request.user, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ContactRequestListView(APIView):
    @extend_schema(
        parameters=[OpenApiParameter("direction", enum=["incoming", "outgoing"], default="incoming")],
        responses=ContactRequestSerializer(many=True),
    )
    def get(self, request):
        direction = request.query_params.get("direction", "incoming")
        if direction not in ("incoming", "outgoing"):
            raise services.ChatError("invalid", "direction must be incoming or outgoing.")
        requests = contact_requests_for(request.user, direction=direction)
        return Response(ContactRequestSerializer(requests, many=True).data)

    @extend_schema(
        request=ContactRequestCreateSerializer, responses={201: ContactRequestSerializer, 429: RATE_LIMITED_RESPONSE}
    )
    def post(self, request):
        serializer = ContactRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        action_take(action="contact-request", user=request.user)
        contact_request, conversation = services.contact_request_send(
            sender=request.user,
            to_username=serializer.validated_data["to"],
            note=serializer.validated_data.get("note", ""),
        )
        body = ContactRequestSerializer(contact_request).data
        if conversation is not None:
            body["conversation_id"] = conversation.pk
        return Response(body, status=status.HTTP_201_CREATED)


class ContactRequestAcceptView(APIView):
    @extend_schema(request=None, responses=AcceptedSerializer)
    def post(self, request, request_id):
        contact_request, conversation = services.contact_request_accept(user=request.user, request_id=request_id)
        return Response({"request": ContactRequestSerializer(contact_request).data, "conversation_id": conversation.pk})


class ContactRequestDeclineView(APIView):
    @extend_schema(request=None, responses=ContactRequestSerializer)
    def post(self, request, request_id):
        contact_request = services.contact_request_decline(user=request.user, request_id=request_id)
        return Response(ContactRequestSerializer(contact_request).data)


class BlockListView(APIView):
    @extend_schema(responses=UserSummarySerializer(many=True))
    def get(self, request):
        return Response(UserSummarySerializer(blocked_by(request.user), many=True).data)

    @extend_schema(request=UsernameSerializer, responses={201: None})
    def post(self, request):
        serializer = UsernameSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.block_create(user=request.user, username=serializer.validated_data["username"])
        return Response(status=status.HTTP_201_CREATED)


class BlockDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, username):
        services.block_delete(user=request.user, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationListView(APIView):
    @extend_schema(responses=ConversationSerializer(many=True))
    def get(self, request):
        conversations = selectors.with_last_messages(request.user, selectors.conversations_for(request.user)[:200])
        return Response(ConversationSerializer(conversations, many=True, context={"viewer": request.user}).data)

    @extend_schema(
        request=ConversationCreateSerializer, responses={200: ConversationSerializer, 201: ConversationSerializer}
    )
    def post(self, request):
        serializer = ConversationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation, created = services.conversation_create(
            creator=request.user,
            usernames=serializer.validated_data["members"],
            title=serializer.validated_data.get("title", ""),
        )
        detail = selectors.conversation_detail(user=request.user, conversation_id=conversation.pk)
        body = ConversationSerializer(detail, context={"viewer": request.user}).data
        return Response(body, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class ConversationDetailView(APIView):
    @extend_schema(responses=ConversationSerializer)
    def get(self, request, conversation_id):
        conversation = selectors.conversation_detail(user=request.user, conversation_id=conversation_id)
        if conversation is None:
            raise services.NotFound()
        return Response(ConversationSerializer(conversation, context={"viewer": request.user}).data)


def _int_param(request, name: str) -> int | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        number = int(value)
    except ValueError:
        raise services.ChatError("invalid", f"{name} must be a message id.") from None
    if number < 0:
        raise services.ChatError("invalid", f"{name} must be a message id.")
    return number


class MessageListView(APIView):
    @extend_schema(
        parameters=[
            OpenApiParameter("before", int),
            OpenApiParameter("after", int),
            OpenApiParameter(
                "around",
                int,
                description="A message id: the page holds it (when the viewer sees it) with the messages "
                "just before and after it, as a search result opens the conversation there.",
            ),
            OpenApiParameter("limit", int, description=f"1–{selectors.MAX_MESSAGE_PAGE}"),
        ],
        responses=MessagePageSerializer,
    )
    def get(self, request, conversation_id):
        conversation = services.check_member_conversation(user=request.user, conversation_id=conversation_id)
        before, after = _int_param(request, "before"), _int_param(request, "after")
        around = _int_param(request, "around")
        limit = _int_param(request, "limit") or selectors.MESSAGE_PAGE
        limit = max(1, min(limit, selectors.MAX_MESSAGE_PAGE))
        if around is not None:
            page = selectors.message_page_around(
                viewer=request.user, conversation=conversation, around=around, limit=limit
            )
        else:
            page = selectors.message_page(
                viewer=request.user, conversation=conversation, before=before, after=after, limit=limit
            )
        rows = page["results"]
        base = request.build_absolute_uri(request.path)
        older = f"{base}?before={rows[0].id}&limit={limit}" if page["has_older"] and rows else None
        newer = f"{base}?after={rows[-1].id}&limit={limit}" if page["has_newer"] and rows else None
        context = {
            "cards": post_cards(request.user, [row.shared_post_id for row in rows]),
            "article_cards": article_cards(request.user, [row.shared_article_id for row in rows]),
            "replies_seen": selectors.replies_seen(request.user, rows),
            "played": selectors.voice_played_ids(request.user, rows),
            "viewer": request.user,
        }
        results = MessageSerializer(rows, many=True, context=context).data
        return Response({"results": results, "older": older, "newer": newer})

    @extend_schema(
        request=MessageCreateSerializer,
        responses={200: MessageSerializer, 201: MessageSerializer, 429: RATE_LIMITED_RESPONSE},
    )
    def post(self, request, conversation_id):
        conversation = services.check_member_conversation(user=request.user, conversation_id=conversation_id)
        action_take(action="message", user=request.user)
        data = request.data
        message, created = services.message_send(
            sender=request.user,
            conversation=conversation,
            body=data.get("body"),
            client_id=data.get("client_id"),
            reply_to=data.get("reply_to"),
            shared_post=data.get("shared_post"),
            media=data.get("media"),
            shared_article=data.get("shared_article"),
        )
        body = MessageSerializer(message, context={"viewer": request.user}).data
        return Response(body, status=status.HTTP_201_CREATED if created else 200)


class ReadView(APIView):
    @extend_schema(request=ReadSerializer, responses={204: None})
    def post(self, request, conversation_id):
        conversation = services.check_member_conversation(user=request.user, conversation_id=conversation_id)
        services.conversation_read(user=request.user, conversation=conversation, up_to=request.data.get("up_to"))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MembersView(APIView):
    @extend_schema(request=UsernamesSerializer, responses=ConversationSerializer)
    def post(self, request, conversation_id):
        conversation = services.check_member_conversation(user=request.user, conversation_id=conversation_id)
        services.group_members_add(
            user=request.user, conversation=conversation, usernames=request.data.get("usernames")
        )
        detail = selectors.conversation_detail(user=request.user, conversation_id=conversation.pk)
        return Response(ConversationSerializer(detail, context={"viewer": request.user}).data)


class MemberDetailView(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, conversation_id, username):
        conversation = services.check_member_conversation(user=request.user, conversation_id=conversation_id)
        services.group_member_remove(user=request.user, conversation=conversation, username=username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RecallView(APIView):
    @extend_schema(request=None, responses=MessageSerializer)
    def post(self, request, message_id):
        message = services.message_recall(user=request.user, message_id=message_id)
        return Response(MessageSerializer(message, context={"viewer": request.user}).data)


class PlayedView(APIView):
    @extend_schema(
        request=None,
        responses=MessageSerializer,
        description="Marks a voice message played by you (its unplayed dot goes, in your other tabs too: "
        "`message.played`). Idempotent; your own voice messages are always played to you. 404 for a message "
        "you do not see, 400 `not_voice` for one without a voice clip (a recalled one among them).",
    )
    def post(self, request, message_id):
        message = services.voice_played(user=request.user, message_id=message_id)
        return Response(MessageSerializer(message, context={"viewer": request.user}).data)


class HideView(APIView):
    @extend_schema(
        request=None,
        responses={204: None},
        description='Deletes a message for you only ("delete for me"): your own or another\'s, recalled or '
        "not. It leaves your history, replays, chat list and search; your other tabs remove it "
        "(`message.hidden`); the other members see no change. Idempotent. 404 for a message you do not see.",
    )
    def post(self, request, message_id):
        services.message_hide(actor=request.user, message_id=message_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationMuteView(APIView):
    """POST mutes the conversation for you, DELETE unmutes (both idempotent); both answer with it."""

    def _set(self, request, conversation_id, muted: bool) -> Response:
        conversation = services.check_member_conversation(user=request.user, conversation_id=conversation_id)
        services.conversation_mute(user=request.user, conversation=conversation, muted=muted)
        detail = selectors.conversation_detail(user=request.user, conversation_id=conversation.pk)
        return Response(ConversationSerializer(detail, context={"viewer": request.user}).data)

    @extend_schema(request=None, responses=ConversationSerializer)
    def post(self, request, conversation_id):
        return self._set(request, conversation_id, True)

    @extend_schema(responses=ConversationSerializer)
    def delete(self, request, conversation_id):
        return self._set(request, conversation_id, False)


class ConversationFromPostView(APIView):
    @extend_schema(request=FromPostSerializer, responses={201: PrivateThreadSerializer})
    def post(self, request):
        serializer = FromPostSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        thread = services.conversation_from_post(
            creator=request.user,
            post_id=serializer.validated_data["post"],
            usernames=serializer.validated_data["members"],
        )
        detail = selectors.conversation_detail(user=request.user, conversation_id=thread.conversation.pk)
        body = {
            "conversation": ConversationSerializer(detail, context={"viewer": request.user}).data,
            "invited": [person.username for person in thread.invited],
        }
        return Response(body, status=status.HTTP_201_CREATED)
