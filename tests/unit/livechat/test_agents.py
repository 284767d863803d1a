"""Staff accounts (assistant/livechat/agents.py, agents_cli.py): Argon2id hashes, refused
names and passwords, roles, availability. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.livechat.agents import SEEN_WINDOW, AgentDirectory, AgentError

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def test_passwords_are_hashed_and_verified(agents, store):
    agents.add("佐藤", "correct horse", "佐藤 花子")
    assert agents.verify("佐藤", "correct horse").display_name == "佐藤 花子"
    assert agents.verify("佐藤", "wrong password") is None
    assert agents.verify("nobody", "correct horse") is None
    with store.engine.begin() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM handoff_agents").scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


@pytest.mark.parametrize(
    "username, password",
    [
        ("", "long enough"),
        ("a b", "long enough"),
        ("x" * 33, "long enough"),
        ("tab\tname", "long enough"),
        ("ok", "short"),
    ],
)
def test_bad_accounts_are_refused(agents, username, password):
    with pytest.raises(AgentError):
        agents.add(username, password)


def test_duplicate_and_disabled_accounts(agents):
    agents.add("sato", "password1")
    with pytest.raises(AgentError):
        agents.add("sato", "password2")
    agents.set_disabled("sato", True)
    assert agents.verify("sato", "password1") is None


def test_roles_default_to_agent_rank_and_are_checked(agents):
    assert agents.add("sato", "password1").role == "agent"
    editor = agents.add("suzuki", "password1", role="editor")
    boss = agents.add("tanaka", "password1", role="supervisor")
    assert [a.can("editor", "supervisor") for a in (agents.require("sato"), editor, boss)] == [
        False,
        True,
        True,
    ]
    assert boss.can("supervisor") and not editor.can("supervisor")
    agents.set_role("sato", "editor")
    assert agents.verify("sato", "password1").role == "editor"
    with pytest.raises(AgentError):
        agents.add("x", "password1", role="admin")
    with pytest.raises(AgentError):
        agents.set_role("sato", "root")


def test_an_account_made_before_roles_stays_an_agent(store, agents):
    agents.add("old", "password1")
    with store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE handoff_agents SET role = NULL")
    assert agents.require("old").role == "agent"


def test_agents_cli_adds_with_a_role(store, monkeypatch, capsys):
    import io

    from assistant.livechat import agents_cli

    monkeypatch.setenv("HANDOFF_DB_URL", str(store.engine.url))
    monkeypatch.setattr("sys.stdin", io.StringIO("password1\n"))
    assert agents_cli.main(["add", "佐藤", "--role", "editor", "--password-stdin"]) == 0
    assert "editor" in capsys.readouterr().out
    assert agents_cli.main(["role", "佐藤", "supervisor"]) == 0
    assert AgentDirectory(store.engine).require("佐藤").role == "supervisor"


def test_available_means_status_and_recently_seen(agents):
    agents.add("sato", "password1")
    agents.add("tanaka", "password1")
    assert agents.available_count(T0) == 0
    agents.set_status("sato", "available", now=T0)
    agents.set_status("tanaka", "away", now=T0)
    assert agents.available_count(T0 + timedelta(seconds=10)) == 1
    assert agents.available_count(T0 + SEEN_WINDOW + timedelta(seconds=1)) == 0  # console closed
    agents.touch("sato", now=T0 + SEEN_WINDOW)
    assert agents.available_count(T0 + SEEN_WINDOW + timedelta(seconds=1)) == 1
