"""assistant/intake.py: size cap, reset commands, rate limits, client address."""

from __future__ import annotations

import pytest

from assistant.intake import (
    IntakeSettings,
    RateLimits,
    SlidingWindow,
    cap_message,
    client_address,
    is_reset_command,
    is_trusted,
)

CAPS = [
    ("短い", 10, "短い", 0),
    ("あ" * 10, 10, "あ" * 10, 0),
    ("あ" * 12, 10, "あ" * 10 + "…(長すぎるため 10文字目以降の2文字を省略しました)", 2),
    ("x" * 99_000, 5000, None, 94_000),
]


@pytest.mark.parametrize("text, limit, kept, cut", CAPS)
def test_cap_message(text, limit, kept, cut):
    got, n = cap_message(text, limit)
    assert n == cut
    if kept is not None:
        assert got == kept
    assert got.startswith(text[:limit]) and len(got) < limit + 60


RESETS = [
    ("/restart", True),
    (" /restart ", True),
    ("/session_start", True),
    ("/back", True),
    ('/restart{"x": 1}', True),
    ("/restart@0.9", True),
    ("/restarting", False),
    ("/request_human", False),
    ("/back_to_bot", False),
    ("restart", False),
    ("再起動 /restart", False),
    ("", False),
]


@pytest.mark.parametrize("text, expected", RESETS)
def test_reset_commands(text, expected):
    assert is_reset_command(text) is expected


def test_sliding_window_refuses_over_the_limit_then_recovers():
    w = SlidingWindow(limit=3, window=60)
    assert [w.hit("a", t) for t in (0, 1, 2)] == [0, 0, 0]
    assert w.hit("a", 3) == pytest.approx(57)
    assert w.hit("b", 3) == 0  # other keys unaffected
    assert w.hit("a", 60.5) == 0  # the first hit left the window


TRUST = [
    ("127.0.0.1", (), True),
    ("::1", (), True),
    ("10.0.0.5", ("10.0.0.0/8",), True),
    ("10.0.0.5", (), False),
    ("203.0.113.9", ("10.0.0.0/8",), False),
    ("not an ip", (), False),
    ("", (), False),
]


@pytest.mark.parametrize("address, trusted, expected", TRUST)
def test_is_trusted(address, trusted, expected):
    assert is_trusted(address, trusted) is expected


ADDRESSES = [
    ("203.0.113.9", None, (), "203.0.113.9"),
    ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),  # untrusted peer: header ignored
    ("10.0.0.2", "198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),  # the load balancer
    ("10.0.0.2", "198.51.100.1, 10.0.0.3", ("10.0.0.0/8",), "198.51.100.1"),
    (
        "10.0.0.2",
        "1.2.3.4, 198.51.100.1",
        ("10.0.0.0/8",),
        "198.51.100.1",
    ),  # left part is forgeable
    ("127.0.0.1", "198.51.100.7", (), "198.51.100.7"),  # a proxy on this host
]


@pytest.mark.parametrize("peer, forwarded, trusted, expected", ADDRESSES)
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(peer, forwarded, trusted) == expected


def test_rate_limits_per_sender_and_per_client_not_for_trusted():
    limits = RateLimits(IntakeSettings(per_sender_per_minute=2, per_client_per_minute=3))
    assert [limits.check("s1", "198.51.100.1", t) for t in (0, 1)] == [0, 0]
    assert limits.check("s1", "198.51.100.1", 2) > 0  # per sender
    assert limits.check("s2", "198.51.100.1", 3) == 0
    assert limits.check("s3", "198.51.100.1", 4) > 0  # per client: 3 a minute
    assert all(limits.check("s1", "127.0.0.1", t) == 0 for t in range(10))  # loopback


def test_settings_from_env():
    s = IntakeSettings.from_env(
        {"CHAT_MAX_MESSAGE_CHARS": "100", "CHAT_TRUSTED_PROXIES": "10.0.0.0/8, 192.168.1.1"}
    )
    assert s.max_chars == 100 and s.trusted == ("10.0.0.0/8", "192.168.1.1")
    assert IntakeSettings.from_env({}).max_chars == 5000
    with pytest.raises(ValueError):
        IntakeSettings.from_env({"CHAT_RATE_PER_SENDER": "0"})
    with pytest.raises(ValueError):
        IntakeSettings.from_env({"CHAT_TRUSTED_PROXIES": "not-a-network"})


def test_sliding_window_forgets_idle_keys_once_a_window():
    # One entry per conversation must not stay for the life of the process (issue 21).
    window = SlidingWindow(limit=5, window=60.0)
    for i in range(1000):
        window.hit(f"sender-{i}", now=100.0 + i * 0.01)
    assert len(window._hits) == 1000  # all seen within the last minute
    window.hit("late", now=100.0 + 10 + 61)
    assert list(window._hits) == ["late"]
    assert window.hit("sender-1", now=200.0) == 0.0  # a forgotten key starts afresh
