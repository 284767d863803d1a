"""What the LINE channel says by itself (no turn of the bot): follow, non-text
messages, group chats. Payload kinds from the response contract."""

from __future__ import annotations

from ..contract import payload
from ..replies import HUMAN_BUTTON, Reply

START_BUTTONS = [
    {"title": "ACWとは?", "payload": "ACWとは?"},
    {"title": "研修モード", "payload": "研修モード"},
    HUMAN_BUTTON,
]


def welcome() -> Reply:
    text = (
        "友だち追加ありがとうございます。コンタクトセンター用語・FAQアシスタントです。"
        "「〇〇とは?」のように、用語やサービスについてご質問ください。"
    )
    return Reply(text, payload("greet", text), list(START_BUTTONS))


def text_only() -> Reply:
    text = (
        "申し訳ありません。スタンプ・画像・音声・位置情報にはお答えできません。"
        "テキストでご質問ください。"
    )
    return Reply(text, payload("fallback", text, reason="not_text"), list(START_BUTTONS))


def one_to_one_only() -> Reply:
    text = (
        "グループやトークルームではお答えしていません。"
        "ご質問は、このアカウントとの1対1のトークでお送りください。"
    )
    return Reply(text, payload("out_of_scope", text))


def outputs(reply: Reply) -> list[dict]:
    """As Rasa's collecting output channel would hold it: text (+ buttons), payload."""
    text: dict = {"text": reply.text}
    if reply.buttons:
        text["buttons"] = reply.buttons
    return [text, {"custom": reply.payload}]
