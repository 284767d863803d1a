"""A local stand-in for LINE's Messaging API (aiohttp on 127.0.0.1, own thread),
enforcing what LINE documents, recording what it received; plus webhook events and
signed webhook POSTs as LINE sends them.

Rules enforced (https://developers.line.biz/en/reference/messaging-api/):
* ``Authorization: Bearer <channel access token>`` → else 401.
* 1–5 message objects a call; a text 1–5,000 UTF-16 units; quick reply ≤ 13 items,
  labels ≤ 20 characters (grapheme clusters), postback data ≤ 300; Flex altText ≤ 1,500.
* A reply token is issued here with each event, valid once and for ``token_ttl``
  seconds → else 400 ``Invalid reply token``.
* ``X-Line-Retry-Key`` only on push (400 on reply), a UUID; a key seen before → 409
  (nothing sent again).
* A monthly push quota (``quota``) → 429 ``You have reached your monthly limit.``
* Failures on demand: ``fail(path, status_or_"timeout", times, after_accepting)``.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import regex
import requests
from aiohttp import web

from assistant.line.signature import sign


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def message_problems(messages: Any) -> list[str]:
    if not isinstance(messages, list) or not 1 <= len(messages) <= 5:
        return [
            "messages must be 1-5 objects, got "
            + (f"{len(messages)}" if isinstance(messages, list) else f"{messages!r}")
        ]
    out = []
    for m in messages:
        kind = m.get("type")
        if kind == "text":
            if not isinstance(m.get("text"), str) or not 1 <= utf16(m["text"]) <= 5000:
                out.append(f"text length {utf16(m.get('text') or '')}")
        elif kind == "flex":
            if not 1 <= len(m.get("altText") or "") <= 1500:
                out.append("altText length")
            if not isinstance(m.get("contents"), dict) or m["contents"].get("type") not in (
                "bubble",
                "carousel",
            ):
                out.append("flex contents")
        else:
            out.append(f"unexpected type {kind!r}")
        qr = m.get("quickReply")
        if qr is not None:
            items = qr.get("items") or []
            if not 1 <= len(items) <= 13:
                out.append(f"quick reply items {len(items)}")
            for it in items:
                a = it.get("action") or {}
                if len(regex.findall(r"\X", a.get("label") or "")) > 20 or not a.get("label"):
                    out.append(f"label {a.get('label')!r}")
                if a.get("type") == "postback" and not 1 <= len(a.get("data") or "") <= 300:
                    out.append("postback data length")
    return out


@dataclass
class Call:
    kind: str  # reply | push | loading | rejected
    status: int
    body: dict
    headers: dict
    at: float = field(default_factory=time.time)


class LineStandIn:
    def __init__(self, access_token: str = "test-access-token", token_ttl: float = 60.0):
        self.access_token = access_token
        self.token_ttl = token_ttl
        self.quota: int | None = None  # pushes (messages) left this month; None = unlimited
        self.calls: list[Call] = []
        self._tokens: dict[str, float] = {}  # reply token → issued at
        self._keys: set[str] = set()
        self._failures: list[dict] = []
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- what the tests use ---------------------------------------------------

    def reply_token(self) -> str:
        token = secrets.token_hex(16)
        with self._lock:
            self._tokens[token] = time.monotonic()
        return token

    def fail(
        self, kind: str, status: int | str, times: int = 1, after_accepting: bool = False
    ) -> None:
        """The next ``times`` calls of ``kind`` (reply/push) answer ``status`` (or time out
        with "timeout"); ``after_accepting``: the call is carried out first (LINE got it,
        the answer was lost)."""
        with self._lock:
            self._failures.append(
                {"kind": kind, "status": status, "times": times, "after": after_accepting}
            )

    def sent(self, kind: str | None = None, to: str | None = None) -> list[Call]:
        """Accepted calls (2xx) of a kind (and to a user)."""
        with self._lock:
            calls = list(self.calls)
        return [
            c
            for c in calls
            if 200 <= c.status < 300
            and (kind is None or c.kind == kind)
            and (to is None or c.body.get("to") == to or c.body.get("_user") == to)
        ]

    def texts(self, kind: str | None = None, to: str | None = None) -> list[str]:
        out = []
        for c in self.sent(kind, to):
            for m in c.body.get("messages", []):
                out.append(m.get("text") or m.get("altText"))
        return out

    def wait_for(self, predicate, timeout: float = 30.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate()
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"stand-in: condition not met in {timeout}s; calls: {self.calls}")

    # -- the server ---------------------------------------------------------------

    def _take_failure(self, kind: str) -> dict | None:
        with self._lock:
            for f in self._failures:
                if f["kind"] == kind and f["times"] > 0:
                    f["times"] -= 1
                    return f
        return None

    def _record(self, kind: str, status: int, body: dict, request: web.Request) -> None:
        with self._lock:
            self.calls.append(Call(kind, status, body, dict(request.headers)))

    async def _handle(self, request: web.Request, kind: str) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            self._record("rejected", 401, {}, request)
            return web.json_response({"message": "Authentication failed"}, status=401)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"message": "bad json"}, status=400)
        failure = self._take_failure(kind)
        if failure and not failure["after"]:
            return await self._fail(failure, kind, body, request)
        answer = self._apply(kind, body, request)
        if failure:  # carried out, then the answer is lost
            return await self._fail(failure, kind, body, request)
        return answer

    async def _fail(
        self, failure: dict, kind: str, body: dict, request: web.Request
    ) -> web.Response:
        if failure["status"] == "timeout":
            await asyncio.sleep(30)
            return web.json_response({}, status=504)
        self._record(f"{kind}-failed", int(failure["status"]), body, request)
        return web.json_response(
            {"message": "Internal server error"}, status=int(failure["status"])
        )

    def _apply(self, kind: str, body: dict, request: web.Request) -> web.Response:
        def refuse(status: int, message: str) -> web.Response:
            self._record(f"{kind}-refused", status, {**body, "_message": message}, request)
            return web.json_response({"message": message}, status=status)

        key = request.headers.get("X-Line-Retry-Key")
        if kind == "loading":
            if not isinstance(body.get("chatId"), str) or body.get(
                "loadingSeconds", 5
            ) not in range(5, 61, 5):
                return refuse(400, "bad loading request")
            self._record(kind, 202, body, request)
            return web.json_response({}, status=202)
        if kind == "reply" and key:
            return refuse(400, "The retry key is not supported on this API")
        problems = message_problems(body.get("messages"))
        if problems:
            return refuse(400, "; ".join(problems))
        if kind == "reply":
            with self._lock:
                issued = self._tokens.pop(body.get("replyToken"), None)
            if issued is None or time.monotonic() - issued > self.token_ttl:
                return refuse(400, "Invalid reply token")
        else:
            if key is not None:
                try:
                    uuid.UUID(key)
                except ValueError:
                    return refuse(400, "The value of the X-Line-Retry-Key header is invalid")
                with self._lock:
                    seen = key in self._keys
                    self._keys.add(key)
                if seen:
                    self._record("push-duplicate", 409, body, request)
                    return web.json_response(
                        {"message": "The retry key is already accepted"},
                        status=409,
                        headers={"x-line-accepted-request-id": key},
                    )
            if self.quota is not None:
                if self.quota < len(body["messages"]):
                    with self._lock:
                        self._keys.discard(key or "")
                    return refuse(429, "You have reached your monthly limit.")
                self.quota -= len(body["messages"])
        self._record(kind, 200, body, request)
        return web.json_response(
            {"sentMessages": [{"id": str(i)} for i, _ in enumerate(body["messages"])]}
        )

    def start(self) -> LineStandIn:
        app = web.Application()

        def route(kind: str):
            async def handler(request: web.Request) -> web.Response:
                return await self._handle(request, kind)

            return handler

        app.router.add_post("/v2/bot/message/reply", route("reply"))
        app.router.add_post("/v2/bot/message/push", route("push"))
        app.router.add_post("/v2/bot/chat/loading/start", route("loading"))
        app.router.add_get("/v2/bot/message/quota", self._quota)
        app.router.add_get("/v2/bot/message/quota/consumption", self._consumption)
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, "127.0.0.1", self.port).start())
            ready.set()
            self._loop.run_forever()

        threading.Thread(target=run, daemon=True).start()
        ready.wait(10)
        return self

    async def _quota(self, request: web.Request) -> web.Response:
        if self.quota is None:
            return web.json_response({"type": "none"})
        return web.json_response({"type": "limited", "value": self.quota + self._pushed()})

    async def _consumption(self, request: web.Request) -> web.Response:
        return web.json_response({"totalUsage": self._pushed()})

    def _pushed(self) -> int:
        return sum(len(c.body.get("messages", [])) for c in self.sent("push"))

    def stop(self) -> None:
        if self._loop is not None and self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
            self._loop.call_soon_threadsafe(self._loop.stop)


# -- webhooks as LINE sends them ---------------------------------------------------------


def event(
    kind: str,
    user_id: str,
    reply_token: str | None,
    text: str = "",
    data: str = "",
    redelivery: bool = False,
    event_id: str | None = None,
    source_type: str = "user",
    message_type: str = "text",
) -> dict:
    ev: dict = {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": source_type, "userId": user_id},
        "webhookEventId": event_id or ("01" + secrets.token_hex(12).upper()),
        "deliveryContext": {"isRedelivery": redelivery},
    }
    if source_type == "group":
        ev["source"]["groupId"] = "C" + secrets.token_hex(16)
        if kind == "join":  # LINE names no user when the bot is invited
            del ev["source"]["userId"]
    if reply_token:
        ev["replyToken"] = reply_token
    if kind == "message":
        ev["message"] = (
            {"type": "text", "id": secrets.token_hex(8), "text": text}
            if message_type == "text"
            else {"type": message_type, "id": secrets.token_hex(8)}
        )
    if kind == "postback":
        ev["postback"] = {"data": data}
    return ev


def post_webhook(
    url: str,
    secret: str | None,
    events: list[dict],
    signature: str | None = None,
    raw: bytes | None = None,
) -> requests.Response:
    if raw is not None:
        body = raw
    else:
        doc = {"destination": "U" + "0" * 32, "events": events}
        try:
            body = json.dumps(doc, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: LINE would send them escaped
            body = json.dumps(doc).encode("utf-8")
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Line-Signature"] = signature
    elif secret is not None:
        headers["X-Line-Signature"] = sign(secret, body)
    return requests.post(url, data=body, headers=headers, timeout=10)
