"""Exactly once (channels/exactly_once.py, assistant/receipts.py, rasa_runtime/loud_store.py)
with the real servers: REST retries with the same message id get the original reply and
are stored once, also through a second Rasa server on the same databases; bad ids → 400;
a turn whose tracker cannot be saved → 503 and nothing stored, and its retry is processed
once; socket.io replies are held until the turn is stored, re-sent ids are replayed."""

from __future__ import annotations

import sqlite3
import threading
import time
import uuid
from contextlib import contextmanager

import pytest
import requests

from devtools.launch import custom_payloads, free_port, spawn, wait_http
from tests.support.tracker import events, user_texts
from tests.support.widget_client import Customer


def post(bot_url: str, body: dict, headers: dict | None = None, timeout: float = 30):
    return requests.post(
        f"{bot_url}/webhooks/rest/webhook", json=body, headers=headers or {}, timeout=timeout
    )


def stored_user_texts(bot, sender: str) -> list[str]:
    return [e.get("text") for e in events(bot.workdir, sender) if e.get("event") == "user"]


@contextmanager
def tracker_locked(bot):
    """Another writer holds the tracker database's write lock (as a database that does not
    answer): reads go on (WAL), Rasa's save waits 5 s and fails."""
    con = sqlite3.connect(bot.workdir / "tracker.db", timeout=30, isolation_level=None)
    con.execute("BEGIN EXCLUSIVE")
    try:
        yield
    finally:
        con.execute("ROLLBACK")
        con.close()


def test_a_retry_gets_the_original_reply_and_is_not_processed_again(bot):
    sender, mid = f"eo-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    first = post(bot.rasa_url, {"sender": sender, "message": "ACWとは?", "message_id": mid})
    assert first.status_code == 200 and custom_payloads(first.json())[0]["kind"] == "definition"
    again = post(bot.rasa_url, {"sender": sender, "message": "ACWとは?", "message_id": mid})
    assert again.status_code == 200 and again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    # the header form, and a retry after a different message in between
    key = str(uuid.uuid4())
    second = post(bot.rasa_url, {"sender": sender, "message": "CSとは?"}, {"Idempotency-Key": key})
    post(bot.rasa_url, {"sender": sender, "message": "ありがとう"})
    replay = post(bot.rasa_url, {"sender": sender, "message": "CSとは?"}, {"Idempotency-Key": key})
    assert replay.json() == second.json()
    time.sleep(0.5)
    assert stored_user_texts(bot, sender) == ["ACWとは?", "CSとは?", "ありがとう"]


def test_concurrent_retries_are_processed_once(bot):
    sender, mid = f"eo-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    results: list = []

    def send() -> None:
        results.append(
            post(bot.rasa_url, {"sender": sender, "message": "ACWとは?", "message_id": mid})
        )

    threads = [threading.Thread(target=send) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in results] == [200] * 5
    assert len({r.text for r in results}) == 1
    time.sleep(0.5)
    assert stored_user_texts(bot, sender) == ["ACWとは?"]


@pytest.mark.parametrize(
    "body,headers,reason",
    [
        ({"message_id": "x" * 129}, {}, "at most 128"),
        ({"message_id": "bad id"}, {}, "letters, digits"),
        ({"message_id": "改行\n"}, {}, "letters, digits"),
        ({"message_id": 12}, {}, "string"),
        ({"message_id": ""}, {}, "letters, digits"),
        ({"message_id": "a-1"}, {"Idempotency-Key": "a-2"}, "differ"),
        ({}, {"Idempotency-Key": "<script>"}, "letters, digits"),
    ],
)
def test_malformed_message_ids_are_400(bot, body, headers, reason):
    sender = f"eo-{uuid.uuid4().hex[:10]}"
    r = post(bot.rasa_url, {"sender": sender, "message": "ACWとは?", **body}, headers)
    assert r.status_code == 400 and reason in r.json()["reason"], r.text
    assert stored_user_texts(bot, sender) == []


def test_an_id_reused_by_another_sender_is_400_and_leaks_nothing(bot):
    mid = str(uuid.uuid4())
    alice, mallory = f"eo-{uuid.uuid4().hex[:10]}", f"eo-{uuid.uuid4().hex[:10]}"
    assert post(bot.rasa_url, {"sender": alice, "message": "ACWとは?", "message_id": mid}).ok
    r = post(bot.rasa_url, {"sender": mallory, "message": "ACWとは?", "message_id": mid})
    assert r.status_code == 400 and "another sender" in r.json()["reason"]
    assert "アフターコールワーク" not in r.text
    assert stored_user_texts(bot, mallory) == []


def test_a_retry_through_another_server_gets_the_same_reply(bot):
    port = free_port()
    args = list(bot.rasa_args)
    args[args.index("--port") + 1] = str(port)
    other = spawn("rasa-2", args, bot.workdir, bot.env)
    try:
        wait_http(f"http://127.0.0.1:{port}/", other)
        sender, mid = f"eo-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
        first = post(bot.rasa_url, {"sender": sender, "message": "ACWとは?", "message_id": mid})
        retry = post(
            f"http://127.0.0.1:{port}", {"sender": sender, "message": "ACWとは?", "message_id": mid}
        )
        assert retry.status_code == 200 and retry.json() == first.json()
        assert retry.headers.get("Idempotent-Replayed") == "true"
        time.sleep(0.5)
        assert stored_user_texts(bot, sender) == ["ACWとは?"]
    finally:
        other.stop()


def test_a_turn_that_cannot_be_stored_is_503_and_its_retry_is_processed_once(bot):
    sender, mid = f"eo-{uuid.uuid4().hex[:10]}", str(uuid.uuid4())
    post(bot.rasa_url, {"sender": sender, "message": "こんにちは"})
    assert user_texts(bot.workdir, sender)
    with tracker_locked(bot):
        plain = post(bot.rasa_url, {"sender": sender, "message": "ACWとは? 保存できない"})
        with_id = post(bot.rasa_url, {"sender": sender, "message": "CSとは?", "message_id": mid})
    assert plain.status_code == 503 and plain.json()["retryable"] is True, plain.text
    assert with_id.status_code == 503 and with_id.headers.get("Retry-After")
    assert stored_user_texts(bot, sender) == ["こんにちは"]  # no half-stored turn
    retry = post(bot.rasa_url, {"sender": sender, "message": "CSとは?", "message_id": mid})
    assert retry.status_code == 200 and custom_payloads(retry.json())[0]["kind"] == "definition"
    again = post(bot.rasa_url, {"sender": sender, "message": "CSとは?", "message_id": mid})
    assert again.json() == retry.json()
    time.sleep(0.5)
    assert stored_user_texts(bot, sender) == ["こんにちは", "CSとは?"]


def test_socketio_replies_wait_for_the_stored_turn_and_resends_are_replayed(bot):
    customer = Customer(bot.rasa_url)
    acks: list = []
    customer.sio.on("message_ack", lambda data: acks.append(data))
    try:
        customer.say("こんにちは")
        customer.wait_for("greet")
        before = len(customer.received)
        with tracker_locked(bot):
            customer.say("ACWとは?")  # processed, but its save waits for the lock
            time.sleep(2.0)
            assert len(customer.received) == before, "a reply was shown before the turn was stored"
        customer.wait_for("definition")
        assert "ACWとは?" in stored_user_texts(bot, customer.session_id)

        mid = str(uuid.uuid4())
        customer.sio.emit(
            "user_uttered",
            {"message": "CSとは?", "session_id": customer.session_id, "message_id": mid},
        )
        customer.wait_for("definition", 2)
        deadline = time.monotonic() + 10
        while not acks and time.monotonic() < deadline:
            time.sleep(0.05)
        assert acks == [{"message_id": mid}]
        replies = [d for d in customer.received if d.get("reply_to") == mid]
        assert replies and not any(d.get("replay") for d in replies)
    finally:
        customer.close()
    # the reloaded widget re-sends the same id: the stored replies again, no second turn
    again = Customer(bot.rasa_url, customer.session_id, customer.token)
    try:
        again.sio.emit(
            "user_uttered",
            {"message": "CSとは?", "session_id": again.session_id, "message_id": mid},
        )
        again.wait_for("definition")
        assert all(d.get("replay") for d in again.received if d.get("reply_to") == mid)
    finally:
        again.close()
    assert stored_user_texts(bot, customer.session_id).count("CSとは?") == 1


def test_socketio_turn_that_cannot_be_stored_fails_and_the_resend_is_processed_once(bot):
    customer = Customer(bot.rasa_url)
    failed: list = []
    customer.sio.on("message_failed", lambda data: failed.append(data))
    mid = str(uuid.uuid4())
    try:
        customer.say("こんにちは")
        customer.wait_for("greet")
        before = len(customer.received)
        with tracker_locked(bot):
            customer.sio.emit(
                "user_uttered",
                {"message": "ACWとは?", "session_id": customer.session_id, "message_id": mid},
            )
            deadline = time.monotonic() + 11
            while not failed and time.monotonic() < deadline:
                time.sleep(0.1)
        assert failed and failed[0]["message_id"] == mid
        assert len(customer.received) == before  # nothing of the failed turn was shown
        customer.sio.emit(
            "user_uttered",
            {"message": "ACWとは?", "session_id": customer.session_id, "message_id": mid},
        )
        customer.wait_for("definition")
    finally:
        customer.close()
    assert stored_user_texts(bot, customer.session_id).count("ACWとは?") == 1
