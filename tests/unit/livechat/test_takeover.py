"""The rules of a conversation an agent owns (assistant/livechat/takeover.py): only an
explicit request leaves the agent, agent text limits."""

from __future__ import annotations

import pytest

from assistant.livechat.takeover import check_agent_text, wants_bot

WANTS_BOT = [
    ("ボットに戻る", True),
    ("ぼっとにもどる", True),
    ("ボットに戻して。", True),
    ("ＢＯＴに戻る", True),
    ("自動応答に戻してください!", True),
    ("/back_to_bot", True),
    ("ボットに戻るってどういう意味?", False),
    ("ボット", False),
    ("/restart", False),
    ("/session_start", False),
    ("さようなら", False),
    ("", False),
    ("\u200b", False),
]


@pytest.mark.parametrize("text, expected", WANTS_BOT)
def test_only_an_explicit_request_leaves_the_agent(text, expected):
    assert wants_bot(text) is expected


@pytest.mark.parametrize(
    "text, error",
    [("", "empty"), ("   ", "empty"), (None, "empty"), (5, "empty"), ("あ" * 2001, "too_long")],
)
def test_agent_text_limits(text, error):
    with pytest.raises(ValueError, match=error):
        check_agent_text(text)


def test_agent_text_is_kept_as_typed():
    assert check_agent_text("  <script>x</script>\n改行 ") == "<script>x</script>\n改行"
