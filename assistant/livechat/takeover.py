"""Rules of a conversation that a person (an agent) owns. No Rasa, no I/O.

While an agent owns a conversation the bot reads nothing: no classifier decides
anything, so a customer cannot leave by accident (「/restart」「さようなら」 and
anything else go to the agent). The one way out for the customer is an explicit
request to go back to the bot: the widget's button (`/back_to_bot`) or one of a
few whole phrases, compared after folding width, kana, case, punctuation and
polite endings.
"""

from __future__ import annotations

import re

from ..normalize import key_form

BACK_TO_BOT_PAYLOAD = "/back_to_bot"
_BOTS = ("ボット", "チャットボット", "bot", "自動応答", "自動対応", "自動チャット")
_VERBS = (
    "に戻る",
    "に戻して",
    "に戻りたい",
    "に戻してください",
    "に戻ります",
    "に切り替えて",
    "に切り替えてください",
    "に切りかえて",
    "にもどる",
    "にもどして",
)
BACK_TO_BOT_PHRASES = frozenset(key_form(b + v) for b in _BOTS for v in _VERBS)
_TRAILING = re.compile(r"[。.!！?？、,]+$")

MAX_AGENT_TEXT = 2000


def wants_bot(text: str) -> bool:
    """True only for an explicit, whole request to go back to the bot."""
    stripped = (text or "").strip()
    if stripped == BACK_TO_BOT_PAYLOAD:
        return True
    return key_form(_TRAILING.sub("", stripped)) in BACK_TO_BOT_PHRASES


def check_agent_text(text: object) -> str:
    """The agent's message as stored and sent, or ValueError('empty'|'too_long')."""
    if not isinstance(text, str):
        raise ValueError("empty")
    cleaned = text.replace("\x00", "").strip()
    if not cleaned:
        raise ValueError("empty")
    if len(cleaned) > MAX_AGENT_TEXT:
        raise ValueError("too_long")
    return cleaned
