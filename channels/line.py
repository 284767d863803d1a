"""LINE official account as a Rasa input channel: POST /webhooks/line/webhook.

Off unless LINE_CHANNEL_SECRET and LINE_CHANNEL_ACCESS_TOKEN are set (the route
then does not exist). Design and guarantees: docs/line.md.

* Signature first: ``X-Line-Signature`` must be the HMAC-SHA256 of the raw body
  under the channel secret (constant-time compare), else 401 and nothing is read.
  The console's URL check (``events: []``) gets 200.
* 200 at once; the events are processed in the background (LINE recommends it, and
  a slow turn must not make LINE retry or suspend the webhook).
* Each event is taken once: ``webhookEventId`` is inserted into the shared handoff
  database, so a redelivered event (``isRedelivery``), or one delivered to two
  servers, is answered by at most one of them, once.
* One customer's events run in order (a lock per user in this process; across
  servers Rasa's lock store orders the turns).
* Free replies first: one reply call per event with ≤ 5 messages, within the reply
  token's validity (LINE_REPLY_TOKEN_TTL, 50 s of LINE's one minute); what does not
  fit, or comes later, is pushed with a deterministic X-Line-Retry-Key. A reply that
  failed ambiguously (timeout, 5xx) is never re-sent as a push. Every reply and
  push is counted (line_sends).
* The loading animation is shown when a turn takes longer than LOADING_AFTER.
* Card numbers and other sensitive data are masked before anything stores or sees
  the text (channels/privacy.py, as at every door).
* Live agents: a conversation an agent owns goes to the agent (channels/live.py);
  the agent's messages reach the customer as pushes (LINE has no other way).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.handoff import replies as handoff_replies
from assistant.handoff.replies import Reply
from assistant.handoff.schema import JST
from assistant.handoff.settings import HandoffSettings
from assistant.line import events as line_events
from assistant.line import render, signature
from assistant.line import replies as line_replies
from assistant.line.quota import usage
from assistant.line.store import LineStore
from assistant.settings import get_settings

from . import privacy
from .intake import intake
from .line_api import DEFAULT_BASE, LineApi
from .live import live_chat

logger = logging.getLogger(__name__)

SECRET_ENV = "LINE_CHANNEL_SECRET"
TOKEN_ENV = "LINE_CHANNEL_ACCESS_TOKEN"
BASE_ENV = "LINE_API_BASE"  # tests: the local stand-in of LINE's API
TTL_ENV = "LINE_REPLY_TOKEN_TTL"
TIMEOUT_ENV = "LINE_API_TIMEOUT"  # seconds a call to LINE may take (default 10)
REPLY_TOKEN_TTL = 50.0  # seconds; LINE: "use within one minute"
LOADING_AFTER = 1.0  # seconds before the loading animation is shown
LOADING_ENV = "LINE_LOADING_AFTER"
FORGET_EVERY = 3600.0  # seconds between clean-ups of taken event ids older than a week
QUOTA_CACHE = 60.0  # seconds the console's quota line is reused before LINE is asked again
MAX_BODY = 1_000_000  # a webhook body is a few KB; refuse anything absurd


class _UserLocks:
    """One asyncio.Lock per user, dropped when nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, list[Any]] = {}  # key → [lock, users]

    async def __call__(self, key: str, fn: Callable[[], Awaitable[None]]) -> None:
        entry = self._locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                await fn()
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                self._locks.pop(key, None)


class LineBot:
    """The channel's work after the 200: turns, delivery, live-chat pushes."""

    def __init__(
        self,
        secret: str,
        api: LineApi,
        store: LineStore,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        ttl: float = REPLY_TOKEN_TTL,
    ):
        self.secret, self.api, self.store, self.ttl = secret, api, store, ttl
        self.on_new_message = on_new_message
        self.locks = _UserLocks()
        self.loading_after = get_settings().line_loading_after
        self.tasks: set = set()
        self._status: dict[str, Any] | None = None
        self._status_at = 0.0
        self._forgot_at = 0.0

    @staticmethod
    async def db(fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(fn, *args)

    def schedule(self, found: list[line_events.Event]) -> None:
        received = time.monotonic()
        if received - self._forgot_at > FORGET_EVERY or not self._forgot_at:
            self._forgot_at = received
            self._spawn(self._forget_old())
        for event in found:
            if event.kind == "ignore":
                logger.debug("LINE event ignored: %s", event.reason)
                continue
            self._spawn(self.handle(event, received))

    async def _forget_old(self) -> None:
        try:
            await self.db(self.store.forget_old)
        except Exception:  # a missed clean-up only keeps a few more rows
            logger.exception("LINE: forgetting old event ids")

    def _spawn(self, work: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)  # held until done: the loop keeps only weak references
        task.add_done_callback(self.tasks.discard)

    async def handle(self, event: line_events.Event, received: float) -> None:
        # The user's lock first (its first await, so events queue in webhook order), then take.
        await self.locks(
            event.user_id or event.event_id or "", lambda: self._handle(event, received)
        )

    async def _handle(self, event: line_events.Event, received: float) -> None:
        try:
            if event.event_id and not await self.db(self.store.take, event.event_id):
                logger.info(
                    "LINE event %s already taken (redelivery=%s): skipped",
                    event.event_id,
                    event.redelivery,
                )
                return
            await self._process(event, received)
        except Exception:
            logger.exception("LINE event %s failed", event.event_id)

    async def _process(self, event: line_events.Event, received: float) -> None:
        outputs: list[dict[str, Any]] = []
        if event.kind in ("text", "postback"):
            outputs = await self._turn(event)
        elif event.kind == "follow":
            await self.db(self.store.set_active, event.user_id, True)
            outputs = line_replies.outputs(line_replies.welcome())
        elif event.kind == "unfollow":
            await self.db(self.store.set_active, event.user_id, False)
            return  # nothing can reach a user who blocked the account
        elif event.kind == "non_text":
            outputs = line_replies.outputs(line_replies.text_only())
        elif event.kind == "join":
            outputs = line_replies.outputs(line_replies.one_to_one_only())
        await self.deliver(event, outputs, received)

    async def _turn(self, event: line_events.Event) -> list[dict[str, Any]]:
        sender = event.sender_id or ""
        limits = intake()
        wait = limits.limits.senders.hit(sender)  # per customer; LINE's servers are one client
        if wait:
            return line_replies.outputs(handoff_replies.rate_limited(int(wait) + 1))
        out = CollectingOutputChannel()
        message = UserMessage(
            limits.cap(event.text),
            out,
            sender,
            input_channel=LineInput.name(),
            metadata={"line": {"event_id": event.event_id, "kind": event.kind}},
        )
        loading = asyncio.get_running_loop().create_task(asyncio.sleep(self.loading_after))
        loading.add_done_callback(
            lambda t: None if t.cancelled() else self._start_loading(event.user_id)
        )
        try:
            await self.on_new_message(message)
        except Exception:
            logger.exception("LINE turn failed for %s", sender)
            text = "ただいまシステムに接続できません。しばらくしてからもう一度お試しください。"
            return [{"text": text}]
        finally:
            loading.cancel()
        return out.messages

    def _start_loading(self, user_id: str | None) -> None:
        """The turn is taking long: show the animation (the answer will end it)."""
        if user_id:
            self._spawn(self.api.loading(user_id, 10))

    async def deliver(
        self, event: line_events.Event, outputs: list[dict[str, Any]], received: float
    ) -> None:
        messages = render.render(outputs)
        if not messages:
            return
        age = time.monotonic() - received
        if event.redelivery and event.timestamp:
            # LINE's clock: a redelivered event may be minutes old. (Not for first deliveries:
            # a server clock a minute fast would turn every free reply into a paid push.)
            age = max(age, time.time() - event.timestamp / 1000)
        plan = render.plan(messages, bool(event.reply_token) and age < self.ttl)
        if plan.reply:
            result = await self.api.reply(event.reply_token or "", plan.reply)
            if result.ok:
                await self.db(self.store.count, "reply", len(plan.reply))
            else:
                await self.db(self.store.count, "reply_failed", len(plan.reply))
                if result.ambiguous:
                    # It may have arrived: a push could show it twice. Only the rest is pushed.
                    logger.warning(
                        "LINE reply for %s failed ambiguously (%s): not re-sent",
                        event.event_id,
                        result.status,
                    )
                elif result.invalid_token:
                    logger.info("LINE reply token of %s refused: pushing instead", event.event_id)
                    plan = render.plan(messages, False)
                else:
                    logger.error(
                        "LINE refused the reply for %s: %s %s",
                        event.event_id,
                        result.status,
                        result.body,
                    )
        if plan.pushes and not event.user_id:
            logger.warning(
                "LINE: %d messages for %s not sent (no reply token, no user to push to)",
                sum(map(len, plan.pushes)),
                event.event_id,
            )
            return
        scope = event.event_id or f"{event.user_id}:{event.timestamp}"
        for n, batch in enumerate(plan.pushes):
            await self.push(event.user_id or "", batch, render.retry_key(scope, n))

    async def push(self, user_id: str, messages: list[dict[str, Any]], key: str) -> str:
        """ "sent", "inactive", "quota" or "failed"."""
        if not await self.db(self.store.is_active, user_id):
            return "inactive"
        result = await self.api.push(user_id, messages, key)
        if result.ok or result.already_accepted:
            await self.db(self.store.count, "push", len(messages))
            return "sent"
        await self.db(self.store.count, "push_failed", len(messages))
        if result.quota_exhausted:
            logger.error("LINE push refused: the month's message quota is used up")
            return "quota"
        logger.error("LINE push to %s failed: %s %s", user_id, result.status, result.body)
        return "failed"

    async def status(self) -> dict[str, Any]:
        """The month's quota and use for the agent console (cached QUOTA_CACHE seconds)."""
        cache = get_settings().line_quota_cache
        if self._status is None or time.monotonic() - self._status_at >= cache:
            quota = await self.api.quota()
            month = datetime.now(JST).strftime("%Y-%m-01")
            ours = (await self.db(self.store.totals, month))["push"]["messages"]
            self._status = usage(quota["type"], quota["value"], quota["used"], ours)
            self._status_at = time.monotonic()
        return self._status

    async def push_live(self, ticket: Any, reply: Reply) -> str | None:
        """An agent's (or the system's) message to a LINE customer: a push."""
        user_id = ticket.sender_id[len(line_events.SENDER_PREFIX) :]
        key = render.retry_key(f"live:{ticket.id}:{reply.payload.get('id') or reply.text}")
        outcome = await self.push(user_id, render.text_messages(reply.text), key)
        return None if outcome == "sent" else outcome


class LineInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "line"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        s = get_settings()  # the variables win over credentials.yml
        ttl = s.line_reply_token_ttl or credentials.get("reply_token_ttl") or REPLY_TOKEN_TTL
        return cls(
            s.line_channel_secret,
            s.line_channel_access_token,
            s.line_api_base or credentials.get("api_base") or DEFAULT_BASE,
            float(ttl),
            float(s.line_api_timeout or credentials.get("api_timeout") or 10),
        )

    def __init__(
        self,
        secret: str = "",
        access_token: str = "",
        api_base: str = DEFAULT_BASE,
        reply_token_ttl: float = REPLY_TOKEN_TTL,
        api_timeout: float = 10.0,
    ) -> None:
        self.secret, self.access_token = secret, access_token
        self.api_base, self.reply_token_ttl = api_base, reply_token_ttl
        self.api_timeout = api_timeout
        self.bot: LineBot | None = None

    @property
    def enabled(self) -> bool:
        return bool(self.secret and self.access_token)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        bp = Blueprint("line_webhook", __name__)

        @bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.enabled else "disabled"})

        if not self.enabled:
            logger.info("LINE channel off (%s / %s unset)", SECRET_ENV, TOKEN_ENV)
            return bp

        live = live_chat()
        store = LineStore(HandoffSettings.from_env().db_url)
        bot = LineBot(
            self.secret,
            LineApi(self.access_token, self.api_base, self.api_timeout),
            store,
            privacy.guard(live.gate(on_new_message)),
            self.reply_token_ttl,
        )
        self.bot = bot
        live.attach_pusher(self.name(), bot.push_live, bot.status)

        @bp.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            body = request.body or b""
            if len(body) > MAX_BODY:
                return response.json({"error": "too_large"}, status=413)
            if not signature.verify(self.secret, body, request.headers.get("x-line-signature")):
                return response.json({"error": "bad_signature"}, status=401)
            try:
                found = line_events.parse(json.loads(body))
            except ValueError as e:  # json.JSONDecodeError is a ValueError
                return response.json({"error": "bad_request", "reason": str(e)[:200]}, status=400)
            bot.schedule(found)
            return response.json({})

        return bp
