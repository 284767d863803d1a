"""channels.socketio_allowlist: where the allowed origins come from."""

from __future__ import annotations

from channels.socketio_allowlist import (
    DEFAULT_ORIGINS,
    SocketIOAllowlistInput,
    allowed_origins,
    parse_origins,
    valid_session_id,
)


def test_parse_origins_accepts_lists_and_comma_strings():
    assert parse_origins(" https://a.jp , https://b.jp/,") == ["https://a.jp", "https://b.jp"]
    assert parse_origins(["https://a.jp"]) == ["https://a.jp"]
    assert parse_origins(None) == []


def test_env_beats_credentials_beats_default(monkeypatch):
    monkeypatch.delenv("CHAT_ALLOWED_ORIGINS", raising=False)
    assert allowed_origins({}) == DEFAULT_ORIGINS
    assert "*" not in DEFAULT_ORIGINS
    assert allowed_origins({"cors_allowed_origins": ["https://a.jp"]}) == ["https://a.jp"]
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", "https://env.jp")
    assert allowed_origins({"cors_allowed_origins": ["https://a.jp"]}) == ["https://env.jp"]


def test_from_credentials_keeps_rasa_settings(monkeypatch):
    monkeypatch.setenv("CHAT_ALLOWED_ORIGINS", "https://env.jp")
    channel = SocketIOAllowlistInput.from_credentials(
        {
            "user_message_evt": "user_uttered",
            "bot_message_evt": "bot_uttered",
            "session_persistence": True,
        }
    )
    assert channel.cors_allowed_origins == ["https://env.jp"]
    assert channel.session_persistence is True
    assert channel.name() == "socketio"


def test_session_ids_are_bounded():
    assert valid_session_id("0f" * 16)
    assert not valid_session_id("")
    assert not valid_session_id(None)
    assert not valid_session_id({"$gt": ""})
    assert not valid_session_id("x" * 65)
    assert not valid_session_id("a\nb")
