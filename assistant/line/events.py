"""A LINE webhook body → the events the channel acts on (pure).

Only what we need is read; anything else is ``ignore`` with a reason, never an
exception: LINE adds event types and fields over time.

* 1:1 chats (``source.type == "user"``) are served. Group and multi-person chats
  are not (a contact-center conversation is one customer's): a ``join`` gets one
  note saying so, their messages are ignored.
* ``mode == "standby"`` (another channel owns the chat, e.g. LINE's own chat
  module) → ignored: we must not answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

SENDER_PREFIX = "line:"
MAX_POSTBACK = 300  # LINE's limit for postback data
KINDS = ("text", "postback", "follow", "unfollow", "non_text", "join", "ignore")


@dataclass(frozen=True)
class Event:
    kind: str  # one of KINDS
    event_id: str | None  # webhookEventId (ULID); None in very old payloads
    redelivery: bool
    user_id: str | None
    reply_token: str | None
    text: str = ""  # text message or postback data
    timestamp: int = 0  # ms since epoch, as LINE sent it
    reason: str = ""  # why ignored

    @property
    def sender_id(self) -> str | None:
        return sender_id(self.user_id) if self.user_id else None


def sender_id(user_id: str) -> str:
    return SENDER_PREFIX + user_id


def is_line_sender(sender: Any) -> bool:
    return isinstance(sender, str) and sender.lower().startswith(SENDER_PREFIX)


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse(body: Any) -> list[Event]:
    """Events of a webhook body; ``[]`` for the console's URL check (``events: []``).
    Raises ValueError only when the body is not a webhook body at all."""
    if not isinstance(body, dict) or not isinstance(body.get("events"), list):
        raise ValueError("not a LINE webhook body (no events list)")
    return [parse_event(e) for e in body["events"]]


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def parse_event(raw: Any) -> Event:
    if not isinstance(raw, dict):
        return Event("ignore", None, False, None, None, reason="not an object")
    source = _obj(raw.get("source"))
    delivery = _obj(raw.get("deliveryContext"))
    base: dict[str, Any] = {
        "event_id": _str(raw.get("webhookEventId")),
        "redelivery": delivery.get("isRedelivery") is True,
        "user_id": _str(source.get("userId")),
        "reply_token": _str(raw.get("replyToken")),
        "timestamp": raw.get("timestamp") if isinstance(raw.get("timestamp"), int) else 0,
    }
    etype = raw.get("type")
    if raw.get("mode") == "standby":
        return Event("ignore", **base, reason="standby mode")
    if source.get("type") in ("group", "room"):
        if etype == "join":
            return Event("join", **base)
        return Event("ignore", **base, reason="group or room chat")
    if source.get("type") != "user" or not base["user_id"]:
        return Event("ignore", **base, reason="no user source")
    if etype == "message":
        message = _obj(raw.get("message"))
        if message.get("type") == "text" and isinstance(message.get("text"), str):
            return Event("text", **base, text=message["text"])
        return Event("non_text", **base, reason=str(message.get("type")))
    if etype == "postback":
        postback = _obj(raw.get("postback"))
        data = postback.get("data")
        if isinstance(data, str) and data.strip():
            return Event("postback", **base, text=data[:MAX_POSTBACK])
        return Event("ignore", **base, reason="empty postback")
    if etype == "follow":
        return Event("follow", **base)
    if etype == "unfollow":
        return Event("unfollow", **base)
    return Event("ignore", **base, reason=f"event type {etype!r}")
