"""Escalation to a person through the REST channel, with real servers, a real
webhook receiver and a real database (SQLite, and PostgreSQL in test_postgres.py)."""

from __future__ import annotations

import re
import time
import uuid

import pytest

from devtools.launch import custom_payloads
from tests.integration.conftest import hours_file
from tests.support.receiver import wait_until

TICKET_ID = re.compile(r"^ESC-\d{8}-\d{4}$")


def new_sender() -> str:
    return f"h-{uuid.uuid4().hex[:10]}"


def ask(bot, sender, text):
    return custom_payloads(bot.say(sender, text))


def start_handoff(bot, sender, first_question="ACWとは?"):
    assert ask(bot, sender, first_question)[0]["kind"] == "definition"
    payload = ask(bot, sender, "オペレーターと話したい")[0]
    assert payload["kind"] == "handoff" and TICKET_ID.match(payload["ticket"])
    return payload


def test_explicit_handoff_stores_ticket_with_transcript_and_notifies(bot, store, receiver):
    sender = new_sender()
    payload = start_handoff(bot, sender)
    assert payload["within_hours"] is True
    ticket = store.get(payload["ticket"])
    assert ticket.sender_id == sender and ticket.channel == "rest"
    assert ticket.reason == "explicit" and ticket.status == "open"
    assert ticket.last_question == "ACWとは?"
    roles_texts = [(t["role"], t["text"]) for t in ticket.transcript]
    assert ("user", "ACWとは?") in roles_texts
    assert any(role == "bot" and "アフターコールワーク" in text for role, text in roles_texts)
    assert wait_until(lambda: payload["ticket"] in receiver.ticket_ids(), timeout=20)
    body = next(b for b in receiver.bodies() if b.get("ticket", {}).get("id") == payload["ticket"])
    assert body["event"] == "handoff.ticket_created"
    assert any(t["text"] == "ACWとは?" for t in body["ticket"]["transcript"])
    assert wait_until(
        lambda: store.get(payload["ticket"]).delivery_status == "delivered", timeout=10
    )


def test_followups_go_to_the_ticket_until_back_to_bot(bot, store):
    sender = new_sender()
    ticket_id = start_handoff(bot, sender)["ticket"]
    for text in ["まだですか?", "SVとは?"]:  # even a question is for the person now
        reply = ask(bot, sender, text)
        assert reply[0]["kind"] == "handoff_message" and reply[0]["ticket"] == ticket_id
    assert [m["text"] for m in store.get(ticket_id).messages] == ["まだですか?", "SVとは?"]
    assert ask(bot, sender, "ボットに戻る")[0]["kind"] == "back_to_bot"
    assert ask(bot, sender, "SVとは?")[0]["term"] == "スーパーバイザー"


@pytest.mark.parametrize(
    "definition,request_",
    [
        ("オペレーターとは", "オペレーターと話したい"),
        ("エスカレーションとは?", "エスカレーションしてください"),
        ("エージェントって何?", "エージェントにつないでください"),
        # Term + request phrase the classifier may read as a definition question:
        ("すーぱーばいざーとは", "すーぱーばいざーさんとはなしたいです"),
        ("エスカレーションの意味は?", "エスカレーションをお願いしてもいいですか"),
    ],
)
def test_definition_versus_request(bot, definition, request_):
    assert ask(bot, new_sender(), definition)[0]["kind"] == "definition"
    assert ask(bot, new_sender(), request_)[0]["kind"] == "handoff"


def test_two_failures_offer_a_person_and_yes_hands_off(bot, store):
    sender = new_sender()
    first = ask(bot, sender, "モニタリングとは?")
    assert [p["kind"] for p in first] == ["unknown_term"]
    second = ask(bot, sender, "ロープレとは?")
    assert [p["kind"] for p in second] == ["unknown_term", "offer_human"]
    handoff = ask(bot, sender, "はい")[0]
    assert handoff["kind"] == "handoff"
    ticket = store.get(handoff["ticket"])
    assert ticket.reason == "fallback" and ticket.last_question == "ロープレとは?"


def test_offer_declined_creates_no_ticket(bot, store):
    sender = new_sender()
    ask(bot, sender, "モニタリングとは?")
    assert ask(bot, sender, "ロープレとは?")[-1]["kind"] == "offer_human"
    assert ask(bot, sender, "いいえ")[0]["kind"] == "offer_declined"
    assert store.open_for_sender(sender) is None


def test_thumbs_down_offers_a_person(bot, store):
    sender = new_sender()
    ask(bot, sender, "CRMとは")
    assert ask(bot, sender, "/feedback_negative")[0]["kind"] == "offer_human"
    handoff = ask(bot, sender, "/affirm")[0]
    assert store.get(handoff["ticket"]).reason == "feedback"


def test_staff_closing_the_ticket_returns_to_the_bot(bot, store):
    sender = new_sender()
    ticket_id = start_handoff(bot, sender)["ticket"]
    store.close(ticket_id)
    assert ask(bot, sender, "もしもし")[0]["kind"] == "handoff_closed"
    assert ask(bot, sender, "CSとは")[0]["term"] == "顧客満足度"


def test_restarting_the_action_server_loses_nothing(bot, store):
    sender = new_sender()
    ticket_id = start_handoff(bot, sender)["ticket"]
    ask(bot, sender, "一通目")
    bot.restart_actions()
    assert ask(bot, sender, "二通目")[0]["kind"] == "handoff_message"
    assert [m["text"] for m in store.get(ticket_id).messages] == ["一通目", "二通目"]


def test_big_and_odd_followups_are_stored_verbatim_up_to_the_cap(bot, store):
    """Beyond 5,000 characters (the NLU's copy stops at 1,000) the ticket keeps the
    first 5,000 and a note of what was cut (CHAT_MAX_MESSAGE_CHARS)."""
    sender = new_sender()
    ticket_id = start_handoff(bot, sender)["ticket"]
    long = "長文" * 2_500  # 5,000 characters: kept whole
    big = "長文" * 25_000  # 50,000 characters
    odd = '😀 <img src=x onerror=alert(1)> & "quotes"'
    for text in (long, big, odd):
        assert ask(bot, sender, text)[0]["kind"] == "handoff_message"
    stored = [m["text"] for m in store.get(ticket_id).messages]
    assert stored[0] == long and stored[2] == odd
    assert stored[1].startswith(big[:5000]) and "45,000文字を省略しました" in stored[1]


def test_webhook_down_keeps_the_ticket_and_delivers_later(bot, store, receiver):
    receiver.stop()
    try:
        sender = new_sender()
        started = time.monotonic()
        ticket_id = start_handoff(bot, sender)["ticket"]
        assert time.monotonic() - started < 10  # the reply never waits on the webhook
        assert wait_until(lambda: store.get(ticket_id).delivery_attempts >= 1, timeout=15)
        assert store.get(ticket_id).delivery_status != "delivered"
    finally:
        receiver.start()
    assert wait_until(lambda: ticket_id in receiver.ticket_ids(), timeout=60)
    assert wait_until(lambda: store.get(ticket_id).delivery_status == "delivered", timeout=10)


def test_out_of_hours_collects_a_contact(bot, store, tmp_path):
    bot.restart_actions({"HANDOFF_HOURS_FILE": str(hours_file(tmp_path / "closed.yml", False))})
    try:
        sender = new_sender()
        ask(bot, sender, "IVRとは")
        replies = ask(bot, sender, "担当者に代わってください")
        assert [p["kind"] for p in replies] == ["handoff", "ask_contact"]
        assert replies[0]["within_hours"] is False
        ticket_id = replies[0]["ticket"]
        assert ask(bot, sender, "03-12")[0]["kind"] == "contact_invalid"
        assert ask(bot, sender, "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ")[0]["kind"] == "contact_saved"
        ticket = store.get(ticket_id)
        assert ticket.contact == "taro@example.com" and ticket.contact_kind == "email"
        assert "03-12" in [m["text"] for m in ticket.messages]  # nothing lost

        other = new_sender()
        assert ask(bot, other, "人間と話したい")[-1]["kind"] == "ask_contact"
        assert ask(bot, other, "不要です")[0]["kind"] == "contact_declined"
        assert store.open_for_sender(other).contact is None
    finally:
        bot.restart_actions({"HANDOFF_HOURS_FILE": str(hours_file(tmp_path / "open.yml", True))})


def test_the_action_server_delivers_pending_tickets_when_it_starts(tmp_path):
    """Webhook delivery starts with the server (actions.services.start, called by
    rasa_runtime.actions), not at import: a ticket left pending is delivered."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from assistant.handoff.tickets import TicketStore
    from devtools.launch import free_port
    from tests.support.receiver import Receiver

    db_url = f"sqlite:///{tmp_path / 'handoff.db'}"
    ticket = TicketStore(db_url).create(
        "cust-1", "rest", "explicit", "ACWとは", None, [], [], notify=True
    )
    receiver = Receiver().start()
    env = {
        **os.environ,
        "HANDOFF_DB_URL": db_url,
        "HANDOFF_WEBHOOK_URL": receiver.url,
        "ACTION_SERVER_TOKEN": "pending-" + uuid.uuid4().hex,
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "rasa_runtime.actions", "--port", str(free_port())],
        cwd=Path(__file__).parents[2],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_until(lambda: ticket.id in receiver.ticket_ids(), timeout=120)
    finally:
        server.terminate()
        server.wait(timeout=30)
        receiver.stop()
