"""Live chat in the Rasa process: carries out what an agent or a customer does
while a person owns a conversation (design: docs/live-chat.md).

* The takeover gate (`gate`) wraps a channel's ``on_new_message``: a message of a
  conversation an agent owns is stored on the ticket and in the tracker and shown
  to the agent; Rasa's NLU and policies never see it.
* Agent actions (claim, message, hand back, close) are stored on the ticket,
  appended to the customer's tracker as bot events with the custom payload, and
  pushed to the customer's socket.io room.
* Console clients (Server-Sent Events) are told when anything changed: at once for
  what happens in this process, and by a watcher of the handoff database's change
  marker for what other processes did (tickets created by the action server).

Database calls are synchronous (SQLAlchemy) and run in a worker thread so that
they never block Sanic's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any, TypeVar

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    Event,
    SlotSet,
    UserUttered,
)

from assistant import replies as replies_main
from assistant.conversation import HANDOFF_FORM, RESET_AFTER_HANDOFF
from assistant.gauges import add_gauge
from assistant.handoff import replies
from assistant.handoff.replies import Reply
from assistant.handoff.service import HandoffService
from assistant.handoff.settings import HandoffSettings
from assistant.handoff.tickets import Ticket, TicketStore
from assistant.intake import is_reset_command
from assistant.livechat.agents import Agent, AgentDirectory
from assistant.livechat.console_auth import AuditLog, ConsoleSessions
from assistant.livechat.takeover import check_agent_text, wants_bot
from assistant.outcomes.csat import CsatClaims
from assistant.outcomes.log import OutcomeLog
from assistant.outcomes.records import Outcome, clip

logger = logging.getLogger(__name__)
T = TypeVar("T")

WATCH_INTERVAL = 0.5  # seconds between change-marker reads
LOCK_WAIT = 0.05  # Rasa's lock store polls every second by default

PUSH_PROBLEMS = {  # shown to the agent in the console, never sent to the customer
    "quota": "【送信できませんでした】LINEの今月のメッセージ送信上限に達しています。",
    "inactive": "【送信できませんでした】お客様がLINEアカウントをブロックしています。",
    "failed": "【送信できませんでした】LINEへの送信に失敗しました。",
}


def _now() -> datetime:
    return datetime.now(timezone.utc)


class LiveChat:
    def __init__(self, store: TicketStore):
        self.store = store
        self.handoff = HandoffService(store)  # appends only: tickets are opened by the bot
        self.agents = AgentDirectory(store.engine)
        self.sessions = ConsoleSessions(store.engine)
        self.audit = AuditLog(store.engine)
        self.outcomes = OutcomeLog(store.engine)  # analytics: queued, written by a thread
        self.csat = CsatClaims(store.engine)  # CSAT once per conversation, across servers
        self.app: Any = None  # the Rasa Sanic app, set at server start
        self.sio: Any = None  # socketio.AsyncServer of the customer channel
        self.sio_namespace: str | None = None
        self.bot_message_evt = "bot_uttered"
        # channel name → coroutine(ticket, reply) that pushes to that channel's customer
        # (LINE: channels/line.py); it returns None when sent, else why not.
        self.pushers: dict[str, Callable[[Ticket, Reply], Awaitable[str | None]]] = {}
        self.channel_statuses: dict[str, Callable[[], Awaitable[dict[str, Any]]]] = {}
        self._listeners: set[asyncio.Queue] = set()
        self._watcher: asyncio.Task | None = None

    @staticmethod
    async def db(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    # -- server wiring ----------------------------------------------------

    def attach_server(self, app: Any) -> None:
        self.app = app
        # the open console event streams, written with the memory gauges (scripts/soak.py --sse)
        add_gauge("console_streams", self.listener_count)
        if self._watcher is None:
            self._watcher = asyncio.get_running_loop().create_task(self._watch())

    def attach_pusher(
        self,
        channel: str,
        push: Callable[[Ticket, Reply], Awaitable[str | None]],
        status: Callable[[], Awaitable[dict[str, Any]]] | None = None,
    ) -> None:
        self.pushers[channel] = push
        if status is not None:
            self.channel_statuses[channel] = status

    async def channel_status(self) -> dict[str, Any]:
        """What push channels report for the console (LINE: the month's quota)."""
        out = {}
        for channel, status in self.channel_statuses.items():
            try:
                out[channel] = await status()
            except Exception:  # the console must load even when LINE cannot be asked
                logger.exception("live chat: status of %s", channel)
        return out

    def attach_socketio(self, sio: Any, namespace: str | None, bot_message_evt: str) -> None:
        self.sio, self.sio_namespace, self.bot_message_evt = sio, namespace, bot_message_evt

    # -- customer side: the gate -------------------------------------------

    def gate(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Callable[[UserMessage], Awaitable[Any]]:
        """The channel's handler, with the takeover first and no silent turns after."""

        async def gated(message: UserMessage) -> Any:
            if await self.divert(message):
                return None
            before = sent_count(message.output_channel)
            result = await on_new_message(message)
            if before is not None and sent_count(message.output_channel) == before:
                await self._not_silent(message)
            return result

        return gated

    async def _not_silent(self, message: UserMessage) -> None:
        """Rasa answered nothing (/restart, /session_start, /back only rewind or reset
        the conversation): say what happened instead of an empty reply."""
        reply = (
            replies_main.reset()
            if is_reset_command(message.text or "")
            else replies_main.no_reply()
        )
        await _send(message.output_channel, message.sender_id, reply)
        await self.append_tracker(
            message.sender_id, [BotUttered(reply.text, {"custom": reply.payload})]
        )

    async def divert(self, message: UserMessage) -> bool:
        """Handle the message here if an agent owns its conversation (or if it is a
        reset command during a handoff); False = Rasa handles it."""
        text = message.text or ""
        if is_reset_command(text):
            return await self._refuse_reset(message)
        ticket: Ticket | None = await self.db(self.store.owned_for_sender, message.sender_id)
        if ticket is None:
            return False
        return await self.divert_owned(message, ticket)

    async def divert_owned(self, message: UserMessage, ticket: Ticket) -> bool:
        text = message.text or ""
        if wants_bot(text):
            await self._end(ticket, "customer", extra_user=message)
            return True
        stored = await self.db(self.handoff.append, ticket.id, text)
        await self.append_tracker(
            message.sender_id, [self._user_event(message), ActionExecuted("action_listen")]
        )
        self._outcome(
            "turn",
            ticket,
            "to_agent",
            channel=message.input_channel,
            question=clip(text),
            message_id=message.message_id,
        )
        if message.input_channel != "socketio" and message.input_channel not in self.pushers:
            # REST and other pull channels: what the agent said since the last message.
            for m in await self.db(self.store.staff_messages_before, ticket.id, stored["id"]):
                await _send(
                    message.output_channel, message.sender_id, replies.staff_reply(ticket.id, m)
                )
        self.publish(ticket.id)
        return True

    async def _refuse_reset(self, message: UserMessage) -> bool:
        """Rasa's /restart, /session_start and /back would end a handoff silently
        (ticket left open, later messages lost): refused while one is running."""
        ticket = await self.db(self.store.open_for_sender, message.sender_id)
        if ticket is None or not (
            ticket.owner or await self._handoff_form_active(message.sender_id)
        ):
            return False
        if ticket.owner:  # the agent sees it like any other message
            return await self.divert_owned(message, ticket)
        await self.db(self.handoff.append, ticket.id, message.text)
        reply = replies.command_refused(ticket.id)
        await self.append_tracker(
            message.sender_id,
            [
                self._user_event(message),
                BotUttered(reply.text, {"custom": reply.payload}),
                ActionExecuted("action_listen"),
            ],
        )
        await _send(message.output_channel, message.sender_id, reply)
        self.publish(ticket.id)
        return True

    async def _handoff_form_active(self, sender_id: str) -> bool:
        agent = self._rasa_agent()
        if agent is None:
            return False
        tracker = await agent.tracker_store.retrieve(sender_id)
        return tracker is not None and tracker.active_loop_name == HANDOFF_FORM

    def _rasa_agent(self) -> Any:
        agent = getattr(self.app.ctx, "agent", None) if self.app is not None else None
        return agent if agent is not None and agent.processor is not None else None

    @staticmethod
    def _user_event(message: UserMessage) -> UserUttered:
        return UserUttered(
            message.text,
            intent={},
            input_channel=message.input_channel,
            message_id=message.message_id,
            metadata={**(message.metadata or {}), "to_agent": True},
        )

    # -- agent side ----------------------------------------------------------

    async def claim(self, ticket_id: str, agent: Agent, client: str) -> Ticket:
        ticket = await self.db(self.store.claim, ticket_id, agent.username, agent.display_name)
        await self.db(self.audit.record, "claim", agent.username, ticket_id, client)
        self._outcome(
            "handoff", ticket, "claimed", agent=agent.username, value=_seconds(ticket.created_at)
        )
        await self._say(
            ticket,
            replies.agent_joined(ticket.id, agent.display_name),
            role="system",
            author=agent.display_name,
        )
        return ticket

    async def agent_message(self, ticket: Ticket, agent: Agent, text: Any) -> dict[str, Any]:
        cleaned = check_agent_text(text)
        if not any(m.get("role") == "agent" for m in ticket.messages):
            self._outcome(
                "handoff",
                ticket,
                "first_reply",
                agent=agent.username,
                value=_seconds(ticket.claimed_at),
            )
        return await self._say(ticket, None, role="agent", author=agent.display_name, text=cleaned)

    async def end(self, ticket: Ticket, agent: Agent, reason: str, client: str) -> Ticket:
        await self.db(self.audit.record, reason, agent.username, ticket.id, client)
        return await self._end(ticket, reason)

    async def _end(
        self, ticket: Ticket, reason: str, extra_user: UserMessage | None = None
    ) -> Ticket:
        """Close the takeover; the bot answers the conversation's next message."""
        who = ticket.owner_name or "担当者"
        ended = "customer" if extra_user else reason
        self._outcome(
            "handoff",
            ticket,
            "handed_back" if ended == "handback" else "closed",
            detail=ended,
            agent=ticket.owner,
            value=_seconds(ticket.claimed_at),
        )
        reply = replies.agent_left(ticket.id, who, reason)
        if extra_user is not None:
            await self.db(self.handoff.append, ticket.id, extra_user.text)
        closed = await self.db(
            self.store.close, ticket.id, None, "customer" if extra_user else reason
        )
        message = await self.db(
            self.store.append_message, ticket.id, reply.text, "system", who, reply.payload
        )
        sent = replies.staff_reply(ticket.id, message)
        events: list[Event] = []
        if extra_user is not None:
            events.append(self._user_event(extra_user))
        events += [
            BotUttered(sent.text, {"custom": sent.payload}, {"live_message_id": message["id"]}),
            ActiveLoop(None),
            *[SlotSet(k, v) for k, v in RESET_AFTER_HANDOFF],  # the form ends too
            ActionExecuted("action_listen"),
        ]
        await self.append_tracker(ticket.sender_id, events)
        answered = extra_user is not None and extra_user.input_channel != "socketio"
        if answered and extra_user is not None:  # in the reply to the message (free on LINE)
            await _send(extra_user.output_channel, ticket.sender_id, sent)
        if not (answered and ticket.channel in self.pushers):
            await self._push(ticket, sent)
        self.publish(ticket.id)
        return closed

    async def _say(
        self, ticket: Ticket, reply: Reply | None, role: str, author: str, text: str = ""
    ) -> dict[str, Any]:
        """Store an agent/system message on the ticket, add it to the tracker, push it."""
        payload = (
            reply.payload if reply else None
        )  # an agent's own words: built from the stored row
        stored = await self.db(
            self.store.append_message,
            ticket.id,
            reply.text if reply else text,
            role,
            author,
            payload,
        )
        reply = replies.staff_reply(ticket.id, stored)
        await self.append_tracker(
            ticket.sender_id,
            [BotUttered(reply.text, {"custom": reply.payload}, {"live_message_id": stored["id"]})],
        )
        await self._push(ticket, reply)
        self.publish(ticket.id)
        return stored

    # -- plumbing --------------------------------------------------------------

    async def record_csat(self, sender_id: str, channel: str, score: int | None) -> bool:
        """The widget's 1-5 satisfaction question (off by default): asked (score None) or
        answered. Once of each per conversation on every server together: claimed in the
        handoff database first (assistant/outcomes/csat.py), a replayed event is refused."""
        if not self.outcomes.enabled:
            return False
        decision = "asked" if score is None else "answered"
        at = _now()
        try:
            if not await self.db(self.csat.claim, sender_id, decision, at):
                return False
            self.outcomes.record(
                Outcome(
                    at=at,
                    kind="csat",
                    conversation=sender_id,
                    channel=channel,
                    decision=decision,
                    value=None if score is None else float(score),
                )
            )
        except Exception:  # the log must never fail a message
            logger.exception("outcome log")
            return False
        return True

    def _outcome(self, kind: str, ticket: Ticket, decision: str, **fields: Any) -> None:
        """Queue an outcome record (assistant/outcomes/); never fails the caller."""
        try:
            fields.setdefault("channel", ticket.channel)
            self.outcomes.record(
                Outcome(
                    at=_now(),
                    kind=kind,
                    conversation=ticket.sender_id,
                    decision=decision,
                    ticket_id=ticket.id,
                    **fields,
                )
            )
        except Exception:  # the log must never fail a message
            logger.exception("outcome log")

    async def append_tracker(self, sender_id: str, events: list[Event]) -> None:
        agent = self._rasa_agent()
        if agent is None:
            logger.warning(
                "live chat: no Rasa agent yet; %d events for %s not in the tracker",
                len(events),
                sender_id,
            )
            return
        async with agent.lock_store.lock(sender_id, wait_time_in_seconds=LOCK_WAIT):
            tracker = await agent.processor.fetch_tracker_with_initial_session(sender_id)
            for event in events:
                tracker.update(event, agent.domain)
            await agent.tracker_store.save(tracker)

    async def _push(self, ticket: Ticket, reply: Reply) -> None:
        """Real time to a socket.io customer; REST customers pull (docs/live-chat.md);
        channels with a pusher (LINE) get a push, and the agent is told when it failed."""
        if ticket.channel in self.pushers:
            problem = await self.pushers[ticket.channel](ticket, reply)
            if problem:
                note = PUSH_PROBLEMS.get(problem, PUSH_PROBLEMS["failed"])
                await self.db(
                    self.store.append_message,
                    ticket.id,
                    note,
                    "system",
                    None,
                    {"kind": "delivery_failed", "reason": problem},
                )
            return
        if self.sio is None or ticket.channel != "socketio":
            return
        await self.sio.emit(
            self.bot_message_evt,
            {"text": reply.text, "custom": reply.payload},
            room=ticket.sender_id,
            namespace=self.sio_namespace,
        )

    async def resend(self, sender_id: str, after: int, sid: str) -> int:
        """Agent/system messages with id > ``after`` to one socket (a widget that was
        offline or reloading while the agent wrote). Returns how many were sent."""
        found = await self.db(self.store.staff_messages_for_sender, sender_id, after)
        for m in found:
            reply = replies.staff_reply(m["ticket_id"], m)
            await self.sio.emit(
                self.bot_message_evt,
                {"text": reply.text, "custom": reply.payload},
                room=sid,
                namespace=self.sio_namespace,
            )
        return len(found)

    def listen(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=100)
        self._listeners.add(q)
        return q

    def unlisten(self, q: asyncio.Queue) -> None:
        self._listeners.discard(q)

    def listener_count(self) -> int:
        """Event streams open now (one per console tab)."""
        return len(self._listeners)

    def publish(self, ticket_id: str | None) -> None:
        for q in list(self._listeners):
            if q.full():  # a stalled console: it re-reads everything on the next event anyway
                continue
            q.put_nowait({"ticket": ticket_id})

    async def _watch(self) -> None:
        last = None
        while True:
            try:
                marker = await self.db(self.store.change_marker)
                if last is not None and marker != last:
                    self.publish(None)
                last = marker
            except Exception:  # the database may be briefly unreachable: keep watching
                logger.exception("live chat: change watcher")
            await asyncio.sleep(WATCH_INTERVAL)


def _seconds(since: datetime | None) -> float | None:
    return round((_now() - since).total_seconds(), 3) if since else None


def sent_count(output_channel: Any) -> int | None:
    """How many messages an output channel has sent (None: a channel that cannot say)."""
    if isinstance(
        getattr(output_channel, "messages", None), list
    ):  # REST's CollectingOutputChannel
        return len(output_channel.messages)
    return getattr(output_channel, "sent", None)  # socket.io (channels/socketio_allowlist.py)


async def _send(output_channel: Any, recipient_id: str, reply: Reply) -> None:
    """As every bot reply: the text, then the payload (README, Response contract)."""
    await output_channel.send_text_message(recipient_id, reply.text)
    await output_channel.send_custom_json(recipient_id, reply.payload)


@lru_cache(maxsize=1)
def live_chat() -> LiveChat:
    """The process's one LiveChat, on HANDOFF_DB_URL (the same database as the action server)."""
    return LiveChat(TicketStore(HandoffSettings.from_env().db_url))
