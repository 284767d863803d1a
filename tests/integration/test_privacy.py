"""Card numbers are stored nowhere in clear (issue 16, item 1), over the real servers.

A scripted conversation types card numbers, security codes, expiry dates and a
マイナンバー over REST, over socket.io (text and metadata), during a handoff and to
an agent who owns the conversation; an agent types one too. Then every store is
searched for the clear digits: the tracker database (all rows), the handoff
database (all tables), the webhook receiver's payloads and both servers' logs
(Rasa at DEBUG, which logs every user message). The contact step still keeps the
phone number it asked for; elsewhere a phone number is masked."""

from __future__ import annotations

import re
import sqlite3
import time
import unicodedata
import uuid
from pathlib import Path

import pytest
import requests

from devtools.console_client import Console, add_agent
from devtools.launch import MODEL, custom_payloads, start_servers
from tests.integration.conftest import hours_file
from tests.support.ci import unavailable
from tests.support.receiver import Receiver, wait_until
from tests.support.tracker import events, user_texts
from tests.support.widget_client import Customer

# What is typed, and the digits that must never be found again (separators dropped).
CARD_REST = "カード番号は4980 0000 0000 0009です"
CARD_HANDOFF = "カード番号 4980-0000-0000-0009、有効期限 12/28、セキュリティコード 739"
CARD_ONLY = "4111111111111111"
CARD_WIDE = "４５３０　１１１３　３３３０　００００ で払いました"  # JCB test number, full width
CARD_TO_AGENT = "カードは5555-5555-5555-4444、裏の3桁は862です"
CARD_BY_AGENT = "お客様のカード 3782 822463 10005 を確認しました"
CARD_SOCKET = "この番号で払えますか 6011 1111 1111 1117"
CARD_METADATA = "4012888888881881"
MYNUMBER = "マイナンバーは123456789018です"
CLEAR = [
    "4980000000000009",
    "4111111111111111",
    "4530111333300000",
    "5555555555554444",
    "378282246310005",
    "6011111111111117",
    "4012888888881881",
    "123456789018",
]
CLEAR_CODES = [
    "コード739",
    "3桁は862",
    "有効期限12/28",
]  # the code/date with its cue, spaces dropped


def squeeze(text: str) -> str:
    """JSON escapes undone, NFKC, and spaces / hyphens between digits dropped: every
    way of writing a number."""
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d)[\s\-\u2010-\u2015\u2212ー]*(?=\d)", "", text)
    return re.sub(r"\s+", "", text)


def leaks(text: str) -> list[str]:
    flat = squeeze(text)
    return [c for c in CLEAR + CLEAR_CODES if c in flat]


@pytest.fixture(scope="module")
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="module")
def bot(tmp_path_factory, receiver):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    workdir = tmp_path_factory.mktemp("privacy")
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
            "HANDOFF_WEBHOOK_URL": receiver.url,
            "LOG_LEVEL": "DEBUG",  # Rasa logs every user message: the logs are searched too
        },
    )
    yield servers
    servers.stop()


@pytest.fixture(scope="module")
def store(bot):
    from assistant.handoff.tickets import TicketStore

    s = TicketStore(bot.env["HANDOFF_DB_URL"])
    yield s
    s.dispose()


@pytest.fixture(scope="module")
def agent(bot):
    c = Console(bot.rasa_url)
    assert c.login("suzuki", add_agent(bot.env, "suzuki", "鈴木")).status_code == 200
    return c


def kinds(replies: list[dict]) -> list[str]:
    return [p["kind"] for p in custom_payloads(replies)]


def notice_of(replies: list[dict]) -> dict:
    found = [p for p in custom_payloads(replies) if p["kind"] == "privacy_notice"]
    assert len(found) == 1, kinds(replies)
    return found[0]


def test_rest_masks_before_the_tracker_and_tells_once(bot):
    sender = f"pv-{uuid.uuid4().hex[:8]}"
    first = bot.say(sender, CARD_REST)
    notice = notice_of(first)
    assert "**** **** **** 0009" in notice["masked"] and notice["kinds"] == ["card"]
    assert "入力しないでください" in notice["text"]
    assert (
        kinds(first)[-1] == "privacy_notice" and len(kinds(first)) >= 2
    )  # the bot's reply, then the note
    again = bot.say(sender, CARD_WIDE)
    assert "privacy_notice" not in kinds(again)  # once per conversation
    assert user_texts(bot.workdir, sender) == [
        "カード番号は**** **** **** 0009です",
        "**** **** **** 0000 で払いました",
    ]


def test_a_message_that_is_only_a_card_number_gets_the_echo_and_the_note(bot):
    sender = f"pv-{uuid.uuid4().hex[:8]}"
    r = requests.post(bot.rest_url, json={"sender": sender, "message": CARD_ONLY}, timeout=30)
    assert r.status_code == 200
    notice = notice_of(r.json())
    assert notice["masked"] == "**** **** **** 1111"
    assert len(kinds(r.json())) >= 2  # a reply of the bot too, never an error


def test_mynumber_is_masked(bot):
    sender = f"pv-{uuid.uuid4().hex[:8]}"
    assert notice_of(bot.say(sender, MYNUMBER))["kinds"] == ["mynumber"]
    assert user_texts(bot.workdir, sender) == ["マイナンバーは**** **** ****です"]


def test_handoff_ticket_transcript_webhook_and_console_see_masked_text(bot, store, agent, receiver):
    sender = f"pv-{uuid.uuid4().hex[:8]}"
    bot.say(sender, CARD_REST)
    assert "handoff" in kinds(bot.say(sender, "オペレーターと話したい"))
    ticket = store.open_for_sender(sender)
    assert wait_until(lambda: ticket.id in receiver.ticket_ids())
    bot.say(sender, CARD_HANDOFF)  # during the handoff form: appended to the ticket
    assert agent.claim(ticket.id).status_code == 200
    bot.say(sender, CARD_TO_AGENT)  # the agent owns it now: the gate stores it
    assert agent.say(ticket.id, CARD_BY_AGENT).status_code == 201
    detail = agent.ticket(ticket.id)
    shown = str(detail)
    assert (
        "**** **** **** 0009" in shown
        and "**** **** **** 4444" in shown
        and "**** **** **** 0005" in shown
    )
    assert leaks(shown) == []
    assert leaks(str(agent.queue())) == []
    replies = requests.get(
        f"{bot.rasa_url}/webhooks/rest/agent_messages",
        params={"sender": sender, "after": "0"},
        timeout=10,
    ).json()
    assert any("**** **** **** 0005" in m["text"] for m in replies) and leaks(str(replies)) == []


def test_socketio_text_and_metadata_are_masked(bot):
    customer = Customer(bot.rasa_url)
    try:
        customer.sio.emit(
            "user_uttered",
            {
                "message": CARD_SOCKET,
                "session_id": customer.session_id,
                "metadata": {"note": CARD_METADATA},
            },
        )
        customer.wait_for("privacy_notice")
        stored = [e for e in events(bot.workdir, customer.session_id) if e.get("event") == "user"]
        assert wait_until(
            lambda: (
                user_texts(bot.workdir, customer.session_id)
                == ["この番号で払えますか **** **** **** 1117"]
            )
        )
        stored = [e for e in events(bot.workdir, customer.session_id) if e.get("event") == "user"]
        assert stored[0]["metadata"]["note"] == "**** **** **** 1881"
        assert leaks(str(stored)) == []
    finally:
        customer.close()


def test_no_store_holds_a_clear_card_number(bot, receiver, store):
    """Last of the scripted conversation: search every store."""
    time.sleep(1.0)  # trackers are saved just after the replies
    tracker_rows = _all_rows(bot.workdir / "tracker.db")
    assert "**** **** **** 0009" in tracker_rows  # the conversations are there, masked
    assert leaks(tracker_rows) == []
    handoff_rows = _all_rows(Path(bot.env["HANDOFF_DB_URL"].removeprefix("sqlite:///")))
    assert "**** **** **** 0009" in handoff_rows
    assert leaks(handoff_rows) == []
    assert receiver.bodies() and leaks(str(receiver.bodies())) == []
    for log in bot.workdir.glob("*.log"):
        text = log.read_text(errors="replace")
        assert leaks(text) == [], log.name
    rasa_log = squeeze((bot.workdir / "rasa.log").read_text(errors="replace"))
    assert (
        "parse_data_text" in rasa_log and "カード番号は************0009" in rasa_log
    )  # DEBUG logs every text


def test_contact_step_keeps_the_phone_it_asked_for_and_masks_it_elsewhere(bot, store):
    sender = f"pv-{uuid.uuid4().hex[:8]}"
    bot.say(sender, "電話は090-1111-2222です。ACWとは?")  # not asked for: masked
    assert user_texts(bot.workdir, sender)[0] == "電話は***-****-2222です。ACWとは?"
    bot.restart_actions({"HANDOFF_HOURS_FILE": str(hours_file(bot.workdir / "closed.yml", False))})
    try:
        assert "ask_contact" in kinds(bot.say(sender, "オペレーターと話したい"))
        saved = bot.say(sender, "090-1234-5678")
        assert "contact_saved" in kinds(saved)
        assert store.open_for_sender(sender).contact == "+819012345678"
    finally:
        bot.restart_actions({"HANDOFF_HOURS_FILE": str(hours_file(bot.workdir / "open.yml", True))})


def _all_rows(db: Path) -> str:
    con = sqlite3.connect(db)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()
