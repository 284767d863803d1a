"""Webhook delivery against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from assistant.handoff.delivery import DeliveryQueue
from assistant.handoff.notify import WebhookNotifier, backoff_delay, deliver
from assistant.handoff.settings import HandoffSettings, notifier_from_env
from assistant.handoff.tickets import TicketStore
from assistant.handoff.webhook_format import EVENT_CREATED, build_payload

UTC = timezone.utc
T0 = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)
TRANSCRIPT = [
    {"role": "user", "text": "送料はいくら？", "time": "2026-11-22T15:29:00+00:00"},
    {
        "role": "bot",
        "text": "すみません、わかりませんでした。",
        "time": "2026-11-22T15:29:01+00:00",
    },
    {
        "role": "user",
        "text": "<script>alert('x')</script> & <!channel>",
        "time": "2026-11-22T15:29:30+00:00",
    },
]


def make(store, **kw):
    args = {
        "sender_id": "user-1",
        "channel": "web",
        "reason": "fallback",
        "last_question": "送料はいくら？",
        "term": "送料",
        "candidates": ["送料", "配送料"],
        "transcript": TRANSCRIPT,
        "contact": "+819012345678",
        "contact_kind": "phone",
        "now": T0,
    }
    args.update(kw)
    return store.create(**args)


# -- payloads ---------------------------------------------------------------


def test_json_payload_has_everything(store):
    t = make(store)
    store.append_message(t.id, "追加です", now=T0 + timedelta(minutes=1))
    payload = build_payload(store.get(t.id), "json")
    assert payload["event"] == EVENT_CREATED
    tk = payload["ticket"]
    assert tk["id"] == t.id and tk["reason"] == "fallback" and tk["sender_id"] == "user-1"
    assert tk["created_at"] == T0.isoformat()
    assert tk["transcript"] == TRANSCRIPT
    assert tk["candidates"] == ["送料", "配送料"] and tk["term"] == "送料"
    assert tk["contact"] == "+819012345678" and tk["contact_kind"] == "phone"
    assert tk["messages"] == [
        {
            "id": 1,
            "ticket_id": t.id,
            "role": "customer",
            "author": None,
            "payload": None,
            "text": "追加です",
            "time": (T0 + timedelta(minutes=1)).isoformat(),
        }
    ]
    assert tk["owner"] is None and tk["claimed_at"] is None
    assert tk["delivery_status"] == "pending"
    json.dumps(payload)


def test_slack_payload_is_a_readable_summary(store):
    t = make(store)
    payload = build_payload(store.get(t.id), "slack")
    assert set(payload) == {"text"}
    text = payload["text"]
    for part in [
        t.id,
        "ボットが回答できず",
        "送料はいくら？",
        "090-1234-5678 (電話)",
        "お客様: 送料はいくら？",
        "ボット: すみません",
        "2026-11-23 00:30 JST",
        "00:29",
    ]:
        assert part in text, part
    # User text cannot ping the channel or inject markup.
    assert "<!channel>" not in text and "<script>" not in text
    assert "&lt;!channel&gt;" in text and "&amp;" in text


def test_slack_payload_is_capped(store):
    t = make(
        store,
        last_question="長" * 100_000,
        transcript=[{"role": "user", "text": "あ" * 5000, "time": ""}] * 50,
    )
    text = build_payload(store.get(t.id), "slack")["text"]
    assert len(text) < 4000 and t.id in text.splitlines()[-1]
    # ... while the JSON format keeps everything.
    assert len(build_payload(store.get(t.id), "json")["ticket"]["last_question"]) == 100_000


def test_unknown_format(store):
    with pytest.raises(ValueError):
        build_payload(make(store), "xml")
    with pytest.raises(ValueError):
        WebhookNotifier(store, "http://127.0.0.1:9/", fmt="xml")


def test_backoff_schedule():
    assert [backoff_delay(n).total_seconds() for n in range(1, 12)] == [
        5,
        10,
        20,
        40,
        80,
        160,
        320,
        600,
        600,
        600,
        600,
    ]


# -- deliver ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["json", "slack"])
def test_deliver_ok(store, receiver, fmt):
    t = make(store)
    assert deliver(store, t.id, receiver.url, fmt, 3.0) is True
    got = store.get(t.id)
    assert got.delivery_status == "delivered" and got.delivery_attempts == 1
    assert len(receiver.requests) == 1
    req = receiver.requests[0]
    assert req["headers"]["Idempotency-Key"] == t.id
    assert req["headers"]["Content-Type"].startswith("application/json")
    # What was sent is the ticket as it was when the POST went out.
    assert req["body"] == build_payload(t, fmt)
    # Already delivered: no second POST.
    assert deliver(store, t.id, receiver.url, fmt, 3.0) is True
    assert len(receiver.requests) == 1


def test_receiver_down_then_back(store, down_receiver):
    t = make(store)
    assert deliver(store, t.id, down_receiver.url, "json", 1.0, now=T0) is False
    got = store.get(t.id)
    assert got.status == "open"  # the ticket itself is untouched
    assert got.delivery_status == "pending" and got.delivery_attempts == 1
    assert got.next_attempt_at == T0 + timedelta(seconds=5)
    assert "Connection" in got.last_delivery_error

    notifier = WebhookNotifier(store, down_receiver.url, timeout=1.0)
    assert notifier.retry_due(now=T0 + timedelta(seconds=4)) == {}  # not due yet
    assert notifier.retry_due(now=T0 + timedelta(seconds=5)) == {t.id: False}
    got = store.get(t.id)
    assert got.delivery_attempts == 2 and got.next_attempt_at == T0 + timedelta(seconds=15)

    down_receiver.start()
    assert notifier.retry_due(now=T0 + timedelta(seconds=15)) == {t.id: True}
    got = store.get(t.id)
    assert got.delivery_status == "delivered" and got.delivery_attempts == 3
    assert got.last_delivery_error is None
    assert down_receiver.ticket_ids() == [t.id]


def test_http_error_is_retried(store, receiver):
    receiver.status = 500
    t = make(store)
    assert deliver(store, t.id, receiver.url, "json", 3.0, now=T0) is False
    got = store.get(t.id)
    assert got.delivery_status == "pending" and got.last_delivery_error.startswith("HTTP 500")
    # Before the backoff is over nothing is sent.
    assert deliver(store, t.id, receiver.url, "json", 3.0, now=T0 + timedelta(seconds=4)) is False
    assert len(receiver.requests) == 1
    receiver.status = 204
    assert deliver(store, t.id, receiver.url, "json", 3.0, now=T0 + timedelta(seconds=5)) is True
    assert store.get(t.id).delivery_status == "delivered"


def test_redirect_is_not_delivery(store, receiver):
    receiver.status = 302
    t = make(store)
    assert deliver(store, t.id, receiver.url, "json", 3.0) is False
    assert store.get(t.id).delivery_status == "pending"


def test_gives_up_after_max_attempts(store, deliveries, down_receiver):
    t = make(store)
    now = T0
    for i in range(1, 4):
        assert (
            deliver(store, t.id, down_receiver.url, "json", 0.5, max_attempts=3, now=now) is False
        )
        got = store.get(t.id)
        assert got.delivery_attempts == i
        if i < 3:
            assert got.delivery_status == "pending"
            now = got.next_attempt_at
    assert got.delivery_status == "failed" and got.next_attempt_at is None
    assert deliveries.due_deliveries(now + timedelta(days=1)) == []
    assert store.get(t.id).status == "open"  # still there for staff


def test_deliver_never_raises(store, receiver):
    assert deliver(store, "ESC-20991231-0001", receiver.url, "json", 1.0) is False
    t = make(store)
    assert deliver(store, t.id, receiver.url, "xml", 1.0) is False
    assert deliver(store, t.id, "not a url", "json", 1.0) is False
    assert deliver(store, t.id, "http://[::1", "json", 1.0) is False
    assert store.get(t.id).delivery_status == "pending"
    assert receiver.requests == []


def test_disabled_ticket_is_not_sent(store, receiver):
    t = make(store, notify=False)
    assert deliver(store, t.id, receiver.url, "json", 1.0) is False
    assert receiver.requests == []
    assert store.get(t.id).delivery_status == "disabled"


# -- WebhookNotifier ----------------------------------------------------------


def test_notify_async_delivers_in_background(store, receiver, wait):
    notifier = WebhookNotifier(store, receiver.url, poll_interval=0.2)
    try:
        t = make(store)
        notifier.notify_async(t.id)
        assert wait(lambda: store.get(t.id).delivery_status == "delivered")
        assert receiver.ticket_ids() == [t.id]
    finally:
        notifier.stop()


def test_slow_receiver_never_blocks_the_caller(store, receiver, wait):
    receiver.delay = 1.5
    notifier = WebhookNotifier(store, receiver.url, timeout=0.3, poll_interval=0.2)
    try:
        tickets = [make(store) for _ in range(3)]
        started = time.monotonic()
        for t in tickets:
            notifier.notify_async(t.id)
        assert time.monotonic() - started < 0.2
        # Tickets are safe in the store while the webhook hangs.
        for t in tickets:
            assert store.get(t.id).status == "open"
        assert notifier.drain(timeout=10)
        for t in tickets:
            got = store.get(t.id)
            assert got.delivery_status == "pending" and got.delivery_attempts >= 1
            assert "timeout" in got.last_delivery_error
            assert got.next_attempt_at > datetime.now(UTC)
    finally:
        notifier.stop(timeout=5)


def test_restart_delivers_what_was_pending(db_url, down_receiver, wait):
    # First process: the webhook is down, and it "dies" before retrying.
    s1 = TicketStore(db_url)
    n1 = WebhookNotifier(s1, down_receiver.url, timeout=0.5, poll_interval=0.2)
    failed_once = make(s1, now=datetime.now(UTC) - timedelta(minutes=5))
    n1.notify_async(failed_once.id)
    assert n1.drain(timeout=10)
    never_tried = make(s1, now=datetime.now(UTC))  # crash between commit and notify
    n1.stop()
    s1.dispose()
    assert TicketStore(db_url).get(failed_once.id).delivery_attempts >= 1

    # Next process: receiver is back; starting the notifier is enough.
    down_receiver.start()
    s2 = TicketStore(db_url)
    n2 = WebhookNotifier(s2, down_receiver.url, poll_interval=0.2)
    try:
        # failed_once waits for its backoff (5 s); force it due so the test is quick.
        DeliveryQueue(s2).record_delivery(
            failed_once.id, False, "simulated", datetime.now(UTC) - timedelta(seconds=1)
        )
        n2.start()
        assert wait(
            lambda: all(
                s2.get(x.id).delivery_status == "delivered" for x in (failed_once, never_tried)
            )
        )
        assert sorted(down_receiver.ticket_ids()) == sorted([failed_once.id, never_tried.id])
    finally:
        n2.stop()
        s2.dispose()


def test_background_retry_after_backoff(store, receiver, wait):
    receiver.status = 503
    notifier = WebhookNotifier(store, receiver.url, poll_interval=0.1)
    try:
        t = make(store, now=datetime.now(UTC))
        notifier.notify_async(t.id)
        assert wait(lambda: store.get(t.id).delivery_attempts == 1)
        receiver.status = 200
        # backoff 5 s, then the poll loop picks it up by itself
        assert wait(lambda: store.get(t.id).delivery_status == "delivered", timeout=15)
    finally:
        notifier.stop()


def test_two_workers_do_not_double_post(db_url, receiver):
    s1, s2 = TicketStore(db_url), TicketStore(db_url)
    tickets = [make(s1) for _ in range(8)]
    workers = [WebhookNotifier(s, receiver.url) for s in (s1, s2, s1, s2)]
    threads = [
        threading.Thread(target=w.retry_due, kwargs={"now": T0 + timedelta(seconds=1)})
        for w in workers
    ]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(receiver.ticket_ids()) == sorted(t.id for t in tickets)
    assert all(s1.get(t.id).delivery_status == "delivered" for t in tickets)
    s1.dispose()
    s2.dispose()


def test_empty_url_is_a_no_op(store):
    notifier = WebhookNotifier(store, "")
    assert not notifier.enabled
    t = make(store)
    notifier.notify_async(t.id)
    notifier.start()
    assert not notifier.running
    assert notifier.retry_due(now=T0 + timedelta(days=1)) == {}
    notifier.stop()
    assert store.get(t.id).delivery_status == "pending"


def test_notifier_from_env(store, receiver, monkeypatch):
    monkeypatch.setenv("HANDOFF_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("HANDOFF_WEBHOOK_FORMAT", "slack")
    monkeypatch.setenv("HANDOFF_WEBHOOK_TIMEOUT", "1.5")
    monkeypatch.setenv("HANDOFF_WEBHOOK_MAX_ATTEMPTS", "4")
    n = notifier_from_env(store)
    assert (n.url, n.fmt, n.timeout, n.max_attempts) == (receiver.url, "slack", 1.5, 4)
    t = make(store)
    assert n.retry_due(now=T0) == {t.id: True}
    assert receiver.bodies()[0]["text"].startswith("*有人対応の依頼*")
    monkeypatch.delenv("HANDOFF_WEBHOOK_URL")
    assert not notifier_from_env(store).enabled


@pytest.mark.parametrize(
    "env, message",
    [
        ({"HANDOFF_WEBHOOK_FORMAT": "xml"}, "HANDOFF_WEBHOOK_FORMAT"),
        ({"HANDOFF_WEBHOOK_TIMEOUT": "soon"}, "HANDOFF_WEBHOOK_TIMEOUT"),
        ({"HANDOFF_WEBHOOK_TIMEOUT": "0"}, "HANDOFF_WEBHOOK_TIMEOUT"),
        ({"HANDOFF_WEBHOOK_MAX_ATTEMPTS": "1.5"}, "HANDOFF_WEBHOOK_MAX_ATTEMPTS"),
    ],
)
def test_bad_settings(env, message):
    with pytest.raises(ValueError, match=message):
        HandoffSettings.from_env(env)


def test_default_settings():
    s = HandoffSettings.from_env({})
    assert s.db_url.startswith("sqlite:///") and s.db_url.endswith("/var/handoff.db")
    assert s.webhook_url == "" and s.webhook_format == "json"
    assert s.webhook_timeout == 3.0 and s.webhook_max_attempts == 12
    assert s.hours_file.endswith("config/business_hours.yml")
    rel = HandoffSettings.from_env({"HANDOFF_HOURS_FILE": "config/business_hours.yml"})
    assert rel.hours_file == s.hours_file  # relative to the repo, not the cwd
