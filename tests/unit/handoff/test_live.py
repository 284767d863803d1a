"""Live chat domain: ownership, staff messages, agents, console sessions, audit,
queue view, the customer's way back to the bot. On SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest

from assistant.handoff.replies import staff_reply
from assistant.handoff.tickets import AlreadyClaimed, TicketClosed, TicketNotFound, TicketStore
from assistant.livechat.agents import SEEN_WINDOW, AgentDirectory, AgentError
from assistant.livechat.console_auth import FAILURE_WINDOW, MAX_FAILURES, AuditLog, ConsoleSessions
from assistant.livechat.console_view import queue_view, ticket_detail
from assistant.livechat.takeover import check_agent_text, wants_bot

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=timezone.utc)


def make(store: TicketStore, sender: str = "cust-1", minutes: int = 0):
    return store.create(
        sender,
        "socketio",
        "explicit",
        "ACWとは",
        None,
        [],
        [],
        now=T0 + timedelta(minutes=minutes),
        notify=False,
    )


# -- ownership ----------------------------------------------------------------


def test_claim_sets_owner_and_a_second_claim_is_refused(store):
    t = make(store)
    claimed = store.claim(t.id, "sato", "佐藤", now=T0)
    assert (claimed.owner, claimed.owner_name, claimed.claimed_at) == ("sato", "佐藤", T0)
    with pytest.raises(AlreadyClaimed) as err:
        store.claim(t.id, "tanaka", "田中")
    assert err.value.owner_name == "佐藤"
    assert store.get(t.id).owner == "sato"


def test_closed_or_missing_tickets_cannot_be_claimed(store):
    t = make(store)
    store.close(t.id, reason="close")
    with pytest.raises(TicketClosed):
        store.claim(t.id, "sato", "佐藤")
    with pytest.raises(TicketNotFound):
        store.claim("ESC-20000101-0001", "sato", "佐藤")


def test_concurrent_claims_have_exactly_one_winner(store):
    t = make(store)
    results: list[str] = []
    barrier = threading.Barrier(8)

    def claim(i: int) -> None:
        barrier.wait()
        try:
            store.claim(t.id, f"agent{i}", f"担当{i}")
            results.append(f"agent{i}")
        except AlreadyClaimed:
            results.append("refused")

    threads = [threading.Thread(target=claim, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    winners = [r for r in results if r != "refused"]
    assert len(winners) == 1 and len(results) == 8
    assert store.get(t.id).owner == winners[0]


def test_owned_for_sender_only_while_open_and_owned(store):
    t = make(store)
    assert store.owned_for_sender("cust-1") is None
    store.claim(t.id, "sato", "佐藤")
    assert store.owned_for_sender("cust-1").id == t.id
    assert store.owned_for_sender("someone-else") is None
    store.close(t.id, reason="handback")
    assert store.owned_for_sender("cust-1") is None
    assert store.get(t.id).close_reason == "handback"


def test_queue_positions_oldest_first_and_none_once_owned(store):
    a, b, c = make(store, "a", 0), make(store, "b", 1), make(store, "c", 2)
    assert [store.queue_position(x.id) for x in (a, b, c)] == [1, 2, 3]
    store.claim(a.id, "sato", "佐藤")
    assert [store.queue_position(x.id) for x in (a, b, c)] == [None, 1, 2]


def test_queue_position_is_the_consoles_order_with_tickets_created_at_once(store):
    # Tickets created in the same instant are ordered by id, as the console orders them.
    from assistant.handoff.queue_order import QueueEntry, queue_positions

    tickets = [make(store, f"c{i}", minutes=i // 3) for i in range(9)]
    store.claim(tickets[4].id, "sato", "佐藤")
    console = queue_positions(
        [QueueEntry(t.id, store.get(t.id).created_at, store.get(t.id).owner) for t in tickets]
    )
    assert [store.queue_position(t.id) for t in tickets] == [console.get(t.id) for t in tickets]
    assert store.queue_position("T-missing") is None


def test_queue_position_does_not_read_the_whole_queue(store):
    # A handoff used to read every waiting ticket to find its place: with nobody
    # claiming, the action server's memory per handoff grew with the queue
    # (docs/memory.md). Counting in the database keeps it flat.
    import tracemalloc

    tickets = [make(store, f"q{i}", minutes=i) for i in range(300)]
    store.queue_position(tickets[-1].id)  # warm: statement caches
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        assert store.queue_position(tickets[-1].id) == 300
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert peak < 48 * 1024  # ~18 KiB; reading the 300 rows took ~135 KiB


# -- messages -------------------------------------------------------------------


def test_messages_keep_role_author_and_payload(store):
    t = make(store)
    store.append_message(t.id, "こんにちは")
    store.append_message(
        t.id, "joined", "system", "佐藤", {"kind": "agent_joined", "agent": "佐藤"}
    )
    store.append_message(t.id, "<b>担当</b>です", "agent", "佐藤")
    got = store.get(t.id).messages
    assert [(m["role"], m["author"], m["text"]) for m in got] == [
        ("customer", None, "こんにちは"),
        ("system", "佐藤", "joined"),
        ("agent", "佐藤", "<b>担当</b>です"),
    ]
    assert got[1]["payload"] == {"kind": "agent_joined", "agent": "佐藤"}
    with pytest.raises(ValueError):
        store.append_message(t.id, "x", role="bot")


def test_staff_messages_since_the_customers_previous_message(store):
    t = make(store)
    store.append_message(t.id, "first")
    a1 = store.append_message(t.id, "agent 1", "agent", "佐藤")
    a2 = store.append_message(t.id, "agent 2", "agent", "佐藤")
    second = store.append_message(t.id, "second")
    third = store.append_message(t.id, "third")
    assert [m["id"] for m in store.staff_messages_before(t.id, second["id"])] == [
        a1["id"],
        a2["id"],
    ]
    assert store.staff_messages_before(t.id, third["id"]) == []
    polled = store.staff_messages_for_sender("cust-1", after=a1["id"])
    assert [m["text"] for m in polled] == ["agent 2"]
    assert store.staff_messages_for_sender("other") == []


def test_staff_reply_rebuilds_the_customer_payload():
    agent = {"id": 7, "author": "佐藤", "text": "<img src=x>", "time": "t", "payload": None}
    assert staff_reply("ESC-1", agent).payload == {
        "kind": "agent_message",
        "ticket": "ESC-1",
        "agent": "佐藤",
        "id": 7,
        "time": "t",
        "text": "<img src=x>",
    }
    system = {
        "id": 8,
        "author": "佐藤",
        "text": "参加",
        "time": "t",
        "payload": {"kind": "agent_joined"},
    }
    assert staff_reply("ESC-1", system).payload == {"kind": "agent_joined", "text": "参加", "id": 8}


def test_change_marker_moves_on_every_kind_of_change(store):
    markers = [store.change_marker()]
    t = make(store)
    markers.append(store.change_marker())
    store.append_message(t.id, "x")
    markers.append(store.change_marker())
    store.claim(t.id, "sato", "佐藤")
    markers.append(store.change_marker())
    store.close(t.id, reason="close")
    markers.append(store.change_marker())
    assert len(set(markers)) == len(markers)


def test_an_old_database_gets_the_new_columns(tmp_path):
    """A handoff.db made before live chat (no owner/role columns) keeps its tickets."""
    path = tmp_path / "old.db"
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE handoff_tickets (id VARCHAR(32) PRIMARY KEY, day VARCHAR(8) NOT NULL,
          seq INTEGER NOT NULL, sender_id TEXT NOT NULL, channel VARCHAR(64) NOT NULL,
          created_at DATETIME NOT NULL, reason VARCHAR(16) NOT NULL, last_question TEXT NOT NULL,
          term TEXT, candidates JSON NOT NULL, transcript JSON NOT NULL, contact TEXT,
          contact_kind VARCHAR(8), status VARCHAR(8) NOT NULL, closed_at DATETIME,
          delivery_status VARCHAR(16) NOT NULL, delivery_attempts INTEGER NOT NULL,
          next_attempt_at DATETIME, last_delivery_error TEXT, delivery_claimed_until DATETIME);
        CREATE TABLE handoff_ticket_messages (id INTEGER PRIMARY KEY AUTOINCREMENT,
          ticket_id VARCHAR(32) NOT NULL REFERENCES handoff_tickets(id), text TEXT NOT NULL,
          created_at DATETIME NOT NULL);
        INSERT INTO handoff_tickets VALUES ('ESC-20261101-0001','20261101',1,'old','rest',
          '2026-11-01 01:00:00','explicit','SVとは',NULL,'[]','[]',NULL,NULL,'open',NULL,
          'disabled',0,NULL,NULL,NULL);
        INSERT INTO handoff_ticket_messages (ticket_id, text, created_at)
          VALUES ('ESC-20261101-0001','古いメッセージ','2026-11-01 01:01:00');
    """)
    con.close()
    store = TicketStore(f"sqlite:///{path}")
    old = store.get("ESC-20261101-0001")
    assert old.owner is None and old.messages[0]["text"] == "古いメッセージ"
    assert old.messages[0]["role"] == "customer"
    store.claim(old.id, "sato", "佐藤")
    assert store.owned_for_sender("old").id == old.id
    store.dispose()


# -- agents ---------------------------------------------------------------------


@pytest.fixture
def agents(store):
    return AgentDirectory(store.engine)


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


# -- sessions, audit, rate limit ------------------------------------------------------


def test_sessions_store_only_a_hash_and_expire(agents, store):
    agents.add("sato", "password1")
    sessions = ConsoleSessions(store.engine)
    token, session = sessions.create("sato", now=T0)
    assert sessions.get(token, now=T0 + timedelta(hours=1)).username == "sato"
    assert sessions.get(token, now=T0 + timedelta(hours=13)) is None
    assert sessions.get("forged", now=T0) is None and sessions.get(None) is None
    with store.engine.begin() as conn:
        assert token not in str(conn.exec_driver_sql("SELECT * FROM handoff_agent_sessions").all())
    assert (
        session.csrf_ok(session.csrf_token)
        and not session.csrf_ok("")
        and not session.csrf_ok(None)
    )
    sessions.delete_for("sato")
    assert sessions.get(token, now=T0) is None


def test_failed_logins_are_rate_limited_per_name_and_address_then_released(store):
    audit = AuditLog(store.engine)
    for i in range(MAX_FAILURES):
        assert audit.login_retry_after("sato", "10.0.0.1", now=T0) == 0
        audit.record("login_failed", "sato", client="10.0.0.1", now=T0 + timedelta(seconds=i))
    wait = audit.login_retry_after("sato", "10.0.0.1", now=T0 + timedelta(seconds=10))
    assert 0 < wait <= FAILURE_WINDOW.total_seconds()
    # a stranger's failures do not lock sato out at another desk
    assert audit.login_retry_after("sato", "10.0.0.9", now=T0 + timedelta(seconds=10)) == 0
    assert audit.login_retry_after("tanaka", "10.0.0.9", now=T0 + timedelta(seconds=10)) == 0
    assert (
        audit.login_retry_after("sato", "10.0.0.1", now=T0 + FAILURE_WINDOW + timedelta(seconds=5))
        == 0
    )
    assert audit.count("login_failed") == MAX_FAILURES


def test_an_attempt_reserves_its_place_before_hashing(store):
    """Check and record are one step: attempts in flight count for the ones after them."""
    audit = AuditLog(store.engine)
    attempts = [audit.begin_login("sato", "10.0.0.1", now=T0) for _ in range(MAX_FAILURES + 3)]
    assert [wait == 0 for _, wait in attempts] == [True] * MAX_FAILURES + [False] * 3
    for attempt, _ in attempts[:MAX_FAILURES]:
        audit.finish_login(attempt, ok=False)
    assert audit.count("login_failed") == MAX_FAILURES and audit.count("login_attempt") == 0


def test_the_global_limit_spares_addresses_the_agent_used_before(store):
    from assistant.livechat.console_auth import MAX_FAILURES_PER_USER, normalize_username

    audit = AuditLog(store.engine)
    audit.record("login", "sato", client="10.0.0.1", now=T0 - timedelta(days=1))
    for i in range(MAX_FAILURES_PER_USER):  # a botnet: one failure from each address
        audit.record("login_failed", "sato", client=f"10.1.{i // 250}.{i % 250}", now=T0)
    assert audit.begin_login("sato", "10.9.9.9", now=T0)[1] > 0  # one more stranger: slowed down
    attempt, wait = audit.begin_login("sato", "10.0.0.1", now=T0)  # the agent's own desk
    assert wait == 0 and attempt is not None
    assert normalize_username(" sato\u3000") == normalize_username("sato\t") == "sato"


# -- console view -----------------------------------------------------------------


def test_queue_view_splits_waiting_mine_and_others(store):
    a, b, c = make(store, "a", 0), make(store, "b", 1), make(store, "c", 2)
    store.claim(b.id, "sato", "佐藤")
    store.claim(c.id, "tanaka", "田中")
    store.append_message(a.id, "まだですか")
    view = queue_view(store.list("open"), "sato", 1, now=T0 + timedelta(minutes=5))
    assert [t["id"] for t in view["waiting"]] == [a.id]
    assert view["waiting"][0]["position"] == 1 and view["waiting"][0]["wait_seconds"] == 300
    assert view["waiting"][0]["last_message"] == "まだですか"
    assert [t["id"] for t in view["mine"]] == [b.id]
    assert [(t["id"], t["owner"]) for t in view["others"]] == [(c.id, "田中")]
    detail = ticket_detail(store.get(a.id), 1)
    assert detail["messages"][0]["role"] == "customer" and "payload" not in detail["messages"][0]


# -- the customer's way out, agent text ---------------------------------------------

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
