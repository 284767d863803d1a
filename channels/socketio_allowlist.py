"""Rasa's socket.io channel with an Origin allowlist and working custom payloads.

Rasa 3.6's SocketIOInput builds its AsyncServer with ``cors_allowed_origins=[]``,
which makes engine.io skip the Origin check entirely: any web page could open a
socket to the bot. Here the allowed origins come from (first match wins)
the env var CHAT_ALLOWED_ORIGINS, the credentials entry ``cors_allowed_origins``,
or DEFAULT_ORIGINS. engine.io then refuses a handshake whose Origin header is
not listed (non-browser clients send no Origin and are not affected).

The stock SocketIOOutput.send_custom_json calls ``sio.emit(evt, **payload)``,
which raises TypeError for any payload key that is not an emit() argument
(``kind``, ``text``...). Our output emits ``{"custom": payload}`` instead, the
same shape the REST channel uses.

`rasa run --cors` makes Sanic-CORS add its own Access-Control-Allow-Origin to
every route, so engine.io's polling responses carried the header twice and
browsers refused them (websocket was unaffected). The socket.io path answers
CORS itself, from the allowlist, and Sanic-CORS is told to skip it.

python-socketio 5.x made AsyncServer.enter_room a coroutine; rasa 3.6 calls it
without await, so with session_persistence the socket never joins its session
room and replies sent to the session go nowhere. We await it.

Live chat: messages pass the takeover gate first (channels/live.py), and the
console pushes agents' messages to the session room through this server.

Sessions belong to the browser that got them: the server issues the id with a
signed token (channels/session_tokens.py); a socket joins a session's room only
with its token and may send only into rooms it joined.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeGuard, cast

import rasa.core.channels.channel
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer

from assistant.handoff import replies as handoff_replies
from assistant.settings import get_settings

from . import console_doors, exactly_once, privacy, session_tokens
from .intake import intake
from .live import live_chat

logger = logging.getLogger(__name__)

ENV_VAR = "CHAT_ALLOWED_ORIGINS"
DEFAULT_ORIGINS = ["http://localhost:8080", "http://127.0.0.1:8080"]
MAX_SESSION_ID = 64  # session ids are room names and tracker ids: keep them sane


def parse_origins(value: Any) -> list[str]:
    """A list, or a comma-separated string, of origins; blanks dropped."""
    if value is None:
        return []
    items = value.split(",") if isinstance(value, str) else list(value)
    return [str(o).strip().rstrip("/") for o in items if str(o).strip()]


def allowed_origins(credentials: dict[str, Any] | None = None) -> list[str]:
    origins = parse_origins(get_settings().chat_allowed_origins) or parse_origins(
        (credentials or {}).get("cors_allowed_origins")
    )
    origins = origins or list(DEFAULT_ORIGINS)
    if "*" in origins:
        # Only ever by explicit choice: any site could then talk to the bot.
        logger.warning("socket.io accepts every Origin ('*' in %s / credentials)", ENV_VAR)
    return origins


METADATA_ENV_VAR = "CHAT_MAX_METADATA_BYTES"
DEFAULT_MAX_METADATA_BYTES = 4096


def max_metadata_bytes() -> int:
    return get_settings().chat_max_metadata_bytes


def bounded_metadata(raw: Any) -> dict[str, Any]:
    """A message's ``metadata`` as stored in the tracker: a JSON object of at most
    CHAT_MAX_METADATA_BYTES (4 kB) once encoded, else none at all (900 kB of it on
    every message made a conversation's turns six times slower)."""
    limit = max_metadata_bytes()
    if isinstance(raw, str):
        if len(raw) > limit * 4:
            raw = None
        else:
            try:
                raw = json.loads(raw)
            except ValueError:
                raw = None
    if not isinstance(raw, dict) or not raw:
        return {}
    try:
        size = len(json.dumps(raw, ensure_ascii=False).encode("utf-8"))
    except (TypeError, ValueError):
        return {}
    if size > limit:
        logger.warning(
            "socket.io metadata of %d bytes dropped (%s=%d)", size, METADATA_ENV_VAR, limit
        )
        return {}
    return raw


def valid_session_id(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_SESSION_ID and value.isprintable()


# -- scale-out: socket.io emits shared through Redis ------------------------------
REDIS_ENV_VAR = "SOCKETIO_REDIS_URL"


def redis_client_manager() -> dict[str, Any]:
    """With SOCKETIO_REDIS_URL (e.g. redis://127.0.0.1:6379/2) set, python-socketio's
    Redis manager carries every emit to all Rasa servers, so a message emitted on
    one server (an agent's reply from the console) reaches a socket held by
    another. Unset: one server, emits stay in the process."""
    url = get_settings().socketio_redis_url
    if not url:
        return {}
    from socketio import AsyncRedisManager

    logger.info("socket.io emits shared through Redis (%s)", REDIS_ENV_VAR)
    return {"client_manager": AsyncRedisManager(url)}


# -- end scale-out ---------------------------------------------------------------


SANIC_CORS_DONE = "_sanic_cors_e"  # sanic_cors.core.SANIC_CORS_EVALUATED


class AllowlistSocketBlueprint(SocketBlueprint):
    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        super().register(app, options)
        path = self.ctx.socketio_path

        async def engineio_does_cors(request: Request) -> None:
            if request.path.rstrip("/") == path.rstrip("/"):
                setattr(request.ctx, SANIC_CORS_DONE, True)

        app.register_middleware(engineio_does_cors, "request")


class AllowlistSocketIOOutput(SocketIOOutput):
    sent = 0  # messages sent for this user message (channels/live.py: no silent turns)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        self.sent += 1
        await super().send_response(recipient_id, message)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        await self.sio.emit(self.bot_message_evt, {"custom": json_message}, room=recipient_id)


class SocketIOAllowlistInput(SocketIOInput):
    """socket.io input channel that only accepts browsers from allowed origins."""

    @classmethod
    def name(cls) -> str:
        # Same name as the stock channel: trackers, metadata and the
        # /webhooks/socketio health route stay what clients expect.
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> SocketIOAllowlistInput:
        credentials = credentials or {}
        channel = cast(SocketIOAllowlistInput, super().from_credentials(credentials))
        channel.cors_allowed_origins = allowed_origins(credentials)
        return channel

    def __init__(self, *args: Any, cors_allowed_origins: list[str] | None = None, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.cors_allowed_origins = cors_allowed_origins or allowed_origins()

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return super().get_output_channel()  # logs rasa's warning, returns None
        return AllowlistSocketIOOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Same protocol as rasa.core.channels.socketio.SocketIOInput.blueprint
        (session_request → session_confirm, user_message_evt → bot_message_evt),
        but with the Origin allowlist and the fixed output channel."""
        sio = AsyncServer(
            async_mode="sanic",
            cors_allowed_origins=self.cors_allowed_origins,
            **redis_client_manager(),
        )
        bp = AllowlistSocketBlueprint(
            sio,
            self.socketio_path,  # type: ignore[arg-type]  # Optional in Rasa, which passes it the same way
            "socketio_webhook",
            __name__,
        )
        self.sio = sio
        # A conversation an agent owns goes to the agent, not to Rasa (channels/live.py);
        # agents' messages are pushed to the session room through this server.
        live = live_chat()
        live.attach_socketio(sio, self.namespace, self.bot_message_evt)
        on_new_message = privacy.guard(
            live.gate(on_new_message)
        )  # masked before anything stores it
        logger.info("socket.io allowed origins: %s", ", ".join(self.cors_allowed_origins))

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        limits = intake()
        clients: dict[str, str] = {}  # sid → real client address (rate limits)

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: dict, auth: dict | None) -> bool:
            request = environ.get("sanic.request")  # engine.io's REMOTE_ADDR is a constant
            peer = getattr(request, "ip", "") or ""
            clients[sid] = limits.client(peer, environ.get("HTTP_X_FORWARDED_FOR"))
            if not self.jwt_key:
                return True
            token = auth.get("token") if isinstance(auth, dict) else None
            payload = (
                rasa.core.channels.channel.decode_bearer_token(
                    token,
                    self.jwt_key,
                    self.jwt_algorithm,  # type: ignore[arg-type]  # Optional in Rasa, passed as Rasa does
                )
                if token
                else None
            )
            return bool(payload)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Any) -> None:
            """Rejoin a session by presenting its id and token, else get a new one
            (``session_token`` with both, then Rasa's ``session_confirm``)."""
            data = data if isinstance(data, dict) else {}
            session_id, token = data.get("session_id"), data.get("token")
            if session_tokens.verified(session_id, token):
                token = session_tokens.refreshed(
                    session_id, token
                )  # rotated once it is an hour old
            else:
                session_id, token = session_tokens.new_session()
            if self.session_persistence:
                await sio.enter_room(sid, session_id, namespace=self.namespace)
            await sio.emit(
                "session_token",
                {"session_id": session_id, "token": token},
                room=sid,
                namespace=self.namespace,
            )
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            clients.pop(sid, None)

        @sio.on("agent_sync", namespace=self.namespace)
        async def agent_sync(sid: str, data: Any) -> None:
            """A (re)connected widget asks for agents' messages it has not shown yet
            (``after`` = the highest message id it has). Only for the session this
            socket joined: the room is the proof it holds that session."""
            if not isinstance(data, dict) or not valid_session_id(data.get("session_id")):
                return
            session_id = data["session_id"]
            if session_id not in sio.rooms(sid, namespace=self.namespace):
                logger.warning("agent_sync for a session this socket did not join: refused")
                return
            after = data.get("after")
            await live.resend(session_id, after if isinstance(after, int) and after > 0 else 0, sid)

        @sio.on("csat", namespace=self.namespace)
        async def csat(sid: str, data: Any) -> None:
            """The widget's satisfaction question after a conversation (data-csat="true"):
            ``{"session_id", "asked": true}`` when shown, ``{"session_id", "score": 1-5}``
            when answered. Only for the session this socket joined (docs/analytics.md)."""
            if not isinstance(data, dict) or not valid_session_id(data.get("session_id")):
                return
            session_id = data["session_id"]
            if session_id not in sio.rooms(sid, namespace=self.namespace):
                return
            score = data.get("score")
            if data.get("asked") is True:
                await live.record_csat(session_id, self.name(), None)
            elif isinstance(score, int) and not isinstance(score, bool) and 1 <= score <= 5:
                await live.record_csat(session_id, self.name(), score)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            if not isinstance(data, dict):
                return
            if self.session_persistence:
                sender_id = data.get("session_id")
                if not valid_session_id(sender_id) or sender_id not in sio.rooms(
                    sid, namespace=self.namespace
                ):
                    # Only into a session this socket joined with its token.
                    logger.warning(
                        "socket.io message into a session this socket does not hold: refused"
                    )
                    await sio.emit("session_invalid", {}, room=sid, namespace=self.namespace)
                    return
            else:
                sender_id = sid
            wait = limits.wait(sender_id, clients.get(sid, ""))
            if wait:
                reply = handoff_replies.rate_limited(wait)
                await sio.emit(
                    self.bot_message_evt,
                    {"text": reply.text, "custom": reply.payload},
                    room=sid,
                    namespace=self.namespace,
                )
                return
            metadata = console_doors.with_client_key(
                bounded_metadata(data.get(self.metadata_key)), clients.get(sid, "")
            )
            text = data.get("message")
            message = UserMessage(
                limits.cap(text if isinstance(text, str) else ""),
                AllowlistSocketIOOutput(sio, self.bot_message_evt),
                sender_id,
                input_channel=self.name(),
                metadata=metadata,
            )
            # replies held until the turn is stored; the widget's message id (exactly_once.py)
            await exactly_once.handle_socketio_message(
                sio,
                sid,
                self.namespace,
                self.bot_message_evt,
                message,
                data.get("message_id"),
                on_new_message,
            )

        return bp
