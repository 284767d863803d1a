"""The ticket store's live-chat side (assistant/handoff/tickets.py): ownership (claims,
the customer's owned conversation), queue positions, ticket messages and the customer's
payload rebuilt from them, the change marker, an old database migrated. On SQLite and
PostgreSQL. The console's own logic (agents, log-in, views, takeover rules) is tested in
tests/unit/livechat/."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from assistant.handoff.replies import staff_reply
from assistant.handoff.tickets import AlreadyClaimed, TicketClosed, TicketNotFound, TicketStore
from tests.support.tickets import T0, make

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
