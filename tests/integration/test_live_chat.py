"""Live agent takeover over the real servers: the console API (log-in, CSRF, rate
limit, claim, talk, hand back) and a REST customer. The widget side is in
tests/e2e/test_live_takeover.py."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
import requests

from devtools.console_client import Console, add_agent
from devtools.launch import custom_payloads
from devtools.soak import read_gauges
from tests.support.tracker import events
from tests.support.widget_client import Customer


@pytest.fixture(scope="module")
def agents(bot):
    return {
        "sato": add_agent(bot.env, "sato", "佐藤"),
        "tanaka": add_agent(bot.env, "tanaka", "田中"),
        "locked": add_agent(bot.env, "locked", "ロック"),
    }


@pytest.fixture
def sato(bot, agents):
    c = Console(bot.rasa_url)
    assert c.login("sato", agents["sato"]).status_code == 200
    return c


@pytest.fixture
def tanaka(bot, agents):
    c = Console(bot.rasa_url)
    assert c.login("tanaka", agents["tanaka"]).status_code == 200
    return c


def kinds(replies: list[dict]) -> list[str]:
    return [p["kind"] for p in custom_payloads(replies)]


def ask_for_person(bot, store, console: Console) -> tuple[str, str]:
    sender = f"live-{uuid.uuid4().hex[:8]}"
    assert "handoff" in kinds(bot.say(sender, "オペレーターと話したい"))
    return sender, console.waiting_ticket_of(sender, store)


# -- nobody gets in without logging in -------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/agent/api/me",
        "/agent/api/queue",
        "/agent/api/events",
        "/agent/api/tickets/ESC-20260101-0001",
        "/agent/static/console.js",
    ],
)
def test_api_refuses_without_login(bot, path):
    r = requests.get(bot.rasa_url + path, timeout=10)
    assert r.status_code == 401 and r.json() == {"error": "login_required"}


def test_console_page_redirects_to_login(bot):
    r = requests.get(bot.rasa_url + "/agent/", allow_redirects=False, timeout=10)
    assert r.status_code == 302 and r.headers["location"] == "/agent/login"
    page = requests.get(bot.rasa_url + "/agent/login", timeout=10)
    assert (
        page.status_code == 200 and "default-src 'self'" in page.headers["content-security-policy"]
    )
    assert "{{csrf_token}}" not in page.text


@pytest.mark.parametrize(
    "path", ["/agent/api/tickets/ESC-20260101-0001/claim", "/agent/api/status", "/agent/logout"]
)
def test_state_changes_refuse_without_login(bot, path):
    assert requests.post(bot.rasa_url + path, json={}, timeout=10).status_code == 401


def test_a_forged_session_cookie_is_refused(bot):
    r = requests.get(bot.rasa_url + "/agent/api/queue", cookies={"cc_agent": "forged"}, timeout=10)
    assert r.status_code == 401


def test_missing_or_wrong_csrf_token_is_403(bot, store, sato):
    _sender, ticket = ask_for_person(bot, store, sato)
    assert sato.post(f"/agent/api/tickets/{ticket}/claim", csrf=False).status_code == 403
    sato.csrf, good = "wrong", sato.csrf
    assert sato.claim(ticket).status_code == 403
    sato.csrf = good
    assert store.get(ticket).owner is None  # nothing happened
    # log-in itself needs the log-in page's token
    r = requests.post(
        bot.rasa_url + "/agent/login", json={"username": "sato", "password": "x"}, timeout=10
    )
    assert r.status_code == 403


def test_wrong_passwords_are_rate_limited_and_logged(bot, store, agents):
    from assistant.livechat.console_auth import MAX_FAILURES, AuditLog

    c = Console(bot.rasa_url)
    codes = [c.login("locked", "wrong-password").status_code for _ in range(MAX_FAILURES)]
    assert codes == [401] * MAX_FAILURES
    blocked = c.login("locked", agents["locked"])  # even the right password, for a while
    assert blocked.status_code == 429 and blocked.json()["retry_after"] > 0
    assert (
        Console(bot.rasa_url).login("sato", agents["sato"]).status_code == 200
    )  # others unaffected
    failures = [e for e in AuditLog(store.engine).entries("login_failed") if e["actor"] == "locked"]
    assert len(failures) == MAX_FAILURES and failures[0]["client"] == "127.0.0.1"


# -- the takeover -------------------------------------------------------------------------


def test_rest_customer_talks_to_an_agent_and_back_to_the_bot(bot, store, sato):
    sender, ticket = ask_for_person(bot, store, sato)
    claimed = sato.claim(ticket)
    assert claimed.status_code == 200 and claimed.json()["owner"] == "佐藤"
    sent = sato.say(ticket, "担当の佐藤です。ご用件をどうぞ。")
    assert sent.status_code == 201

    # The next message: the bot says nothing of its own, the reply carries the agent's words.
    first = bot.say(sender, "ACWとは?")
    assert kinds(first) == ["agent_joined", "agent_message"]
    assert custom_payloads(first)[1]["text"] == "担当の佐藤です。ご用件をどうぞ。"
    assert custom_payloads(first)[1]["agent"] == "佐藤"
    second = bot.say(sender, "さようなら")  # would be a goodbye for the bot
    assert second == []

    # The agent sees both, in order, with roles; the tracker has them too.
    detail = sato.ticket(ticket)
    assert [(m["role"], m["text"]) for m in detail["messages"]][-3:] == [
        ("agent", "担当の佐藤です。ご用件をどうぞ。"),
        ("customer", "ACWとは?"),
        ("customer", "さようなら"),
    ]
    stored = events(bot.workdir, sender)
    user_texts = [e["text"] for e in stored if e["event"] == "user"]
    assert user_texts[-2:] == ["ACWとは?", "さようなら"]
    bot_kinds = [
        e.get("data", {}).get("custom", {}).get("kind") for e in stored if e["event"] == "bot"
    ]
    assert bot_kinds[-2:] == ["agent_joined", "agent_message"]

    # Polling returns what the agent wrote, after a cursor.
    polled = requests.get(
        bot.rasa_url + "/webhooks/rest/agent_messages", params={"sender": sender}, timeout=10
    ).json()
    assert [p["custom"]["kind"] for p in polled] == ["agent_joined", "agent_message"]
    after = requests.get(
        bot.rasa_url + "/webhooks/rest/agent_messages",
        params={"sender": sender, "after": polled[0]["id"]},
        timeout=10,
    ).json()
    assert [p["custom"]["kind"] for p in after] == ["agent_message"]

    # Hand back: the bot answers again.
    assert sato.post(f"/agent/api/tickets/{ticket}/handback").status_code == 200
    assert store.get(ticket).status == "closed" and store.get(ticket).close_reason == "handback"
    answer = custom_payloads(bot.say(sender, "ACWとは?"))
    assert answer[-1]["kind"] == "definition" and answer[-1]["term"] == "アフターコールワーク"


def test_two_agents_claiming_at_once_get_one_owner(bot, store, sato, tanaka):
    _sender, ticket = ask_for_person(bot, store, sato)
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def claim(name: str, console: Console) -> None:
        barrier.wait()
        results[name] = console.claim(ticket).status_code

    threads = [threading.Thread(target=claim, args=a) for a in (("sato", sato), ("tanaka", tanaka))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [200, 409]
    winner = "sato" if results["sato"] == 200 else "tanaka"
    assert store.get(ticket).owner == winner
    loser = tanaka if winner == "sato" else sato
    refused = loser.claim(ticket)
    assert refused.status_code == 409 and refused.json()["owner"] in ("佐藤", "田中")


def test_only_the_owner_can_talk_hand_back_or_close(bot, store, sato, tanaka):
    sender, ticket = ask_for_person(bot, store, sato)
    assert tanaka.say(ticket, "横から失礼").status_code == 403  # not claimed by anyone yet
    assert sato.claim(ticket).status_code == 200
    for path in ("messages", "handback", "close"):
        r = tanaka.post(f"/agent/api/tickets/{ticket}/{path}", {"text": "x"})
        assert r.status_code == 403 and r.json() == {"error": "not_owner"}
    assert [m["role"] for m in store.get(ticket).messages] == ["system"]  # only agent_joined
    assert sato.say(ticket, "").status_code == 400
    assert sato.say(ticket, "あ" * 2001).status_code == 400
    closed = sato.post(f"/agent/api/tickets/{ticket}/close")
    assert closed.status_code == 200 and closed.json()["close_reason"] == "close"
    after = bot.say(sender, "ありがとう")
    assert kinds(after)[-1] != "agent_message" and after  # the bot answers again


def test_nothing_typed_escapes_the_agent_except_going_back_to_the_bot(bot, store, sato):
    sender, ticket = ask_for_person(bot, store, sato)
    sato.claim(ticket)
    assert kinds(bot.say(sender, "/restart")) == ["agent_joined"]  # carries the pending join
    for text in [
        "/restart",
        "/session_start",
        "/back",
        "/request_human",
        "",
        "\u200b\u202e",
        "ボット",
    ]:
        assert bot.say(sender, text) == [], text  # no bot answer
    assert store.get(ticket).owner == "sato" and store.get(ticket).status == "open"
    texts = [m["text"] for m in store.get(ticket).messages if m["role"] == "customer"]
    assert "/restart" in texts and "/session_start" in texts and "/back" in texts

    left = custom_payloads(bot.say(sender, "ボットに戻る"))
    assert [p["kind"] for p in left] == ["agent_left"] and left[0]["reason"] == "customer"
    assert store.get(ticket).close_reason == "customer"
    assert custom_payloads(bot.say(sender, "ACWとは?"))[-1]["kind"] == "definition"


def test_customer_html_is_stored_verbatim_as_text(bot, store, sato):
    sender, ticket = ask_for_person(bot, store, sato)
    sato.claim(ticket)
    bot.say(sender, "<img src=x onerror=alert(1)>")
    shown = sato.ticket(ticket)["messages"][-1]
    assert shown["text"] == "<img src=x onerror=alert(1)>" and shown["role"] == "customer"


def test_the_customer_hears_whether_someone_is_available(bot, store, sato):
    sato.post("/agent/api/status", {"status": "away"})
    nobody = custom_payloads(bot.say(f"q-{uuid.uuid4().hex[:8]}", "オペレーターと話したい"))[0]
    assert nobody["agents_available"] == 0 and nobody["queue_position"] >= 1
    assert (
        "対応できる担当者がおりません" in nobody["text"]
        and f"{nobody['queue_position']} 番目" in nobody["text"]
    )
    assert sato.post("/agent/api/status", {"status": "available"}).json() == {"status": "available"}
    someone = custom_payloads(bot.say(f"q-{uuid.uuid4().hex[:8]}", "オペレーターと話したい"))[0]
    assert someone["agents_available"] >= 1 and "おつなぎします" in someone["text"]
    assert sato.post("/agent/api/status", {"status": "busy"}).status_code == 400
    sato.post("/agent/api/status", {"status": "away"})


def test_an_action_server_restart_mid_takeover_loses_nothing(bot, store, sato):
    sender, ticket = ask_for_person(bot, store, sato)
    sato.claim(ticket)
    bot.restart_actions()
    sato.say(ticket, "再起動後もつながっています")
    assert kinds(bot.say(sender, "聞こえますか")) == ["agent_joined", "agent_message"]
    assert store.get(ticket).messages[-1]["text"] == "聞こえますか"
    sato.post(f"/agent/api/tickets/{ticket}/handback")
    assert custom_payloads(bot.say(sender, "ACWとは?"))[-1]["kind"] == "definition"


def test_queue_events_stream_tells_the_console_about_a_new_ticket(bot, store, sato):
    with sato.http.get(bot.rasa_url + "/agent/api/events", stream=True, timeout=10) as stream:
        assert stream.status_code == 200 and stream.headers["content-type"].startswith(
            "text/event-stream"
        )
        lines = stream.iter_lines(decode_unicode=True)
        assert next(lines) == "retry: 2000"
        sender = f"ev-{uuid.uuid4().hex[:8]}"
        threading.Thread(target=bot.say, args=(sender, "オペレーターと話したい")).start()
        changes = 0
        for line in lines:  # the ticket is written by the action server: seen by the watcher
            changes += line == "event: changed"
            if (
                changes >= 2
                and line.startswith("data:")
                and store.open_for_sender(sender) is not None
            ):
                break


def test_event_streams_that_come_and_go_leave_no_listener_behind(bot, sato):
    # Console tabs opened, reloaded and closed (issue 21, item 3): every stream dropped
    # by its client leaves the server's listener table. Read in the Rasa process
    # through its memory gauges (SIGUSR1, MEMTRACE_DIR; no endpoint).
    pid, folder = bot.rasa.popen.pid, bot.workdir / "memtrace"

    def open_streams() -> int:
        return int(read_gauges(pid, folder)["console_streams"])

    def first_event(stream: requests.Response) -> Iterator[str | bytes]:
        # the caller keeps the iterator: dropping it closes the connection (urllib3)
        lines: Iterator[str | bytes] = stream.iter_lines(decode_unicode=True)
        assert next(lines) == "retry: 2000" and next(lines) == "event: changed"
        return lines

    held = [
        sato.http.get(bot.rasa_url + "/agent/api/events", stream=True, timeout=10) for _ in range(5)
    ]
    reading = [first_event(stream) for stream in held]
    assert open_streams() >= 5  # the count sees open streams
    for stream in held:
        stream.close()
    del reading
    for _ in range(60):  # opened, one event read, dropped
        with sato.http.get(bot.rasa_url + "/agent/api/events", stream=True, timeout=10) as s:
            first_event(s)
    deadline = time.monotonic() + 15
    while (left := open_streams()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert left == 0


# -- a socket.io customer -----------------------------------------------------------------


def test_socketio_customer_gets_agent_messages_pushed_and_missed_ones_on_sync(bot, store, sato):
    first = Customer(bot.rasa_url)
    session = first.session_id
    first.say("オペレーターと話したい")
    first.wait_for("handoff")
    ticket = sato.waiting_ticket_of(session, store)
    assert store.get(ticket).channel == "socketio"
    sato.claim(ticket)
    sato.say(ticket, "一通目")
    first.wait_for("agent_message")  # pushed, no customer message needed
    last_seen = max(
        m["custom"]["id"]
        for m in first.received
        if isinstance(m.get("custom"), dict) and m["custom"]["kind"].startswith("agent_")
    )
    first.close()

    sato.say(ticket, "オフライン中の二通目")
    again = Customer(bot.rasa_url, session, first.token)  # the reloaded widget
    assert again.session_id == session
    again.sio.emit("agent_sync", {"session_id": session, "after": last_seen})
    again.wait_for("agent_message")
    assert [m["text"] for m in again.received] == ["オフライン中の二通目"]

    stranger = Customer(bot.rasa_url)  # holds another session
    stranger.sio.emit("agent_sync", {"session_id": session, "after": 0})
    time.sleep(1.0)
    assert stranger.received == []
    for c in (again, stranger):
        c.close()


def test_a_widget_session_belongs_to_the_socket_that_got_it(bot, store):
    owner = Customer(bot.rasa_url)
    assert owner.session_id.startswith("ws-")
    owner.say("オペレーターと話したい")
    owner.wait_for("handoff")

    # Knowing the id is not enough: without the token a socket gets a new session.
    thief = Customer(bot.rasa_url, owner.session_id, "forged-token")
    assert thief.session_id != owner.session_id
    thief.sio.emit("user_uttered", {"message": "ボットに戻る", "session_id": owner.session_id})
    assert thief.invalid.wait(10)  # refused: not a session this socket joined
    owner.say("ACWとは?")
    owner.wait_for("handoff_message")  # the owner's handoff goes on
    time.sleep(0.5)
    assert thief.received == []  # and nothing of the owner's reached the other socket
    assert "ボットに戻る" not in [
        m["text"] for m in store.open_for_sender(owner.session_id).messages
    ]

    # REST cannot address widget sessions at all.
    r = requests.post(
        bot.rest_url, json={"sender": owner.session_id, "message": "ボットに戻る"}, timeout=10
    )
    assert r.status_code == 400
    for c in (owner, thief):
        c.close()


def test_a_rasa_restart_mid_takeover_keeps_the_owner_and_every_message(bot, store, sato, agents):
    sender, ticket = ask_for_person(bot, store, sato)
    widget = Customer(bot.rasa_url)
    widget.say("オペレーターと話したい")
    widget.wait_for("handoff")
    widget_ticket = sato.waiting_ticket_of(widget.session_id, store)
    for t in (ticket, widget_ticket):
        assert sato.claim(t).status_code == 200
    widget.close()

    bot.restart_rasa()

    assert store.get(ticket).owner == "sato"  # ownership lives in the handoff database
    assert kinds(bot.say(sender, "再起動のあとです")) == ["agent_joined"]  # the bot stays silent
    again = Console(bot.rasa_url)  # console sessions survive too: log in is not needed again
    again.http.cookies = sato.http.cookies
    again.csrf = sato.csrf
    assert again.say(ticket, "はい、聞こえています").status_code == 201
    assert kinds(bot.say(sender, "よかった")) == ["agent_message"]
    texts = [m["text"] for m in store.get(ticket).messages if m["role"] == "customer"]
    assert texts[-2:] == ["再起動のあとです", "よかった"]

    # The widget rejoins its session with its token and still talks to the agent.
    back = Customer(bot.rasa_url, widget.session_id, widget.token)
    assert back.session_id == widget.session_id
    back.sio.emit("agent_sync", {"session_id": back.session_id, "after": 0})
    back.wait_for("agent_joined")
    back.say("リロードしました")
    deadline = time.monotonic() + 10
    while store.get(widget_ticket).messages[-1]["text"] != "リロードしました":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert back.kinds() == ["agent_joined"]  # no bot answer
    back.close()
