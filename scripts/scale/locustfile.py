"""Simulated customers for the scale-out load test (scripts/scale/run.py starts locust
with this file against the load balancer on 127.0.0.1).

Two kinds of user, mixed by weight (SCALE_SOCKET_SHARE): REST clients and website
widgets speaking socket.io (python-socketio, polling transport, the widget's session
protocol: session_request with the server-issued token, user_uttered, bot_uttered).
Each user holds short conversations (3-7 turns, then a new visitor: new sender, new
cookies); in SCALE_HANDOFF_SHARE of them the customer asks 「オペレーターと話したい」,
writes to the ticket, and goes back to the bot.

Every message carries a unique tag in its text (``… #<16 hex>``) so that
scripts/scale/verify.py can count it in the PostgreSQL tracker store. A client
retries a message that failed the way a real one would, always with the message's own
id (``message_id``, so the server processes it once: channels/exactly_once.py): REST on
a connection error, a timeout or a 5xx (backoff 0.5, 1, 2, 4 … s); socket.io when no
acknowledgement (``message_ack``, sent after the stored turn's replies) came, the turn
failed (``message_failed``) or the socket dropped (it reconnects, rejoins its session
with the token, and sends the same message again). Each message's fate goes to the journal
(SCALE_JOURNAL, JSON lines) when locust quits.
"""

from __future__ import annotations

import contextlib
import json
import random
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import gevent
from locust import HttpUser, User, between, events, task

_REPO = str(Path(__file__).resolve().parents[2])
if _REPO not in sys.path:  # locust -f puts only this folder on sys.path
    sys.path.insert(0, _REPO)
from assistant.settings import get_settings  # noqa: E402
from scripts.scale.journal import journal_record  # noqa: E402

_S = get_settings()  # SCALE_* (docs/settings.md), set by scripts/scale/run.py
JOURNAL = _S.scale_journal
SOCKET_SHARE = _S.scale_socket_share
HANDOFF_SHARE = _S.scale_handoff_share
MAX_ATTEMPTS = _S.scale_max_attempts
REQUEST_TIMEOUT = _S.scale_request_timeout
REPLY_TIMEOUT = _S.scale_reply_timeout
WAIT_MIN = _S.scale_wait_min
WAIT_MAX = _S.scale_wait_max
# No new message after SCALE_END_AT (epoch seconds); locust quits once every message
# under way has its answer (or after SCALE_GRACE seconds), so nothing is cut off.
END_AT = _S.scale_end_at
GRACE = _S.scale_grace
IN_FLIGHT = [0]

QUESTIONS = [
    "ACWとは?",
    "SVとは?",
    "IVRって何?",
    "AHTの意味は?",
    "CRMとは?",
    "エスカレーションとは?",
    "FCRって何ですか",
    "コールセンターとは?",
    "在宅コンタクトセンターとは?",
    "応答率の意味を教えて",
    "オペレーターとは",
    "スーパーバイザーってなに?",
    "こんにちは",
    "ありがとう",
]
FOLLOW_UPS = ["よろしくお願いします", "まだですか?", "折り返しお願いできますか"]
HANDOFF = "オペレーターと話したい"
BACK = "ボットに戻る"

RECORDS: list[dict[str, Any]] = []


def conversation(rng: random.Random) -> list[tuple]:
    """(text, step) turns of one visitor."""
    turns = [(rng.choice(QUESTIONS), "question") for _ in range(rng.randint(1, 3))]
    if rng.random() < HANDOFF_SHARE:
        turns.append((HANDOFF, "handoff"))
        turns += [(rng.choice(FOLLOW_UPS), "followup") for _ in range(rng.randint(1, 2))]
        turns.append((BACK, "back"))
    turns += [(rng.choice(QUESTIONS), "question") for _ in range(rng.randint(0, 2))]
    return turns


def new_record(channel: str, sender: str, text: str, step: str) -> dict[str, Any]:
    rec = journal_record(channel, sender, text, step)
    RECORDS.append(rec)
    return rec


def note_reply(
    rec: dict[str, Any], messages: list[dict[str, Any]], at: float | None = None
) -> None:
    rec["acked"] = True
    rec["latency_ms"] = round(((at or time.time()) - rec["first_sent"]) * 1000, 1)
    for m in messages:
        custom = m.get("custom") if isinstance(m, dict) else None
        if isinstance(custom, dict):
            rec["kinds"].append(custom.get("kind"))
            if custom.get("kind") == "handoff" and custom.get("ticket"):
                rec["ticket"] = custom["ticket"]


def error(rec: dict[str, Any], reason: str) -> None:
    rec["errors"].append(f"{reason} @{time.time():.1f}")


def backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2.0**attempt) * random.uniform(0.8, 1.2)


@events.test_start.add_listener
def stop_when_answered(environment: Any, **_kwargs: Any) -> None:
    if not END_AT:
        return

    def watch() -> None:
        while time.time() < END_AT:
            gevent.sleep(0.2)
        deadline = time.time() + GRACE
        while IN_FLIGHT[0] and time.time() < deadline:
            gevent.sleep(0.1)
        environment.runner.quit()

    gevent.spawn(watch)


def over() -> bool:
    return bool(END_AT) and time.time() >= END_AT


@events.quitting.add_listener
def write_journal(environment: Any, **_kwargs: Any) -> None:
    if JOURNAL:
        with open(JOURNAL, "w", encoding="utf-8") as f:
            for rec in RECORDS:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")


def send_counted(send: Any, rec: dict[str, Any]) -> None:
    """One message of either kind of user: counted in flight while it is being sent
    (the kill waits for some), marked if locust stops in the middle of it."""
    IN_FLIGHT[0] += 1
    try:
        send(rec)
    except gevent.GreenletExit:  # locust stopped mid-message (the grace period ran out)
        rec["interrupted"] = True
        raise
    finally:
        IN_FLIGHT[0] -= 1


class RestCustomer(HttpUser):
    """A REST client (server-side integration, app): POST /webhooks/rest/webhook."""

    weight = max(0, round(100 * (1 - SOCKET_SHARE)))
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.turns: list[tuple] = []

    @task
    def turn(self) -> None:
        if over():
            gevent.sleep(1)
            return
        if not self.turns:  # a new visitor
            self.client.cookies.clear()
            self.sender = f"lt-r-{uuid.uuid4().hex[:12]}"
            self.turns = conversation(self.rng)
        text, step = self.turns.pop(0)
        rec = new_record("rest", self.sender, text, step)
        send_counted(self._send, rec)

    def _send(self, rec: dict[str, Any]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            rec["attempts"] += 1
            rec["first_sent"] = rec["first_sent"] or time.time()
            body = {"sender": self.sender, "message": rec["text"], "message_id": rec["message_id"]}
            with self.client.post(
                "/webhooks/rest/webhook",
                json=body,
                name="REST message",
                catch_response=True,
                timeout=REQUEST_TIMEOUT,
            ) as r:
                if r.status_code == 200:
                    r.success()
                    note_reply(rec, r.json())
                    return
                reason = f"HTTP {r.status_code}" if r.status_code else type(r.error).__name__
                r.failure(reason)
                error(rec, reason)
            if r.status_code and r.status_code < 500 and r.status_code != 429:
                return  # the request itself was refused: retrying would not help
            gevent.sleep(backoff(attempt))


def _quiet_disconnect(sio: Any) -> None:
    with contextlib.suppress(Exception):  # already gone
        sio.disconnect()


class SocketCustomer(User):
    """The website widget: socket.io through the balancer (sticky cookie)."""

    weight = max(0, round(100 * SOCKET_SHARE))
    wait_time = between(WAIT_MIN, WAIT_MAX)

    def on_start(self) -> None:
        self.rng = random.Random()
        self.turns: list[tuple] = []
        self.sio = None

    def on_stop(self) -> None:
        self._close()

    def _close(self) -> None:
        """Leave the old socket in the background: disconnect() waits for the
        pending long-poll (up to the ping interval, 25 s)."""
        if self.sio is not None:
            gevent.spawn(_quiet_disconnect, self.sio)
            self.sio = None

    def _open(self) -> None:
        import socketio

        self._close()
        self.session: dict[str, str | None] = {"session_id": None, "token": None}
        self.confirmed = threading.Event()
        self.got_reply = threading.Event()
        self.inbox: list[dict[str, Any]] = []
        self.drops = 0
        self.first_reply_at = 0.0
        self.current_id: str | None = None
        self.failed = threading.Event()
        sio = socketio.Client(
            reconnection=True, reconnection_delay=0.5, reconnection_delay_max=2, request_timeout=15
        )

        @sio.event
        def connect() -> None:
            # (Re)joins our session: after a server died the new socket lands on the other one.
            sio.emit("session_request", dict(self.session))

        @sio.event
        def disconnect(*_args: Any) -> None:
            self.confirmed.clear()
            self.drops += 1

        @sio.on("session_token")
        def session_token(data: Any) -> None:
            self.session.update(session_id=data.get("session_id"), token=data.get("token"))

        @sio.on("session_confirm")
        def session_confirm(session_id: Any) -> None:
            if not self.session["session_id"]:
                self.session["session_id"] = session_id
            self.confirmed.set()

        @sio.on("bot_uttered")
        def bot_uttered(data: Any) -> None:
            # replies of the message being sent (reply_to = its id); agent messages have none
            if isinstance(data, dict) and data.get("reply_to") not in (None, self.current_id):
                return
            if not self.first_reply_at:
                self.first_reply_at = time.time()
            self.inbox.append(data)

        @sio.on("message_ack")
        def message_ack(data: Any) -> None:
            # the turn is stored and its replies were emitted before this
            if isinstance(data, dict) and data.get("message_id") == self.current_id:
                self.first_reply_at = self.first_reply_at or time.time()
                self.got_reply.set()

        @sio.on("message_failed")
        def message_failed(data: Any) -> None:
            if isinstance(data, dict) and data.get("message_id") == self.current_id:
                self.failed.set()

        self.sio = sio
        started = time.time()
        try:
            sio.connect(
                self.host, transports=["polling"], socketio_path="/socket.io", wait_timeout=15
            )
            ok = self.confirmed.wait(15)
            exc: Exception | None = None if ok else RuntimeError("no session_confirm")
        except Exception as e:  # noqa: BLE001 - reported to locust
            exc = e
        self.environment.events.request.fire(
            request_type="socket.io",
            name="connect + session",
            response_time=(time.time() - started) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )
        if exc is not None:
            self._close()

    def _fire(self, started: float, exc: Exception | None, ended: float | None = None) -> None:
        self.environment.events.request.fire(
            request_type="socket.io",
            name="socket.io message",
            response_time=((ended or time.time()) - started) * 1000,
            response_length=0,
            exception=exc,
            context={},
        )

    @task
    def turn(self) -> None:
        if over():
            gevent.sleep(1)
            return
        if not self.turns:  # a new visitor: new socket, new session
            self._open()
            if self.sio is None:
                return
            self.turns = conversation(self.rng)
        text, step = self.turns.pop(0)
        rec = new_record("socketio", self.session["session_id"] or "", text, step)
        send_counted(self._send, rec)

    def _send(self, rec: dict[str, Any]) -> None:
        for attempt in range(MAX_ATTEMPTS):
            rec["attempts"] += 1
            started = time.time()
            if self.sio is None or not self.confirmed.wait(REPLY_TIMEOUT):
                error(rec, "not connected")
                self._fire(started, RuntimeError("not connected"))
                gevent.sleep(backoff(attempt))
                continue
            self.inbox.clear()
            self.got_reply.clear()
            self.failed.clear()
            self.first_reply_at = 0.0
            self.current_id = rec["message_id"]
            drops = self.drops
            rec["first_sent"] = rec["first_sent"] or started
            try:
                self.sio.emit(
                    "user_uttered",
                    {
                        "message": rec["text"],
                        "session_id": self.session["session_id"],
                        "message_id": rec["message_id"],
                    },
                )
            except Exception as e:  # noqa: BLE001 - the socket dropped before the emit
                error(rec, type(e).__name__)
                self._fire(started, e)
                gevent.sleep(backoff(attempt))
                continue
            deadline = time.time() + REPLY_TIMEOUT
            while (
                not self.got_reply.is_set()
                and not self.failed.is_set()
                and self.drops == drops
                and time.time() < deadline
            ):
                self.got_reply.wait(0.1)
            if self.got_reply.is_set():
                replied = self.first_reply_at
                self._fire(started, None, replied)
                note_reply(rec, list(self.inbox), replied)
                return
            reason = (
                "turn failed (message_failed)"
                if self.failed.is_set()
                else "disconnected before the reply"
                if self.drops != drops
                else "no reply"
            )
            error(rec, reason)
            self._fire(started, RuntimeError(reason))
            gevent.sleep(backoff(attempt))
