"""The same handoff guarantees on PostgreSQL (tickets and Rasa's tracker store), and
two Rasa servers sharing PostgreSQL + a Redis lock store. Real servers from Debian's
packages; skipped locally without them, failed in CI."""

from __future__ import annotations

import socket

import pytest
from sqlalchemy.engine import make_url

from devtools.launch import (
    MODEL,
    RASA_CLI,
    TRACKER_STORE,
    spawn,
    start_redis,
    start_servers,
    wait_http,
)
from tests.integration.conftest import hours_file
from tests.integration.test_handoff import TICKET_ID, ask, new_sender
from tests.support.ci import unavailable
from tests.support.pg import fresh_pg_database


@pytest.fixture(scope="module")
def pg_url(pg_server_url):
    yield from fresh_pg_database(pg_server_url)


def tracker_store_yaml(url: str) -> str:
    u = make_url(url)
    return (
        f"tracker_store:\n  type: {TRACKER_STORE}\n  dialect: postgresql\n"
        f"  url: {u.host}\n  port: {u.port}\n  username: {u.username}\n"
        f"  password: {u.password}\n  db: {u.database}\n"
    )


def lock_store_yaml(port: int) -> str:
    return f"lock_store:\n  type: redis\n  url: 127.0.0.1\n  port: {port}\n  db: 1\n"


@pytest.fixture(scope="module")
def pg_bot(tmp_path_factory, pg_url, redis_url):
    if not MODEL.exists():
        unavailable("no trained model")
    workdir = tmp_path_factory.mktemp("pgbot")
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_DB_URL": pg_url,
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
        },
        tracker_store=tracker_store_yaml(pg_url) + lock_store_yaml(redis_url),
    )
    yield servers
    servers.stop()


def test_ticket_followups_and_restart_on_postgresql(pg_bot, pg_url):
    from assistant.handoff.tickets import TicketStore

    store = TicketStore(pg_url)
    try:
        sender = new_sender()
        assert ask(pg_bot, sender, "ACWとは?")[0]["kind"] == "definition"
        handoff = ask(pg_bot, sender, "オペレーターと話したい")[0]
        assert TICKET_ID.match(handoff["ticket"])
        ticket = store.get(handoff["ticket"])
        assert ("user", "ACWとは?") in [(t["role"], t["text"]) for t in ticket.transcript]
        ask(pg_bot, sender, "よろしく😀 <b>太字</b>")
        pg_bot.restart_actions()
        ask(pg_bot, sender, "\x00NUL入り")
        texts = [m["text"] for m in store.get(handoff["ticket"]).messages]
        assert texts[0] == "よろしく😀 <b>太字</b>"
        assert "NUL入り" in texts[1]  # PostgreSQL text cannot hold NUL: stripped, rest kept
    finally:
        store.dispose()


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    try:
        proc, port = start_redis(tmp_path_factory.mktemp("redis"))
    except FileNotFoundError as exc:
        unavailable(str(exc))
    yield port
    proc.stop()


def test_two_rasa_servers_share_conversations(pg_bot, pg_url, redis_url, tmp_path):
    """A second Rasa server on the same PostgreSQL tracker store and Redis lock store
    continues the conversation the first one started (load-balanced deployment)."""
    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text(
        f'action_endpoint:\n  url: "{pg_bot.actions.url}"\n'
        + tracker_store_yaml(pg_url)
        + lock_store_yaml(redis_url),
        encoding="utf-8",
    )
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from devtools.launch import REPO

    second = spawn(
        "rasa2",
        [
            *RASA_CLI,
            "run",
            "--model",
            str(MODEL),
            "--endpoints",
            str(endpoints),
            "--credentials",
            str(REPO / "credentials.yml"),
            "--port",
            str(port),
            "--interface",
            "127.0.0.1",
        ],
        tmp_path,
        pg_bot.env,
    )
    try:
        wait_http(f"http://127.0.0.1:{port}/", second)
        import requests

        from devtools.launch import custom_payloads

        sender = new_sender()
        handoff = ask(pg_bot, sender, "担当者と話したいです")[0]
        assert handoff["kind"] == "handoff"
        # The second server knows this conversation is with a person now.
        r = requests.post(
            f"http://127.0.0.1:{port}/webhooks/rest/webhook",
            json={"sender": sender, "message": "二台目のサーバーへ"},
            timeout=30,
        )
        assert custom_payloads(r.json())[0]["kind"] == "handoff_message"
    finally:
        second.stop()
