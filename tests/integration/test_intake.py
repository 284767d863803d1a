"""Message intake on the real servers: size cap, rate limits, bad REST bodies, and
Rasa's reset commands during a handoff (they used to end it silently)."""

from __future__ import annotations

import uuid

import pytest
import requests

from devtools.launch import custom_payloads
from tests.support.tracker import user_texts


def kinds(replies):
    return [p["kind"] for p in custom_payloads(replies)]


@pytest.mark.parametrize(
    "body",
    [
        "null",
        "[]",
        '"text"',
        "12",
        "{bad json",
        "{}",
        '{"message": "hi"}',
        '{"sender": "", "message": "hi"}',
        '{"sender": 5, "message": "hi"}',
        '{"sender": "a\\nb", "message": "hi"}',
        '{"sender": "x", "message": 5}',
        '{"sender": "x", "message": null}',
        '{"sender": "x", "message": ["a"]}',
    ],
)
def test_bad_rest_bodies_are_400_with_a_reason(bot, body):
    r = requests.post(
        bot.rest_url, data=body, headers={"Content-Type": "application/json"}, timeout=10
    )
    assert r.status_code == 400 and r.json()["error"] == "bad_request" and r.json()["reason"]


def test_a_huge_message_is_cut_with_a_note_and_answered(bot):
    sender = f"big-{uuid.uuid4().hex[:8]}"
    replies = bot.say(sender, "ACWとは?" + "あ" * 20_000)
    assert replies  # answered
    stored = user_texts(bot.workdir, sender)[-1]
    assert len(stored) < 5100 and stored.startswith("ACWとは?") and "省略しました" in stored
    assert kinds(bot.say(sender, "ACWとは?"))[-1] == "definition"  # the conversation goes on


def test_rest_clients_behind_a_proxy_are_rate_limited_per_conversation(bot):
    sender = f"fast-{uuid.uuid4().hex[:8]}"
    headers = {"X-Forwarded-For": "198.51.100.23"}  # documentation address, header only
    codes = [
        requests.post(
            bot.rest_url,
            json={"sender": sender, "message": "こんにちは"},
            headers=headers,
            timeout=30,
        ).status_code
        for _ in range(31)
    ]
    assert codes[:30] == [200] * 30 and codes[30] == 429
    limited = requests.post(
        bot.rest_url, json={"sender": sender, "message": "x"}, headers=headers, timeout=10
    )
    assert limited.json()["error"] == "rate_limited" and int(limited.headers["Retry-After"]) > 0
    assert bot.say(sender, "ACWとは?")  # loopback itself (tests, eval, bench) is not limited


def test_reset_commands_during_a_handoff_are_refused_and_recorded(bot, store):
    sender = f"reset-{uuid.uuid4().hex[:8]}"
    assert "handoff" in kinds(bot.say(sender, "オペレーターと話したい"))
    for command in ("/restart", "/session_start", "/back"):
        assert kinds(bot.say(sender, command)) == ["command_refused"], command
    ticket = store.open_for_sender(sender)
    assert [m["text"] for m in ticket.messages] == ["/restart", "/session_start", "/back"]
    assert kinds(bot.say(sender, "まだですか")) == ["handoff_message"]  # still in the handoff
    assert store.get(ticket.id).messages[-1]["text"] == "まだですか"
    # Outside a handoff /restart keeps working as Rasa defines it.
    other = f"reset-{uuid.uuid4().hex[:8]}"
    bot.say(other, "ACWとは?")
    assert "command_refused" not in kinds(bot.say(other, "/restart"))
