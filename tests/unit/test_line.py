"""The LINE channel's pure parts (assistant/line/): signature, events, rendering the
response contract within LINE's limits, the reply/push plan, the shared store."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from assistant import replies
from assistant.glossary import load_glossary
from assistant.line import events, render, signature
from assistant.line import replies as line_replies
from assistant.line.store import LineStore
from tests.support.line_api import message_problems

SECRET = "channel-secret"
BODY = (
    '{"destination":"U1","events":[{"type":"message","message":{"type":"text","text":"ACWとは?"}}]}'
).encode()


# -- signature ------------------------------------------------------------------------


# LINE's documented computation, done independently here: base64(HMAC-SHA256(secret, body)).
def reference(secret: str, body: bytes) -> str:
    import base64
    import hashlib
    import hmac

    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@pytest.mark.parametrize(
    "secret, body, given, ok",
    [
        (SECRET, BODY, reference(SECRET, BODY), True),
        (SECRET, BODY, " " + reference(SECRET, BODY) + "\n", True),  # header whitespace
        (SECRET, BODY, reference("other", BODY), False),
        (SECRET, BODY + b" ", reference(SECRET, BODY), False),  # one byte more
        (SECRET, BODY, None, False),
        (SECRET, BODY, "", False),
        (SECRET, BODY, "署名", False),  # not ASCII
        ("", BODY, reference("", BODY), False),  # no secret: nothing is valid
    ],
)
def test_signature(secret, body, given, ok):
    assert signature.verify(secret, body, given) is ok


# -- events -----------------------------------------------------------------------------


def ev(**over):
    base = {
        "type": "message",
        "mode": "active",
        "timestamp": 1,
        "source": {"type": "user", "userId": "U1"},
        "replyToken": "r1",
        "webhookEventId": "01E",
        "deliveryContext": {"isRedelivery": False},
        "message": {"type": "text", "id": "1", "text": "ACWとは?"},
    }
    base.update(over)
    return base


EVENTS = [
    (ev(), "text", "ACWとは?"),
    (ev(type="postback", postback={"data": "/request_human"}), "postback", "/request_human"),
    (ev(type="postback", postback={"data": "  "}), "ignore", ""),
    (ev(type="postback", postback={"data": "x" * 400}), "postback", "x" * 300),
    (ev(type="follow"), "follow", ""),
    (ev(type="unfollow"), "unfollow", ""),
    (ev(message={"type": "sticker", "id": "1"}), "non_text", ""),
    (ev(message={"type": "image", "id": "1"}), "non_text", ""),
    (ev(message={"type": "text", "id": "1", "text": None}), "non_text", ""),
    (ev(mode="standby"), "ignore", ""),
    (ev(source={"type": "group", "groupId": "C1", "userId": "U1"}), "ignore", ""),
    (ev(type="join", source={"type": "group", "groupId": "C1"}), "join", ""),
    (ev(source={"type": "user"}), "ignore", ""),
    (ev(type="unsend"), "ignore", ""),
    ("not an object", "ignore", ""),
]


@pytest.mark.parametrize("raw, kind, text", EVENTS)
def test_events(raw, kind, text):
    (found,) = events.parse({"destination": "U0", "events": [raw]})
    assert (found.kind, found.text) == (kind, text)


def test_event_fields_and_sender():
    (found,) = events.parse({"events": [ev(deliveryContext={"isRedelivery": True})]})
    assert (found.event_id, found.redelivery, found.reply_token, found.sender_id) == (
        "01E",
        True,
        "r1",
        "line:U1",
    )


@pytest.mark.parametrize("body", [None, [], {}, {"events": "x"}, "events"])
def test_not_a_webhook_body(body):
    with pytest.raises(ValueError):
        events.parse(body)


def test_url_verification_is_no_event():
    assert events.parse({"destination": "U0", "events": []}) == []


@pytest.mark.parametrize(
    "sender, line",
    [("line:U1", True), ("LINE:U1", True), ("lineU1", False), ("me", False), (3, False)],
)
def test_line_senders(sender, line):
    assert events.is_line_sender(sender) is line


# -- counting and cutting as LINE does -------------------------------------------------------


@pytest.mark.parametrize(
    "text, units", [("abc", 3), ("あいう", 3), ("👋", 2), ("𠀋", 2), ("👨‍👩‍👧", 8), ("", 0)]
)
def test_utf16_length(text, units):
    assert render.utf16_len(text) == units


@pytest.mark.parametrize(
    "text, limit, chunks",
    [
        ("abc", 5, ["abc"]),
        ("abcdef", 3, ["abc", "def"]),
        ("👋👋👋", 3, ["👋", "👋", "👋"]),  # never half a surrogate pair
        ("👨‍👩‍👧x", 8, ["👨‍👩‍👧", "x"]),  # never half a grapheme
        ("aaaa\nbbbbbb", 8, ["aaaa", "bbbbbb"]),  # at the line break in the second half
        ("a\nbbbbbbbbbb", 8, ["a\nbbbbbb", "bbbb"]),  # a break in the first half is too early
    ],
)
def test_split_text(text, limit, chunks):
    assert render.split_text(text, limit) == chunks


def test_a_long_text_is_split_at_5000_units_and_nothing_is_lost():
    text = "\n".join(f"{i:04d} " + "あ" * 90 + "👋" for i in range(200))
    messages = render.render([{"text": text}])
    assert len(messages) == 4 and not message_problems(messages)
    assert all(render.utf16_len(m["text"]) <= 5000 for m in messages)
    assert "\n".join(m["text"] for m in messages) == text


@pytest.mark.parametrize(
    "label, shown",
    [
        ("研修モード", "研修モード"),
        ("あ" * 21, "あ" * 19 + "…"),
        ("👨‍👩‍👧" * 21, "👨‍👩‍👧" * 19 + "…"),
    ],
)
def test_labels_are_cut_at_20_graphemes(label, shown):
    assert render.cut_graphemes(label, 20) == shown


def test_lone_surrogates_are_replaced():
    assert render.clean("a\ud800b") == "a\ufffdb"
    json.dumps(render.render([{"text": "a\udfffb"}]), ensure_ascii=False).encode("utf-8")


# -- the response contract as LINE messages ----------------------------------------------


@pytest.fixture(scope="module")
def glossary():
    return load_glossary()


def outputs(reply):
    return line_replies.outputs(reply)


def test_a_definition_is_a_flex_card_with_its_text_as_alt_text(glossary):
    reply = replies.definition(next(t for t in glossary.terms if "ACW" in t.aliases))
    messages = render.render(outputs(reply))
    assert len(messages) == 1 and messages[0]["type"] == "flex" and not message_problems(messages)
    assert messages[0]["altText"] == reply.text
    shown = json.dumps(messages[0]["contents"], ensure_ascii=False)
    for d in reply.payload["definitions"]:
        assert d in shown


def test_a_comparison_is_a_flex_card(glossary):
    terms = glossary.terms
    reply = replies.comparison(terms[0], terms[1])
    (message,) = render.render(outputs(reply))
    assert message["type"] == "flex" and terms[0].term in json.dumps(
        message["contents"], ensure_ascii=False
    )


def test_other_payloads_are_their_text(glossary):
    reply = replies.unknown_term("ACW時間", ["アフターコールワーク", "ACD"])
    (message,) = render.render(outputs(reply))
    assert message["type"] == "text" and message["text"] == reply.text
    items = message["quickReply"]["items"]
    assert [i["action"]["data"] for i in items] == [
        "アフターコールワークとは?",
        "ACDとは?",
        "/request_human",
    ]
    assert [i["action"]["displayText"] for i in items] == [
        "アフターコールワーク",
        "ACD",
        "オペレーターに相談",
    ]


def test_quick_replies_at_most_13_unique_and_on_the_last_message():
    buttons = [{"title": f"選択肢{i}", "payload": str(i)} for i in range(20)] + [
        {"title": "重複", "payload": "1"}
    ]
    messages = render.render(
        [{"text": "一つ目"}, {"text": "質問", "buttons": buttons}, {"text": "最後"}]
    )
    assert "quickReply" not in messages[0] and "quickReply" not in messages[1]
    items = messages[-1]["quickReply"]["items"]
    assert len(items) == 13 and [i["action"]["data"] for i in items] == [str(i) for i in range(13)]


@pytest.mark.parametrize(
    "button",
    [
        {"title": "", "payload": "x"},
        {"title": "x", "payload": ""},
        {"title": "x", "payload": "y" * 301},
        {"payload": "x"},
        {"title": 3, "payload": "x"},
    ],
)
def test_unusable_buttons_are_left_out(button):
    assert "quickReply" not in render.render([{"text": "t", "buttons": [button]}])[0]


def test_more_than_five_messages_merge_adjacent_texts_shortest_first():
    outs = [{"text": t} for t in ["a" * 10, "b", "c", "d" * 10, "e", "f" * 10, "g"]]
    messages = render.render(outs)
    assert len(messages) == 5 and not message_problems(messages)
    assert "\n\n".join(m["text"] for m in messages).replace("\n\n", "") == "".join(
        o["text"] for o in outs
    )


def test_cards_are_not_merged_and_the_rest_is_planned_for_pushes(glossary):
    cards = []
    for term in glossary.terms[:7]:
        cards += outputs(replies.definition(term))
    messages = render.render(cards)
    assert len(messages) == 7 and all(m["type"] == "flex" for m in messages)
    plan = render.plan(messages, can_reply=True)
    assert len(plan.reply) == 5 and [len(p) for p in plan.pushes] == [2]
    late = render.plan(messages, can_reply=False)
    assert late.reply == [] and [len(p) for p in late.pushes] == [5, 2]


def test_empty_texts_send_nothing():
    assert render.render([{"text": "  "}, {"custom": {"kind": "greet", "text": ""}}]) == []


def test_retry_keys_are_stable_uuids_per_push():
    a, b = render.retry_key("01E", 0), render.retry_key("01E", 1)
    assert a == render.retry_key("01E", 0) and a != b and uuid.UUID(a).version == 5


@pytest.mark.parametrize(
    "reply", [line_replies.welcome(), line_replies.text_only(), line_replies.one_to_one_only()]
)
def test_channel_replies_follow_the_contract_and_limits(reply):
    from assistant.contract import problems

    assert not problems(reply.payload)
    assert not message_problems(render.render(outputs(reply)))


# -- the store: taken once, unfollow, counts ---------------------------------------------


@pytest.fixture
def store(tmp_path):
    s = LineStore(f"sqlite:///{tmp_path / 'line.db'}")
    yield s
    s.engine.dispose()


def test_an_event_is_taken_once_even_by_another_process_store(store, tmp_path):
    other = LineStore(f"sqlite:///{tmp_path / 'line.db'}")
    assert store.take("01A") is True
    assert other.take("01A") is False and store.take("01A") is False
    assert other.take("01B") is True
    other.engine.dispose()


def test_old_events_are_forgotten(store):
    old = datetime.now(timezone.utc) - timedelta(days=8)
    store.take("01OLD", now=old)
    store.take("01NEW")
    assert store.forget_old() == 1
    assert store.take("01OLD") is True and store.take("01NEW") is False


def test_follow_and_unfollow(store):
    assert store.is_active("U1")  # unknown users can be written to
    store.set_active("U1", False)
    assert not store.is_active("U1")
    store.set_active("U1", True)
    assert store.is_active("U1")


def test_counts(store):
    store.count("reply", 2)
    store.count("reply", 1)
    store.count("push", 5)
    totals = store.totals()
    assert totals["reply"] == {"calls": 2, "messages": 3} and totals["push"] == {
        "calls": 1,
        "messages": 5,
    }
    with pytest.raises(ValueError):
        store.count("fax", 1)


# -- the console's quota line ---------------------------------------------------------------

from assistant.line.quota import usage  # noqa: E402


@pytest.mark.parametrize(
    "qtype, limit, used, ours, warn, percent, text",
    [
        ("limited", 200, 10, 3, False, 5, "LINE 送信 今月 10 / 200通(5%)"),
        ("limited", 200, 159, 0, False, 79, "LINE 送信 今月 159 / 200通(79%)"),
        ("limited", 200, 160, 0, True, 80, "LINE 送信 今月 160 / 200通(80%) 上限に近づいています"),
        (
            "limited",
            200,
            200,
            0,
            True,
            100,
            "LINE 送信 今月 200 / 200通(100%) 上限に達しました。担当者のメッセージは届きません",
        ),
        (
            "limited",
            5000,
            4321,
            0,
            True,
            86,
            "LINE 送信 今月 4,321 / 5,000通(86%) 上限に近づいています",
        ),
        ("none", None, 12, 0, False, None, "LINE 送信 今月 12通(上限なし)"),
        (None, None, None, 7, False, None, "LINE プッシュ送信 今月 7通(上限を取得できません)"),
    ],
)
def test_quota_usage(qtype, limit, used, ours, warn, percent, text):
    shown = usage(qtype, limit, used, ours)
    assert (shown["warn"], shown["percent"], shown["text"]) == (warn, percent, text)
