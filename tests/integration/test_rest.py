"""The assistant over its REST channel, with both real servers running."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from devtools.launch import custom_payloads


def ask(bot, text, sender=None):
    messages = bot.say(sender or f"t-{uuid.uuid4().hex[:10]}", text)
    return messages, custom_payloads(messages)


# (message, expected kind, expected term/id) — how people really type.
ANSWERS = [
    ("ACWって何?", "definition", "アフターコールワーク"),
    ("ｵﾍﾟﾚｰﾀｰとは", "definition", "オペレーター"),
    ("すーぱーばいざーの意味", "definition", "スーパーバイザー"),
    ("受電とは", "definition", "インバウンド"),
    (
        "研修でアウトバウンドという言葉が出てきました。どういう意味ですか?",
        "definition",
        "アウトバウンド",
    ),
    ("こきゃくまんぞくどってなんですか", "definition", "顧客満足度"),
    ("アップセルとは", "unknown_term", None),
    ("ACW時間とは?", "unknown_term", None),
    ("オペレーターと話したい", "handoff", None),
    ("エスカレーションしてください", "handoff", None),
    ("今日の天気は?", "out_of_scope", None),
]


@pytest.mark.parametrize("text,kind,key", ANSWERS)
def test_answers(bot, text, kind, key):
    _, payloads = ask(bot, text)
    assert payloads, f"no payload for {text!r}"
    assert payloads[0]["kind"] == kind
    if kind == "definition":
        assert payloads[0]["term"] == key
        assert payloads[0]["definitions"] and payloads[0]["source"].endswith(".txt")


def test_definition_text_and_payload_agree(bot):
    messages, payloads = ask(bot, "CRMとは?")
    texts = [m["text"] for m in messages if m.get("text")]
    assert payloads[0]["kind"] == "definition" and payloads[0]["term"] == "CRM"
    # Both of the seed's definitions of CRM, verbatim, in the text and the payload.
    assert len(payloads[0]["definitions"]) == 2
    for d in payloads[0]["definitions"]:
        assert d in texts[0]
    assert payloads[0]["text"] == texts[0]


def test_unknown_term_never_borrows_a_definition(bot):
    messages, payloads = ask(bot, "アップセルとは")
    p = payloads[0]
    assert p["kind"] == "unknown_term" and p["query"] == "アップセル"
    assert "クロスセル" not in [x.get("term") for x in payloads]
    text = messages[0]["text"]
    assert "用語集に登録されていない" in text
    assert any(b["payload"] == "/request_human" for b in messages[0].get("buttons", []))


def test_comparison_shows_both(bot):
    _, payloads = ask(bot, "インバウンドとアウトバウンドの違いは?")
    assert payloads[0]["kind"] == "comparison"
    assert payloads[0]["terms"] == ["インバウンド", "アウトバウンド"]
    assert all(item["definitions"] for item in payloads[0]["items"])


def test_faq_answer_has_source(bot):
    _, payloads = ask(bot, "トランスコスモスの導入実績は?")
    assert payloads[0]["kind"] == "faq" and payloads[0]["id"] == "transcosmos"
    assert payloads[0]["url"].startswith("https://")
    assert "2024年10月16日" in payloads[0]["text"]


BAD_INPUTS = [
    "",
    "   \n\t ",
    "😀🙏🎉",
    "あ" * 50_000,
    "ACW\x00\x07\x1bとは",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>とは",
    "'; DROP TABLE events; --",
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=lambda t: repr(t[:12]))
def test_bad_input_gets_a_clear_reply_and_server_keeps_answering(bot, text):
    sender = f"bad-{uuid.uuid4().hex[:8]}"
    messages, payloads = ask(bot, text, sender)
    assert messages, "no reply at all"
    assert all("Traceback" not in (m.get("text") or "") for m in messages)
    assert payloads and payloads[0]["kind"] in {
        "fallback",
        "unknown_term",
        "out_of_scope",
        "definition",
        "handoff",
        "greet",
        "faq",
    }
    # The same conversation goes on normally.
    _, after = ask(bot, "ACWとは?", sender)
    assert after[0]["kind"] == "definition"


MARKUP_INPUTS = [
    "<b>ACD</b><script>alert(1)</script>とは",
    "ACD<script>alert(1)</script>って何?",
    "「<script>alert(1)</script>」とは",
    "<img src=x onerror=alert(1)>とは",
]


@pytest.mark.parametrize("text", MARKUP_INPUTS)
def test_markup_the_user_typed_never_comes_back(bot, text):
    # The bot quotes unknown words back (「ACD」は用語集に…); a REST client that renders
    # the reply as HTML must not get the user's tags back, in the text or the payload.
    messages, payloads = ask(bot, text)
    assert payloads, f"no payload for {text!r}"
    for m in messages:
        for shown in (m.get("text") or "", json.dumps(m.get("custom") or {}, ensure_ascii=False)):
            assert "<script" not in shown.lower() and "<img" not in shown.lower(), shown


def test_malformed_json_is_a_client_error(bot):
    r = requests.post(
        bot.rest_url, data="{not json", headers={"Content-Type": "application/json"}, timeout=10
    )
    assert 400 <= r.status_code < 500
    # still alive
    _, payloads = ask(bot, "SVとは")
    assert payloads[0]["term"] == "スーパーバイザー"
