"""Rasa's REST channel with request checks, the takeover gate, and agent messages.

* The body must be a JSON object with a string ``sender`` (1–64 printable
  characters) and a string ``message``; anything else is a 400 with a reason
  (Rasa's own channel answers 500 with a traceback for ``null`` or a list, and
  lets every client without a sender share the conversation ``default``).
* Card numbers and other personal data are masked before anything stores the
  text (channels/privacy.py, docs/privacy.md).
* A message is cut at CHAT_MAX_MESSAGE_CHARS (a note says so), and clients are
  rate limited (429 with Retry-After); see channels/intake.py.
* A REST client cannot address a widget (socket.io) conversation: those ids start
  with ``ws-`` and are refused here (channels/session_tokens.py); nor a LINE user's
  (``line:…``, any case: channels/line.py).
* ``input_channel`` is always ``rest``: a REST client cannot pass itself off as a
  socket.io session (agents' messages are pushed to socket.io rooms by channel).
* While an agent owns the conversation, a message goes to the agent
  (channels/live.py) and the reply carries what the agent wrote since the
  customer's previous message; ``GET /webhooks/rest/agent_messages?sender=…&after=<id>``
  returns the agent's messages without sending one (docs/live-chat.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.handoff import replies
from assistant.line.events import SENDER_PREFIX, is_line_sender

from . import console_doors, exactly_once, privacy, session_tokens
from .intake import intake
from .live import live_chat

MAX_SENDER = 64
MAX_CURSOR = 2**63 - 1  # message ids are BIGINT-sized: a bigger one is a 400, never a 500


def message_cursor(value: Any) -> int | None:
    """``after=`` of agent_messages: a message id, or None when it is not one."""
    text = str(value or "0").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 19:
        return None
    number = int(text)
    return number if number <= MAX_CURSOR else None


def sender_problem(sender: Any) -> str | None:
    if sender is None or sender == "":
        return "sender is required"
    if not isinstance(sender, str) or len(sender) > MAX_SENDER or not sender.isprintable():
        return f"sender must be a string of 1-{MAX_SENDER} printable characters"
    if session_tokens.is_widget_session(sender):
        return (
            f"sender ids starting with {session_tokens.PREFIX!r} belong to website widget sessions"
        )
    if is_line_sender(sender):
        return f"sender ids starting with {SENDER_PREFIX!r} belong to LINE users"
    return None


def body_problem(body: Any) -> str | None:
    """Why a POST body is not a message, or None."""
    if not isinstance(body, dict):
        return 'body must be a JSON object: {"sender": "…", "message": "…"}'
    problem = sender_problem(body.get("sender"))
    if problem:
        return problem
    if not isinstance(body.get("message", ""), str):
        return "message must be a string"
    return None


def _error(reason: str) -> HTTPResponse:
    return response.json({"error": "bad_request", "reason": reason}, status=400, ensure_ascii=False)


class CheckedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"  # trackers, tickets and the URL stay what clients know

    def _extract_input_channel(self, req: Request) -> str:
        return self.name()

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        """Only the client key for the ticket cap (channels/console_doors.py)."""
        client = intake().client(request.ip, request.headers.get("x-forwarded-for"))
        return console_doors.with_client_key({}, client) or None

    def _extract_message(self, req: Request) -> str | None:
        return privacy.mask_rest_text(intake().cap(req.json.get("message") or ""))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        live, limits = live_chat(), intake()
        # exactly once: client message ids, 503 for a failed turn (channels/exactly_once.py)
        bp = super().blueprint(exactly_once.wrap(privacy.guard(live.gate(on_new_message))))

        @bp.middleware("request")
        async def check_body(request: Request) -> HTTPResponse | None:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            try:
                body = request.json
            except InvalidUsage:  # what Sanic raises for malformed JSON
                return _error("body is not valid JSON")
            problem = body_problem(body)
            if problem:
                return _error(problem)
            client = limits.client(request.ip, request.headers.get("x-forwarded-for"))
            wait = limits.wait(body["sender"], client)
            if wait:
                return response.json(
                    {"error": "rate_limited", "retry_after": wait},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            return None

        exactly_once.install_rest(bp)  # after the body checks: message_id / Idempotency-Key

        @bp.route("/agent_messages", methods=["GET"])
        async def agent_messages(request: Request) -> HTTPResponse:
            sender = request.args.get("sender")
            problem = sender_problem(sender)
            if problem:
                return _error(problem)
            after = message_cursor(request.args.get("after", "0"))
            if after is None:
                return _error(f"after must be a message id (integer 0-{MAX_CURSOR})")
            wait = limits.wait(
                sender, limits.client(request.ip, request.headers.get("x-forwarded-for"))
            )
            if wait:  # polling counts like sending: a busy poller gets 429 too
                return response.json(
                    {"error": "rate_limited", "retry_after": wait},
                    status=429,
                    headers={"Retry-After": str(wait)},
                )
            found = await live.db(live.store.staff_messages_for_sender, sender, after)
            out = []
            for m in found:
                reply = replies.staff_reply(m["ticket_id"], m)
                out.append(
                    {
                        "recipient_id": sender,
                        "id": m["id"],
                        "text": reply.text,
                        "custom": reply.payload,
                    }
                )
            return response.json(out, ensure_ascii=False)

        return bp
