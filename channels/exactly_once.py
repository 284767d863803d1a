"""Exactly once on both customer channels (docs/reliability.md).

REST: a client message id (``message_id`` in the body or an ``Idempotency-Key`` header)
is claimed in the receipts table (assistant/receipts.py, in the tracker store's database
shared by every server). A retry with the same id gets the stored reply (header
``Idempotent-Replayed: true``) and is not processed again; a retry while the first
attempt is still running waits for it (up to BUSY_WAIT s, then 503 + Retry-After); an id
another sender used → 400. A turn that fails (the tracker store or the lock store down:
rasa_runtime/loud_store.py makes such errors reach us) → 503, retryable, and the
receipt is released, so the retry processes the message; if the turn had been stored
after all, the retry gets the stored turn's reply.

socket.io: the replies of a turn are held until the turn is stored (Rasa saves the
tracker after its output channel has sent them; here the output only records them), then
emitted with ``reply_to`` = the widget's message id, followed by ``message_ack``. A turn
that fails emits ``message_failed`` (the widget re-sends with the same id) and nothing of
the half-done turn. The widget keeps unacknowledged messages in localStorage and re-sends
them with the same ids after a reconnect; a re-sent id that is done gets its stored
replies again (``replay: true``) and the ack.

Kept apart from channels/rest.py and socketio_allowlist.py: those call `wrap`,
`install_rest` and `handle_socketio_message` only.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.shared.core.events import BotUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy import create_engine
from sqlalchemy import text as sql_text

from assistant.receipts import LEASE_SECONDS, Claim, ReceiptStore, message_id_problem, ttl_hours

logger = logging.getLogger(__name__)
T = TypeVar("T")

BUSY_WAIT = 15.0  # s a retry waits for the first attempt of the same id
POLL = 0.1
HEADER = "idempotency-key"
UNAVAILABLE = {
    "error": "unavailable",
    "retryable": True,
    "reason": "the message could not be processed; send it again with the same message_id",
}


@dataclass
class Turn:
    sender: str
    message_id: str | None
    failed: bool = False
    done: bool = False  # answered without processing (replay): nothing to settle
    renewer: asyncio.Task | None = None


_turn: contextvars.ContextVar[Turn | None] = contextvars.ContextVar(
    "exactly_once_turn", default=None
)
_store: ReceiptStore | None = None


def _tracker_engine(app: Any) -> Any:
    agent = getattr(getattr(app, "ctx", None), "agent", None)
    store = getattr(agent, "tracker_store", None)
    inner = getattr(store, "_tracker_store", store)  # FailSafeTrackerStore wraps the real one
    return getattr(inner, "engine", None)


def receipts(app: Any) -> ReceiptStore:
    """The receipts in the tracker store's database (one per process)."""
    global _store
    if _store is None:
        engine = _tracker_engine(app)
        if engine is None:
            logger.warning(
                "tracker store is not SQL: message ids are deduplicated in this process only"
            )
            engine = create_engine(
                "sqlite://",
                future=True,
                connect_args={"check_same_thread": False},
                poolclass=__import__("sqlalchemy").pool.StaticPool,
            )
        _store = ReceiptStore(engine, ttl_hours())
    return _store


async def _db(fn: Callable[..., T], *args: Any) -> T:
    return await asyncio.to_thread(fn, *args)


async def claim(app: Any, message_id: str, sender: str, channel: str) -> Claim:
    """Claim the id; while another attempt holds it, wait up to BUSY_WAIT for its end."""
    store = receipts(app)
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        found: Claim = await _db(store.claim, message_id, sender, channel)
        if found.outcome != "busy" or time.monotonic() > deadline:
            return found
        await asyncio.sleep(POLL)


async def _renew(store: ReceiptStore, message_id: str) -> None:
    while True:
        await asyncio.sleep(LEASE_SECONDS / 3)
        try:
            await _db(store.renew, message_id)
        except Exception as exc:  # noqa: BLE001 any driver error: the database may be restarting, try again next time
            logger.warning("receipt renewal failed: %s", exc)


def stored_events(app: Any, sender: str, message_id: str) -> list[dict[str, Any]] | None:
    """The events from the user message with this id on, if its turn was stored (None:
    not stored). Raises when the tracker store cannot be read."""
    engine = _tracker_engine(app)
    if engine is None:
        return None
    pattern = f'%"message_id": "{message_id}"%'  # ids are [A-Za-z0-9._:-]: no LIKE escapes
    with engine.connect() as conn:
        first = conn.execute(
            sql_text(
                "SELECT min(id) FROM events"
                " WHERE sender_id = :s AND type_name = 'user' AND data LIKE :p"
            ),
            {"s": sender, "p": pattern},
        ).scalar()
        if first is None:
            return None
        rows = conn.execute(
            sql_text("SELECT data FROM events WHERE sender_id = :s AND id >= :first ORDER BY id"),
            {"s": sender, "first": first},
        ).all()
    events = [json.loads(r[0]) for r in rows]
    turn = events[:1]
    for event in events[1:]:
        if event.get("event") == "user":
            break
        turn.append(event)
    return turn


async def replies_of(output: Any, sender: str, events: list[dict[str, Any]]) -> None:
    """Send the bot utterances of a stored turn again through ``output`` (as Rasa sent them)."""
    for event in events:
        if event.get("event") == "bot":
            bot = BotUttered(
                event.get("text"), event.get("data") or {}, event.get("metadata") or {}
            )
            await output.send_response(sender, bot.message())


def wrap(
    handler: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """The channel's handler: the client's message id becomes the UserUttered event's
    message_id (so a stored turn can be found), and a failure is noted for the reply."""

    async def handle(message: UserMessage) -> Any:
        turn = _turn.get()
        if turn is not None and turn.message_id:
            message.message_id = turn.message_id
        try:
            return await handler(message)
        except BaseException:
            if turn is not None:
                turn.failed = True
            raise

    return handle


# --- REST -------------------------------------------------------------------------------


def _error(reason: str) -> HTTPResponse:
    return response.json({"error": "bad_request", "reason": reason}, status=400, ensure_ascii=False)


def _unavailable(wait: int = 1) -> HTTPResponse:
    return response.json(UNAVAILABLE, status=503, headers={"Retry-After": str(wait)})


def rest_message_id(request: Request, body: dict[str, Any]) -> tuple[str | None, str | None]:
    """(message id or None, problem or None)."""
    in_body, in_header = body.get("message_id"), request.headers.get(HEADER)
    if in_body is not None and in_header is not None and in_body != in_header:
        return None, "message_id and Idempotency-Key differ"
    value = in_body if in_body is not None else in_header
    if value is None:
        return None, None
    return value, message_id_problem(value)


def install_rest(bp: Blueprint) -> None:
    """Register the message-id middleware on the REST blueprint (after the body checks)."""

    @bp.middleware("request")
    async def exactly_once_request(request: Request) -> HTTPResponse | None:
        if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
            return None
        body = request.json  # checked by the body middleware registered before this one
        message_id, problem = rest_message_id(request, body)
        if problem:
            return _error(problem)
        turn = Turn(body["sender"], message_id)
        request.ctx.exactly_once = turn
        _turn.set(turn)
        if message_id is None:
            return None
        try:
            found = await claim(request.app, message_id, turn.sender, "rest")
            if found.outcome == "takeover":
                events = await _db(stored_events, request.app, turn.sender, message_id)
                if events is not None:  # the first attempt's turn was stored: its reply
                    collector = CollectingOutputChannel()
                    await replies_of(collector, turn.sender, events)
                    await _db(receipts(request.app).finish, message_id, collector.messages)
                    found = Claim("done", collector.messages)
        except Exception as exc:  # noqa: BLE001 receipts unreadable (any driver error): the database is down
            logger.error("message receipt check failed: %s", exc)
            turn.done = True
            return _unavailable()
        if found.outcome == "other_sender":
            turn.done = True
            return _error("message_id was already used by another sender")
        if found.outcome == "busy":
            turn.done = True
            return _unavailable(2)
        if found.outcome == "done":
            turn.done = True
            return response.json(found.reply, headers={"Idempotent-Replayed": "true"})
        turn.renewer = asyncio.get_running_loop().create_task(
            _renew(receipts(request.app), message_id)
        )
        return None

    @bp.middleware("response")
    async def exactly_once_response(request: Request, resp: HTTPResponse) -> HTTPResponse | None:
        turn: Turn | None = getattr(request.ctx, "exactly_once", None)
        if turn is None or turn.done:
            return None
        turn.done = True
        if turn.renewer is not None:
            turn.renewer.cancel()
        if not turn.failed:
            if turn.message_id and resp.status == 200:
                try:
                    await _db(
                        receipts(request.app).finish, turn.message_id, json.loads(resp.body or b"")
                    )
                except Exception as exc:  # noqa: BLE001 the turn is stored: a retry finds it in the tracker
                    logger.error("message receipt not saved (%s): %s", turn.message_id, exc)
            return None
        return await _settle_failure(request.app, turn) or _unavailable()


async def _settle_failure(app: Any, turn: Turn) -> HTTPResponse | None:
    """After a failed turn: its reply if it was stored anyway, else release the id."""
    if not turn.message_id:
        return None
    try:
        events = await _db(stored_events, app, turn.sender, turn.message_id)
        if events is None:
            await _db(receipts(app).release, turn.message_id)
            return None
        collector = CollectingOutputChannel()
        await replies_of(collector, turn.sender, events)
        await _db(receipts(app).finish, turn.message_id, collector.messages)
        return response.json(collector.messages)
    except Exception as exc:  # noqa: BLE001 the database is down: the lease runs out, a retry takes over
        logger.error("failed turn not settled (%s): %s", turn.message_id, exc)
        return None


# --- socket.io --------------------------------------------------------------------------


@dataclass
class Recorder:
    """Stands in for the socket.io server in a turn's output channel: records emits."""

    calls: list[tuple[str, Any, dict[str, Any]]] = field(default_factory=list)

    async def emit(self, event: str, data: Any = None, **kwargs: Any) -> None:
        self.calls.append((event, data, kwargs))


async def handle_socketio_message(
    sio: Any,
    sid: str,
    namespace: str | None,
    bot_message_evt: str,
    message: UserMessage,
    message_id: Any,
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> None:
    """One widget message: claim its id, run the turn with the output recorded, emit the
    replies only after the turn is stored, then ``message_ack``."""
    app = _app()
    sender = message.sender_id
    if message_id is not None:
        problem = message_id_problem(message_id)
        if problem:
            await sio.emit(
                "message_refused",
                {"message_id": None, "reason": problem},
                room=sid,
                namespace=namespace,
            )
            return
        try:
            found = await claim(app, message_id, sender, "socketio")
            if found.outcome == "takeover":
                events = await _db(stored_events, app, sender, message_id)
                if events is not None:
                    found = Claim(
                        "done",
                        await _record_replies(
                            type(message.output_channel), bot_message_evt, sender, events
                        ),
                    )
                    await _db(receipts(app).finish, message_id, found.reply)
        except Exception as exc:  # noqa: BLE001 receipts unreadable (any driver error): the database is down
            logger.error("message receipt check failed: %s", exc)
            await sio.emit(
                "message_failed",
                {"message_id": message_id, "retry_after": 2},
                room=sid,
                namespace=namespace,
            )
            return
        if found.outcome == "other_sender":
            await sio.emit(
                "message_refused",
                {"message_id": message_id, "reason": "message_id was already used"},
                room=sid,
                namespace=namespace,
            )
            return
        if found.outcome == "busy":
            await sio.emit(
                "message_failed",
                {"message_id": message_id, "retry_after": 2},
                room=sid,
                namespace=namespace,
            )
            return
        if found.outcome == "done":
            for event, data in found.reply or []:
                await sio.emit(
                    event,
                    {**data, "reply_to": message_id, "replay": True},
                    room=sid,
                    namespace=namespace,
                )
            await sio.emit("message_ack", {"message_id": message_id}, room=sid, namespace=namespace)
            return
        message.message_id = message_id
    recorder = Recorder()
    message.output_channel.sio = recorder  # type: ignore[attr-defined]  # AllowlistSocketIOOutput emits through .sio
    renewer = (
        asyncio.get_running_loop().create_task(_renew(receipts(app), message_id))
        if message_id
        else None
    )
    try:
        await on_new_message(message)
    except Exception as exc:  # noqa: BLE001 whatever failed, the turn is settled and the client told
        logger.error("socket.io turn failed (%s): %s", message_id, exc)
        if renewer:
            renewer.cancel()
        settled = None
        if message_id:
            settled = await _settle_socketio_failure(
                app, type(message.output_channel), bot_message_evt, sender, message_id
            )
        if settled is None:
            await sio.emit(
                "message_failed",
                {"message_id": message_id, "retry_after": 2},
                room=sid,
                namespace=namespace,
            )
            return
        recorded = settled
    else:
        if renewer:
            renewer.cancel()
        recorded = [(event, data) for event, data, _ in recorder.calls]
        if message_id:
            try:
                await _db(receipts(app).finish, message_id, recorded)
            except Exception as exc:  # noqa: BLE001 stored in the tracker: a re-send finds it there
                logger.error("message receipt not saved (%s): %s", message_id, exc)
    # the turn is stored: now the customer sees it (in the session's room, as Rasa sends)
    for event, data in recorded:
        out = {**data, "reply_to": message_id} if message_id and isinstance(data, dict) else data
        await sio.emit(event, out, room=sender, namespace=namespace)
    if message_id:
        await sio.emit("message_ack", {"message_id": message_id}, room=sid, namespace=namespace)


async def _record_replies(
    output_class: Any, bot_message_evt: str, sender: str, events: list[dict[str, Any]]
) -> list[tuple[str, Any]]:
    """A stored turn's replies as the channel's output (``output_class``) emits them."""
    recorder = Recorder()
    await replies_of(output_class(recorder, bot_message_evt), sender, events)
    return [(event, data) for event, data, _ in recorder.calls]


async def _settle_socketio_failure(
    app: Any, output_class: Any, bot_message_evt: str, sender: str, message_id: str
) -> list[tuple[str, Any]] | None:
    try:
        events = await _db(stored_events, app, sender, message_id)
        if events is None:
            await _db(receipts(app).release, message_id)
            return None
        recorded = await _record_replies(output_class, bot_message_evt, sender, events)
        await _db(receipts(app).finish, message_id, recorded)
        return recorded
    except Exception as exc:  # noqa: BLE001 the database is down: the lease runs out, a retry takes over
        logger.error("failed turn not settled (%s): %s", message_id, exc)
        return None


def _app() -> Any:
    from sanic import Sanic

    from .live import live_chat

    app = live_chat().app
    return app if app is not None else Sanic.get_app()
