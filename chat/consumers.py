"""The one WebSocket per client, `/ws/`: every event of the user, and the chat frames.

The socket joins its user's group before it accepts, so an event published right
after the handshake is not missed. Frames are JSON text, each with a `type`.
"""

import orjson
from channels.generic.websocket import AsyncWebsocketConsumer

from realtime.groups import user_group

from .origins import origin_allowed

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
MAX_FRAME_CHARS = 16_000


class FrameError(Exception):
    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code = code
        self.detail = detail


class TandemConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        self.user = self.scope.get("user")
        self.credential = self.scope.get("credential")
        if self.user is None or not self.user.is_authenticated:
            # Accept first: closing before accept makes daphne answer HTTP 403 with no code.
            await self.accept()
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        cookie_authenticated = not (self.credential or "").startswith("token:")
        if cookie_authenticated and not origin_allowed(self.scope.get("headers", [])):
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN_ORIGIN)
            return
        self.group = user_group(self.user.pk)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        if getattr(self, "group", None):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None):
        client_id = None
        try:
            frame = self.decode(text_data)
            client_id = frame.get("client_id") if isinstance(frame.get("client_id"), str) else None
            handler = self.handlers.get(frame.get("type"))
            if handler is None:
                raise FrameError("unknown_type", "Unknown frame type.")
            await handler(self, frame)
        except FrameError as error:
            body = {"type": "error", "code": error.code, "detail": error.detail}
            if client_id is not None:
                body["client_id"] = client_id
            await self.send_frame(body)

    @staticmethod
    def decode(text_data: str | None) -> dict:
        if text_data is None:
            raise FrameError("bad_frame", "Frames must be JSON text.")
        if len(text_data) > MAX_FRAME_CHARS:
            raise FrameError("too_long", f"Frames are limited to {MAX_FRAME_CHARS} characters.")
        try:
            frame = orjson.loads(text_data)
        except orjson.JSONDecodeError:
            raise FrameError("bad_json", "Frames must be valid JSON.") from None
        if not isinstance(frame, dict):
            raise FrameError("bad_frame", "A frame is a JSON object with a `type`.")
        return frame

    async def send_frame(self, body: dict) -> None:
        await self.send(text_data=orjson.dumps(body).decode())

    async def handle_ping(self, frame: dict) -> None:
        await self.send_frame({"type": "pong"})

    handlers = {"ping": handle_ping}

    # Channel-layer messages, addressed by `type`.

    async def event_push(self, message: dict) -> None:
        await self.send(text_data=message["text"])

    async def auth_revoked(self, message: dict) -> None:
        if message["credential"] == self.credential:
            await self.close(code=CLOSE_UNAUTHENTICATED)
