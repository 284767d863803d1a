"""The live chat's channel logic (channels/live.py) in milliseconds instead of through
real servers: the takeover gate, the refused reset commands, no silent turns, an
agent joining and leaving. Real parts: LiveChat, the ticket store (SQLite file),
Rasa's in-memory tracker and lock stores, Rasa's REST output channel
(CollectingOutputChannel) and the response contract. Stand-ins: Rasa's message
handling (`rasa_turn`, which records that Rasa was asked and may answer), the
socket.io output channel and server (they record what was sent), and the Rasa
agent the channel reaches through the Sanic app (the stores above, a processor
that fetches trackers from them). The same flows run end to end with real
servers in tests/integration/test_live_chat.py and tests/e2e/test_live_takeover.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.lock_store import InMemoryLockStore
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered

from assistant.contract import problems
from assistant.conversation import HANDOFF_FORM, HANDOFF_TICKET, RESET_AFTER_HANDOFF
from assistant.handoff.tickets import TicketStore
from assistant.livechat.agents import Agent
from channels.live import LiveChat

REPO = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(REPO / "domain.yml"))
SENDER = "cust-1"
AGENT = Agent(
    username="sato", display_name="佐藤", status="available", last_seen=None, disabled=False
)


class SocketOutput:
    """socket.io's output channel as the gate sees it: counts what it sent."""

    def __init__(self) -> None:
        self.sent = 0
        self.messages: tuple = ()  # not a list: the gate must use `sent`
        self.log: list[tuple[str, Any]] = []

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        self.sent += 1
        self.log.append(("text", text))

    async def send_custom_json(self, recipient_id: str, json_message: dict, **kwargs: Any) -> None:
        self.sent += 1
        self.log.append(("custom", json_message))


class SocketServer:
    """socketio.AsyncServer.emit, recorded."""

    def __init__(self) -> None:
        self.emitted: list[dict] = []

    async def emit(self, event: str, data: dict, room: str, namespace: Any = None) -> None:
        self.emitted.append({"event": event, "data": data, "room": room})


class Processor:
    def __init__(self, tracker_store: InMemoryTrackerStore) -> None:
        self.tracker_store = tracker_store

    async def fetch_tracker_with_initial_session(self, sender_id: str):
        return await self.tracker_store.get_or_create_tracker(sender_id)


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.store = TicketStore(f"sqlite:///{tmp_path / 'handoff.db'}")
        self.trackers = InMemoryTrackerStore(DOMAIN)
        agent = SimpleNamespace(
            processor=Processor(self.trackers),
            lock_store=InMemoryLockStore(),
            tracker_store=self.trackers,
            domain=DOMAIN,
        )
        self.live = LiveChat(self.store)
        self.live.app = SimpleNamespace(ctx=SimpleNamespace(agent=agent))
        self.sio = SocketServer()
        self.live.attach_socketio(self.sio, None, "bot_uttered")
        self.rasa_saw: list[str] = []
        self.rasa_answers = True

    async def rasa_turn(self, message: UserMessage) -> None:
        """Stands in for Rasa's handling of a message that passed the gate."""
        self.rasa_saw.append(message.text)
        if self.rasa_answers:
            await message.output_channel.send_text_message(message.sender_id, "ボットの答え")

    async def send(self, text: str, channel: str = "rest") -> Any:
        output: Any = CollectingOutputChannel() if channel == "rest" else SocketOutput()
        message = UserMessage(text, output, SENDER, input_channel=channel)
        await self.live.gate(self.rasa_turn)(message)
        return output

    def ticket(self, channel: str = "rest", owner: str | None = None):
        t = self.store.create(SENDER, channel, "explicit", "ACWとは", None, [], [], notify=False)
        if owner:
            self.store.claim(t.id, owner, "佐藤")
        return t

    async def events(self) -> list:
        tracker = await self.trackers.retrieve(SENDER)
        return list(tracker.events) if tracker else []

    async def form_active(self, ticket_id: str) -> None:
        tracker = await self.trackers.get_or_create_tracker(SENDER)
        tracker.update(ActiveLoop(HANDOFF_FORM))
        tracker.update(SlotSet(HANDOFF_TICKET, ticket_id))
        await self.trackers.save(tracker)


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.store.dispose()


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, timeout=10))


def payloads(output: CollectingOutputChannel) -> list[dict]:
    found = [m["custom"] for m in output.messages if "custom" in m]
    for p in found:
        assert problems(p) == [], p  # every reply follows the response contract
    return found


def kinds(output: CollectingOutputChannel) -> list[str]:
    return [p["kind"] for p in payloads(output)]


# -- no agent: Rasa answers ---------------------------------------------------------------


def test_without_a_handoff_rasa_answers(world):
    out = run(world.send("ACWとは?"))
    assert world.rasa_saw == ["ACWとは?"]
    assert [m.get("text") for m in out.messages] == ["ボットの答え"]


@pytest.mark.parametrize(
    "text, kind", [("/restart", "reset"), ("/session_start", "reset"), ("ACWとは?", "fallback")]
)
def test_a_turn_rasa_leaves_silent_gets_a_reply(world, text, kind):
    world.rasa_answers = False
    out = run(world.send(text))
    assert world.rasa_saw == [text]
    assert kinds(out) == [kind]
    said = [e for e in run(world.events()) if isinstance(e, BotUttered)]
    assert [e.data["custom"]["kind"] for e in said] == [kind]  # in the tracker too


def test_a_silent_socketio_turn_is_counted_by_sent(world):
    world.rasa_answers = False
    out = run(world.send("/restart", channel="socketio"))
    assert [k for k, _ in out.log] == ["text", "custom"]
    assert out.log[1][1]["kind"] == "reset"


# -- an agent owns the conversation: Rasa never sees the message -----------------------


def test_a_message_to_an_agent_goes_to_the_ticket_not_to_rasa(world):
    ticket = world.ticket(owner="sato")
    out = run(world.send("請求について教えて"))
    assert world.rasa_saw == []
    assert out.messages == []  # nothing new from the agent yet
    stored = world.store.get(ticket.id).messages
    assert [(m["role"], m["text"]) for m in stored][-1] == ("customer", "請求について教えて")
    events = run(world.events())
    user = [e for e in events if isinstance(e, UserUttered)]
    assert [u.text for u in user] == ["請求について教えて"]
    assert user[0].metadata["to_agent"] is True
    assert isinstance(events[-1], ActionExecuted) and events[-1].action_name == "action_listen"


def test_a_rest_customer_gets_what_the_agent_wrote_since_the_last_message(world):
    ticket = world.ticket(owner="sato")
    run(world.send("こんにちは"))
    run(world.live.agent_message(world.store.get(ticket.id), AGENT, "お調べします"))
    out = run(world.send("お願いします"))
    assert world.rasa_saw == []
    assert [(p["kind"], p["text"]) for p in payloads(out)] == [("agent_message", "お調べします")]


def test_the_customer_can_ask_for_the_bot_back(world):
    ticket = world.ticket(owner="sato")
    out = run(world.send("ボットに戻して"))
    assert world.rasa_saw == []
    assert kinds(out) == ["agent_left"]
    closed = world.store.get(ticket.id)
    assert closed.status == "closed"
    events = run(world.events())
    assert any(isinstance(e, ActiveLoop) and e.name is None for e in events)
    reset = {e.key: e.value for e in events if isinstance(e, SlotSet)}
    assert reset == dict(RESET_AFTER_HANDOFF)
    run(world.send("ACWとは?"))  # the bot answers again
    assert world.rasa_saw == ["ACWとは?"]


# -- reset commands during a handoff ---------------------------------------------------


def test_a_reset_during_the_handoff_form_is_refused_and_kept(world):
    ticket = world.ticket()
    run(world.form_active(ticket.id))
    out = run(world.send("/restart"))
    assert world.rasa_saw == []
    assert kinds(out) == ["command_refused"]
    assert world.store.get(ticket.id).messages[-1]["text"] == "/restart"
    assert run(world.events())[-1].action_name == "action_listen"


def test_a_reset_with_an_open_ticket_but_no_form_goes_to_rasa(world):
    world.ticket()
    run(world.send("/restart"))
    assert world.rasa_saw == ["/restart"]


def test_a_reset_while_an_agent_owns_it_reaches_the_agent(world):
    ticket = world.ticket(owner="sato")
    run(world.send("/session_start"))
    assert world.rasa_saw == []
    assert world.store.get(ticket.id).messages[-1]["text"] == "/session_start"


# -- agent side -------------------------------------------------------------------------


def test_an_agent_joining_is_pushed_to_a_socketio_customer_and_kept_in_the_tracker(world):
    ticket = world.ticket(channel="socketio")
    claimed = run(world.live.claim(ticket.id, AGENT, "127.0.0.1"))
    assert claimed.owner == "sato"
    [pushed] = world.sio.emitted
    assert pushed["room"] == SENDER and pushed["data"]["custom"]["kind"] == "agent_joined"
    assert problems(pushed["data"]["custom"]) == []
    said = [e for e in run(world.events()) if isinstance(e, BotUttered)]
    assert [e.data["custom"]["kind"] for e in said] == ["agent_joined"]


def test_a_rest_customer_is_not_pushed_to(world):
    ticket = world.ticket(channel="rest")
    run(world.live.claim(ticket.id, AGENT, "127.0.0.1"))
    assert world.sio.emitted == []
