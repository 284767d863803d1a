"""The LINE channel over real servers: signed webhooks in, replies and pushes out to a
local stand-in of LINE's Messaging API (tests/support/line_api.py), which enforces
LINE's documented rules (token, message count and size, reply token single use and
expiry, retry keys) and records what it got. Nothing reaches LINE."""

from __future__ import annotations

import time
import uuid

import pytest
import requests

from assistant.line.store import LineStore
from devtools.console_client import Console, add_agent
from devtools.launch import MODEL, free_port, spawn, start_servers, wait_http
from tests.integration.conftest import hours_file
from tests.integration.test_hostile_inputs import HOSTILE, IDS
from tests.support.ci import unavailable
from tests.support.line_api import LineStandIn, event, post_webhook
from tests.support.tracker import events as tracker_events
from tests.support.tracker import user_texts

SECRET = "test-channel-secret-" + uuid.uuid4().hex
TOKEN = "test-access-token-" + uuid.uuid4().hex


@pytest.fixture(scope="module")
def line():
    stand_in = LineStandIn(TOKEN).start()
    yield stand_in
    stand_in.stop()
    replies, pushes = stand_in.sent("reply"), stand_in.sent("push")
    print(
        f"\nLINE stand-in accepted {len(replies)} replies"
        f" ({sum(len(c.body['messages']) for c in replies)} messages)"
        f" and {len(pushes)} pushes ({sum(len(c.body['messages']) for c in pushes)} messages);"
        f" refused {len([c for c in stand_in.calls if c.kind.endswith('-refused')])},"
        f" 409 duplicates {len([c for c in stand_in.calls if c.kind == 'push-duplicate'])}"
    )


@pytest.fixture(scope="module")
def lbot(tmp_path_factory, line):
    """Rasa + action server with the LINE channel on (a module of its own: the shared
    `bot` runs with the channel off)."""
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    workdir = tmp_path_factory.mktemp("linebot")
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
            "LINE_CHANNEL_SECRET": SECRET,
            "LINE_CHANNEL_ACCESS_TOKEN": TOKEN,
            "LINE_API_BASE": line.url,
            "LINE_API_TIMEOUT": "2",
            "LINE_LOADING_AFTER": "0",  # every turn "takes long": the animation is requested
            "LINE_QUOTA_CACHE": "0",  # the console asks LINE every time
        },
    )
    yield servers
    servers.stop()


def hook(lbot) -> str:
    return f"{lbot.rasa_url}/webhooks/line/webhook"


def user() -> str:
    return "U" + uuid.uuid4().hex


def say(lbot, line, uid: str, text: str, **kw) -> dict:
    ev = event("message", uid, line.reply_token(), text=text, **kw)
    r = post_webhook(hook(lbot), SECRET, [ev])
    assert r.status_code == 200, r.text
    return ev


# -- signature, verification -------------------------------------------------------------


def test_the_channel_is_listed_and_on(lbot):
    assert requests.get(f"{lbot.rasa_url}/webhooks/line/", timeout=10).json() == {"status": "ok"}


def test_console_verify_gets_200(lbot, line):
    assert post_webhook(hook(lbot), SECRET, []).status_code == 200


@pytest.mark.parametrize("signature", [None, "", "AAAA", "wrong-signature=="])
def test_missing_or_bad_signature_is_401_and_nothing_is_processed(lbot, line, signature):
    uid = user()
    ev = event("message", uid, line.reply_token(), text="ACWとは?")
    r = post_webhook(
        hook(lbot),
        None if signature is None else "x",
        [ev],
        signature=signature if signature is not None else None,
    )
    if signature is None:  # truly without the header
        r = requests.post(hook(lbot), json={"events": [ev]}, timeout=10)
    assert r.status_code == 401
    time.sleep(2)
    assert not tracker_events(lbot.workdir, f"line:{uid}")
    assert not [c for c in line.calls if c.body.get("replyToken") == ev["replyToken"]]


def test_a_body_signed_with_another_secret_is_refused(lbot, line):
    ev = event("message", user(), line.reply_token(), text="ACWとは?")
    assert post_webhook(hook(lbot), "another-secret", [ev]).status_code == 401


def test_signed_garbage_is_400_not_500(lbot):
    for raw in (b"not json", b"[]", b'{"events": 3}', b"\xff\xfe"):
        assert post_webhook(hook(lbot), SECRET, [], raw=raw).status_code == 400


# -- answers --------------------------------------------------------------------------


def wait_token_used(line, token: str, timeout: float = 30):
    return line.wait_for(
        lambda: [c for c in line.calls if c.body.get("replyToken") == token], timeout
    )


def test_follow_gets_a_welcome_with_quick_replies(lbot, line):
    ev = event("follow", user(), line.reply_token())
    assert post_webhook(hook(lbot), SECRET, [ev]).status_code == 200
    call = wait_token_used(line, ev["replyToken"])[0]
    assert call.kind == "reply" and call.status == 200
    last = call.body["messages"][-1]
    assert "友だち追加" in call.body["messages"][0]["text"]
    labels = [i["action"]["label"] for i in last["quickReply"]["items"]]
    assert "研修モード" in labels and "オペレーターに相談" in labels


def test_a_definition_is_one_free_reply_with_a_flex_card(lbot, line):
    started = time.monotonic()
    uid = user()
    ev = say(lbot, line, uid, "ACWとは?")
    calls = wait_token_used(line, ev["replyToken"])
    latency = time.monotonic() - started
    assert [c.kind for c in calls] == ["reply"] and calls[0].status == 200
    messages = calls[0].body["messages"]
    flex = [m for m in messages if m["type"] == "flex"]
    assert flex and "アフターコールワーク" in flex[0]["altText"]
    assert "アフターコールワーク" in str(flex[0]["contents"])
    assert not line.sent("push", uid)
    assert user_texts(lbot.workdir, f"line:{uid}") == ["ACWとは?"]
    print(f"webhook → reply at the stand-in: {latency * 1000:.0f} ms")


def test_a_turn_that_takes_time_shows_the_loading_animation(lbot, line):
    uid = user()
    ev = say(lbot, line, uid, "FAQとは?")
    wait_token_used(line, ev["replyToken"])
    loading = line.wait_for(lambda: [c for c in line.sent("loading") if c.body["chatId"] == uid])
    assert loading[0].body["loadingSeconds"] == 10


def test_a_miss_offers_did_you_mean_as_quick_replies(lbot, line):
    ev = say(lbot, line, user(), "ACW時間とは?")
    call = wait_token_used(line, ev["replyToken"])[0]
    items = call.body["messages"][-1]["quickReply"]["items"]
    assert any(i["action"]["data"] == "/request_human" for i in items)
    assert all(len(i["action"]["label"]) <= 20 for i in items)


def test_non_text_gets_a_polite_text_only_reply(lbot, line):
    ev = event("message", user(), line.reply_token(), message_type="sticker")
    post_webhook(hook(lbot), SECRET, [ev])
    call = wait_token_used(line, ev["replyToken"])[0]
    assert "テキストでご質問ください" in call.body["messages"][0]["text"]


def test_group_messages_are_not_answered_and_a_join_says_why(lbot, line):
    uid = user()
    msg = event("message", uid, line.reply_token(), text="ACWとは?", source_type="group")
    join = event("join", uid, line.reply_token(), source_type="group")
    post_webhook(hook(lbot), SECRET, [msg, join])
    call = wait_token_used(line, join["replyToken"])[0]
    assert "1対1" in call.body["messages"][0]["text"]
    assert not [c for c in line.calls if c.body.get("replyToken") == msg["replyToken"]]


def test_a_redelivered_event_first_seen_late_is_pushed_not_replied(lbot, line):
    uid = user()
    ev = event("message", uid, line.reply_token(), text="ACWとは?", redelivery=True)
    ev["timestamp"] -= 120_000  # LINE first tried two minutes ago: the token is long gone
    post_webhook(hook(lbot), SECRET, [ev])
    pushes = line.wait_for(lambda: line.sent("push", uid))
    assert len(pushes) == 1
    assert not [c for c in line.calls if c.body.get("replyToken") == ev["replyToken"]]


def test_unfollowed_users_get_no_push(lbot, line):
    uid = user()
    post_webhook(hook(lbot), SECRET, [event("unfollow", uid, None)])
    store = LineStore(lbot.env["HANDOFF_DB_URL"])
    line.wait_for(lambda: not store.is_active(uid), 10)
    post_webhook(hook(lbot), SECRET, [event("message", uid, "spent", text="ACWとは?")])
    line.wait_for(lambda: user_texts(lbot.workdir, f"line:{uid}"))
    time.sleep(1.5)
    assert not line.sent("push", uid)  # nothing is tried (nor billed) for a blocked account
    store.engine.dispose()


# -- exactly once -------------------------------------------------------------------------


def test_a_redelivered_event_is_not_answered_twice(lbot, line):
    uid = user()
    ev = say(lbot, line, uid, "ACWとは?")
    wait_token_used(line, ev["replyToken"])
    again = {**ev, "deliveryContext": {"isRedelivery": True}}
    assert post_webhook(hook(lbot), SECRET, [again]).status_code == 200
    time.sleep(3)
    assert len([c for c in line.calls if c.body.get("replyToken") == ev["replyToken"]]) == 1
    assert not line.sent("push", uid)
    assert user_texts(lbot.workdir, f"line:{uid}") == ["ACWとは?"]


def test_the_same_event_on_two_servers_is_answered_once(lbot, line):
    port = free_port()
    args = list(lbot.rasa_args)
    args[args.index("--port") + 1] = str(port)
    second = spawn("rasa2", args, lbot.workdir, lbot.env)
    try:
        wait_http(f"http://127.0.0.1:{port}/", second)
        uid = user()
        ev = event("message", uid, line.reply_token(), text="ACWとは?")
        for url in (hook(lbot), f"http://127.0.0.1:{port}/webhooks/line/webhook"):
            assert post_webhook(url, SECRET, [ev]).status_code == 200
        wait_token_used(line, ev["replyToken"])
        time.sleep(3)
        assert len([c for c in line.calls if c.body.get("replyToken") == ev["replyToken"]]) == 1
        assert not line.sent("push", uid)
        assert user_texts(lbot.workdir, f"line:{uid}") == ["ACWとは?"]
    finally:
        second.stop()


def test_a_spent_reply_token_falls_back_to_one_counted_push(lbot, line):
    uid = user()
    store = LineStore(lbot.env["HANDOFF_DB_URL"])
    before = store.totals()["push"]["calls"]
    ev = event("message", uid, "never-issued-token", text="ACWとは?")
    post_webhook(hook(lbot), SECRET, [ev])
    pushes = line.wait_for(lambda: line.sent("push", uid))
    assert len(pushes) == 1
    key = pushes[0].headers.get("X-Line-Retry-Key")
    assert key and len(key) == 36
    line.wait_for(lambda: store.totals()["push"]["calls"] == before + 1, 10)  # counted once sent
    time.sleep(0.5)
    assert store.totals()["push"]["calls"] == before + 1
    store.engine.dispose()


def test_a_reply_that_failed_ambiguously_is_never_pushed(lbot, line):
    uid = user()
    line.fail("reply", 500, times=1, after_accepting=True)  # LINE sent it, the answer was lost
    ev = say(lbot, line, uid, "ACWとは?")
    line.wait_for(
        lambda: [
            c
            for c in line.calls
            if c.kind == "reply-refused" and c.body.get("replyToken") == ev["replyToken"]
        ]
    )
    time.sleep(2)
    assert len([c for c in line.sent("reply") if c.body["replyToken"] == ev["replyToken"]]) == 1
    assert not line.sent("push", uid)


def test_a_push_retried_after_a_lost_answer_is_accepted_once(lbot, line):
    uid = user()
    line.fail("push", 500, times=1, after_accepting=True)
    post_webhook(hook(lbot), SECRET, [event("message", uid, "never-issued", text="ACWとは?")])
    line.wait_for(
        lambda: [c for c in line.calls if c.kind == "push-duplicate" and c.body.get("to") == uid]
    )
    assert len(line.sent("push", uid)) == 1


def test_one_users_messages_are_answered_in_order(lbot, line):
    uid = user()
    evs = [
        event("message", uid, line.reply_token(), text=t)
        for t in ("ACWとは?", "IVRとは?", "FAQとは?")
    ]
    post_webhook(hook(lbot), SECRET, evs)
    for ev in evs:
        wait_token_used(line, ev["replyToken"])

    def three():
        found = user_texts(lbot.workdir, f"line:{uid}")
        return found if len(found) == 3 else None

    stored = line.wait_for(three, 10)
    assert stored == ["ACWとは?", "IVRとは?", "FAQとは?"]
    answered = [
        next(c.at for c in line.sent("reply") if c.body["replyToken"] == ev["replyToken"])
        for ev in evs
    ]
    assert answered == sorted(answered)


# -- REST cannot pose as a LINE user -----------------------------------------------------------


@pytest.mark.parametrize("sender", ["line:U123", "LINE:U123", "Line:abc"])
def test_rest_refuses_line_senders(lbot, sender):
    r = requests.post(lbot.rest_url, json={"sender": sender, "message": "ACWとは?"}, timeout=10)
    assert r.status_code == 400 and "LINE" in r.json()["reason"]


# -- live agents ---------------------------------------------------------------------


def texts_to(line, uid):
    return [
        m.get("text") or m.get("altText")
        for c in line.sent("push", uid)
        for m in c.body["messages"]
    ]


def test_handoff_agent_chat_and_back_to_the_bot(lbot, line):
    from assistant.handoff.tickets import TicketStore

    store = TicketStore(lbot.env["HANDOFF_DB_URL"])
    password = add_agent(lbot.env, "line-agent", "鈴木")
    console = Console(lbot.rasa_url)
    assert console.login("line-agent", password).status_code == 200
    uid = user()
    sender = f"line:{uid}"
    ev = say(lbot, line, uid, "オペレーターと話したい")
    call = wait_token_used(line, ev["replyToken"])[0]
    assert "ESC-" in str(call.body["messages"])
    ticket_id = console.waiting_ticket_of(sender, store)
    assert console.ticket(ticket_id)["channel"] == "line"
    assert console.claim(ticket_id).status_code == 200
    line.wait_for(lambda: any("鈴木" in (t or "") for t in texts_to(line, uid)))
    assert console.say(ticket_id, "お待たせしました。鈴木です。").status_code == 201
    line.wait_for(lambda: "お待たせしました。鈴木です。" in texts_to(line, uid))
    ev2 = say(lbot, line, uid, "請求書の件です")
    line.wait_for(
        lambda: any(m["text"] == "請求書の件です" for m in console.ticket(ticket_id)["messages"])
    )
    time.sleep(1)
    assert not [
        c for c in line.calls if c.body.get("replyToken") == ev2["replyToken"]
    ]  # the bot is quiet
    pushes_before = len(line.sent("push", uid))
    ev3 = say(lbot, line, uid, "ボットに戻る")
    back = wait_token_used(line, ev3["replyToken"])[0]  # in the free reply, not pushed too
    assert back.kind == "reply"
    time.sleep(1)
    assert len(line.sent("push", uid)) == pushes_before
    ev4 = say(lbot, line, uid, "ACWとは?")
    answer = wait_token_used(line, ev4["replyToken"])[0]
    assert any(m["type"] == "flex" for m in answer.body["messages"])
    store.dispose()


def test_an_exhausted_push_quota_is_reported_to_the_agent(lbot, line):
    from assistant.handoff.tickets import TicketStore

    store = TicketStore(lbot.env["HANDOFF_DB_URL"])
    password = add_agent(lbot.env, "quota-agent", "高橋")
    console = Console(lbot.rasa_url)
    assert console.login("quota-agent", password).status_code == 200
    uid = user()
    ev = say(lbot, line, uid, "オペレーターと話したい")
    wait_token_used(line, ev["replyToken"])
    ticket_id = console.waiting_ticket_of(f"line:{uid}", store)
    line.quota = 0
    try:
        assert console.claim(ticket_id).status_code == 200
        assert console.say(ticket_id, "届かないメッセージ").status_code == 201
        line.wait_for(
            lambda: any("送信上限" in m["text"] for m in console.ticket(ticket_id)["messages"])
        )
    finally:
        line.quota = None
    assert not line.sent("push", uid)
    console.post(f"/agent/api/tickets/{ticket_id}/close")
    store.dispose()


def test_the_console_shows_the_line_quota_and_warns_at_80_percent(lbot, line):
    password = add_agent(lbot.env, "quota-viewer", "伊藤")
    console = Console(lbot.rasa_url)
    assert console.login("quota-viewer", password).status_code == 200
    uid = user()
    post_webhook(hook(lbot), SECRET, [event("message", uid, "spent-token", text="ACWとは?")])
    line.wait_for(lambda: line.sent("push", uid))
    pushed = sum(len(c.body["messages"]) for c in line.sent("push"))
    try:
        line.quota = 4 * pushed  # used 20 % of the month's messages
        shown = console.queue()["channels"]["line"]
        assert (shown["limit"], shown["used"], shown["percent"], shown["warn"]) == (
            5 * pushed,
            pushed,
            20,
            False,
        )
        line.quota = 0  # all used
        shown = console.queue()["channels"]["line"]
        assert (
            shown["warn"] is True
            and shown["percent"] == 100
            and "上限に達しました" in shown["text"]
        )
    finally:
        line.quota = None
    shown = console.queue()["channels"]["line"]
    assert shown["limit"] is None and "上限なし" in shown["text"]


# -- training by postback ----------------------------------------------------------------------


def test_a_training_quiz_answered_by_postback(lbot, line):
    uid = user()
    ev = say(lbot, line, uid, "クイズを2問出して")
    first = wait_token_used(line, ev["replyToken"])[0]
    items = first.body["messages"][-1]["quickReply"]["items"]
    assert [i["action"]["data"] for i in items][:2] == ["1", "2"]
    answer = event("postback", uid, line.reply_token(), data=items[0]["action"]["data"])
    post_webhook(hook(lbot), SECRET, [answer])
    feedback = wait_token_used(line, answer["replyToken"])[0]
    text = "\n".join(m.get("text", "") for m in feedback.body["messages"])
    assert "正解" in text
    assert user_texts(lbot.workdir, f"line:{uid}")[-1] == "1"


# -- hostile input over LINE too --------------------------------------------------------------


@pytest.mark.parametrize("name, text", HOSTILE, ids=IDS)
def test_line_answers_hostile_input_within_limits(lbot, line, name, text):
    uid = user()
    ev = say(lbot, line, uid, text)
    calls = wait_token_used(line, ev["replyToken"], timeout=60)
    assert calls[0].kind == "reply" and calls[0].status == 200, (
        calls
    )  # the stand-in checked the limits
    assert user_texts(lbot.workdir, f"line:{uid}"), "no user event stored"


# -- privacy: card numbers are masked at this door too (channels/privacy.py) -----------------------


def test_card_numbers_from_line_are_masked_before_anything_stores_them(lbot, line):
    import sqlite3

    uid = user()
    sender = f"line:{uid}"
    ev = say(lbot, line, uid, "カード番号は4980 0000 0000 0009です")
    call = wait_token_used(line, ev["replyToken"])[0]
    sent = "\n".join(m.get("text") or m.get("altText") for m in call.body["messages"])
    assert "入力しないでください" in sent  # the privacy notice, in the same free reply
    assert "4980" not in sent.replace("**** **** **** 0009", "")
    tap = event("postback", uid, line.reply_token(), data="4111-1111-1111-1111")
    post_webhook(hook(lbot), SECRET, [tap])
    wait_token_used(line, tap["replyToken"])

    def two():
        found = user_texts(lbot.workdir, sender)
        return found if len(found) == 2 else None

    assert line.wait_for(two, 10) == ["カード番号は**** **** **** 0009です", "**** **** **** 1111"]
    time.sleep(1)
    con = sqlite3.connect(lbot.workdir / "tracker.db")
    rows = " ".join(
        r[0] for r in con.execute("SELECT data FROM events WHERE sender_id = ?", (sender,))
    )
    con.close()
    flat = rows.replace(" ", "").replace("-", "")
    assert "4980000000000009" not in flat and "4111111111111111" not in flat
    for log in lbot.workdir.glob("*.log"):
        text = log.read_text(errors="replace").replace(" ", "").replace("-", "")
        assert "4980000000000009" not in text and "4111111111111111" not in text, log.name
    everything = str([c.body for c in line.calls]).replace(" ", "").replace("-", "")
    assert "4980000000000009" not in everything and "4111111111111111" not in everything


def test_forget_a_line_user_leaves_no_trace(lbot, line):
    """`make forget line:<userId>`: the user id (follow state), the conversation and the
    outcome log's rows are gone from both databases."""
    import subprocess
    import sys

    from devtools.launch import REPO
    from tests.support.receiver import wait_until
    from tests.support.stores import where

    uid, secret = user(), f"LQ{uuid.uuid4().hex[:8]}"
    post_webhook(hook(lbot), SECRET, [event("follow", uid, line.reply_token())])
    ev = say(lbot, line, uid, f"ACWとは? {secret}")
    wait_token_used(line, ev["replyToken"])
    urls = (f"sqlite:///{lbot.workdir / 'tracker.db'}", lbot.env["HANDOFF_DB_URL"])
    assert wait_until(
        lambda: any(h.startswith("analytics_outcomes:") for h in where(secret, urls[1])), timeout=15
    )
    assert any(h.startswith("line_users:") for h in where(uid, urls[1]))
    done = subprocess.run(
        [sys.executable, "-m", "assistant.retention.cli", "forget", f"line:{uid}"],
        cwd=REPO,
        env={**lbot.env, "TRACKER_DB_URL": urls[0]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "line_users=1" in done.stdout and "analytics_outcomes=" in done.stdout
    from assistant.outcomes.records import normalized

    for text in (uid, secret, normalized(secret) or secret):
        assert where(text, *urls) == [], text
