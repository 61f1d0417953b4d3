"""REST endpoints for accounts: register, token, logout, me."""

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from config.schema import RATE_LIMITED_RESPONSE

from . import services
from .serializers import (
    MeSerializer,
    RegisteredSerializer,
    RegisterSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)

BAD_CREDENTIALS = "Unable to log in with the given username and password."


class RegisterView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=RegisterSerializer, responses={201: RegisteredSerializer, 429: RATE_LIMITED_RESPONSE})
    def post(self, request):
        services.registration_check(client_address=services.client_address(request))
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        token = services.token_for(user=user)
        body = {"user": MeSerializer(user).data, "token": token.key}
        return Response(body, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(request=TokenRequestSerializer, responses={200: TokenSerializer, 429: RATE_LIMITED_RESPONSE})
    def post(self, request):
        serializer = TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_authenticate(
            request=request._request,
            client_address=services.client_address(request),
            **serializer.validated_data,
        )
        if user is None:
            raise ValidationError({"non_field_errors": [BAD_CREDENTIALS]})
        return Response({"token": services.token_for(user=user).key})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(user=request.user)
        if request.session.session_key:
            logout(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    @extend_schema(responses=MeSerializer)
    def get(self, request):
        return Response(MeSerializer(request.user).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request):
        serializer = MeSerializer(request.user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        if "avatar_id" in changes:
            changes["avatar"] = changes.pop("avatar_id")
        services.profile_update(user=request.user, **changes)
        return Response(MeSerializer(request.user).data)
