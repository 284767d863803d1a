"""What the bot quotes back of the user's words (assistant/replies.py)."""

from __future__ import annotations

import pytest

from assistant import replies

# (the unknown word as found in the message, what the reply quotes)
ECHOES = [
    ("アップセル", "アップセル"),
    ("ACD<script>alert(1)</script>", "ACD alert(1)"),
    ("<b>ACD</b>", "ACD"),
    ("onerror=alert(1)>", "onerror=alert(1)"),
    ("<script></script>", "…"),
    ("通話\n録音", "通話 録音"),
    ("あ" * 31, "あ" * 30 + "…"),
]


@pytest.mark.parametrize("query,shown", ECHOES)
def test_unknown_term_quotes_the_word_without_markup(query, shown):
    reply = replies.unknown_term(query, [])
    assert reply.payload["query"] == shown
    assert f"「{shown}」" in reply.text
    assert "<" not in reply.text and ">" not in reply.text
