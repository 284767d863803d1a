"""TicketStore against real SQLite and PostgreSQL databases."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete

from assistant.handoff.schema import counters_table
from assistant.handoff.tickets import Ticket, TicketNotFound, TicketStore

REPO = Path(__file__).resolve().parents[3]
UTC = timezone.utc
JST = timezone(timedelta(hours=9))
T0 = datetime(2026, 11, 22, 15, 30, tzinfo=UTC)  # = 2026-11-23 00:30 JST

TRANSCRIPT = [
    {"role": "user", "text": "返品したいです", "time": "2026-11-22T15:29:00+00:00"},
    {
        "role": "bot",
        "text": "返品については、こちらをご覧ください。",
        "time": "2026-11-22T15:29:01+00:00",
    },
    {"role": "user", "text": "オペレーターと話したい", "time": "2026-11-22T15:29:30+00:00"},
]


def make(store: TicketStore, sender="user-1", **kw) -> Ticket:
    args = {
        "sender_id": sender,
        "channel": "web",
        "reason": "explicit",
        "last_question": "オペレーターと話したい",
        "term": None,
        "candidates": [],
        "transcript": TRANSCRIPT,
        "now": T0,
    }
    args.update(kw)
    return store.create(**args)


def test_create_and_get_roundtrip(store):
    t = make(
        store,
        term="返品",
        candidates=["返品", "返金"],
        contact="taro@example.com",
        contact_kind="email",
    )
    assert t.id == "ESC-20261123-0001"  # date in Japan time, not UTC
    got = store.get(t.id)
    assert got == t
    assert got.sender_id == "user-1" and got.channel == "web" and got.reason == "explicit"
    assert got.created_at == T0 and got.created_at.tzinfo is not None
    assert got.created_at.utcoffset() == timedelta(0)
    assert got.last_question == "オペレーターと話したい"
    assert got.term == "返品" and got.candidates == ["返品", "返金"]
    assert got.transcript == TRANSCRIPT
    assert (got.contact, got.contact_kind) == ("taro@example.com", "email")
    assert got.status == "open" and got.closed_at is None and got.messages == []
    assert got.delivery_status == "pending" and got.delivery_attempts == 0
    assert got.next_attempt_at == T0 and got.last_delivery_error is None
    json.dumps(got.to_dict(), ensure_ascii=False)  # JSON-ready


def test_created_at_accepts_any_aware_zone(store):
    t = make(store, now=T0.astimezone(JST))
    assert t.created_at == T0 and t.created_at.tzinfo == UTC


@pytest.mark.parametrize(
    "now, expected",
    [
        (datetime(2026, 11, 22, 14, 59, 59, tzinfo=UTC), "ESC-20261122-0001"),  # 23:59:59 JST
        (datetime(2026, 11, 22, 15, 0, 0, tzinfo=UTC), "ESC-20261123-0001"),  # 00:00 JST
    ],
)
def test_id_date_is_japan_time(store, now, expected):
    assert make(store, now=now).id == expected


def test_sequence_is_per_day(store):
    a = make(store)
    b = make(store)
    c = make(store, now=T0 + timedelta(days=1))
    d = make(store)
    assert [a.id, b.id, c.id, d.id] == [
        "ESC-20261123-0001",
        "ESC-20261123-0002",
        "ESC-20261124-0001",
        "ESC-20261123-0003",
    ]


def test_sequence_survives_lost_counter(store):
    make(store)
    make(store)
    with store.engine.begin() as conn:
        conn.execute(delete(counters_table))
    assert make(store).id == "ESC-20261123-0003"


def test_notify_false_disables_delivery(store, deliveries):
    t = make(store, notify=False)
    assert t.delivery_status == "disabled" and t.next_attempt_at is None
    assert deliveries.due_deliveries(T0 + timedelta(days=1)) == []


@pytest.mark.parametrize(
    "kw",
    [
        {"reason": "bored"},
        {"contact": "x@example.com", "contact_kind": "fax"},
        {"contact": None, "contact_kind": "email"},
    ],
)
def test_create_rejects_bad_arguments(store, kw):
    with pytest.raises(ValueError):
        make(store, **kw)


def test_naive_datetimes_are_rejected(store, deliveries):
    with pytest.raises(ValueError):
        make(store, now=datetime(2026, 11, 23, 10, 0))
    t = make(store)
    with pytest.raises(ValueError):
        store.append_message(t.id, "x", now=datetime(2026, 11, 23, 10, 0))
    with pytest.raises(ValueError):
        deliveries.due_deliveries(datetime(2026, 11, 23, 10, 0))


def test_open_for_sender(store):
    assert store.open_for_sender("nobody") is None
    first = make(store, sender="u")
    second = make(store, sender="u", now=T0 + timedelta(minutes=5))
    make(store, sender="other", now=T0 + timedelta(minutes=10))
    assert store.open_for_sender("u").id == second.id
    store.close(second.id, now=T0 + timedelta(minutes=6))
    assert store.open_for_sender("u").id == first.id
    store.close(first.id)
    assert store.open_for_sender("u") is None


def test_append_message_keeps_everything(store):
    t = make(store)
    store.append_message(t.id, "追加で質問です", now=T0 + timedelta(minutes=1))
    store.append_message(t.id, "もう一つ", now=T0 + timedelta(minutes=2))
    store.close(t.id, now=T0 + timedelta(minutes=3))
    # After closing too: never drop what the user wrote.
    store.append_message(t.id, "まだいますか？", now=T0 + timedelta(minutes=4))
    got = store.get(t.id)
    assert [m["text"] for m in got.messages] == ["追加で質問です", "もう一つ", "まだいますか？"]
    assert got.messages[0]["time"] == (T0 + timedelta(minutes=1)).isoformat()
    assert got.transcript == TRANSCRIPT and got.status == "closed"


def test_append_is_safe_under_concurrency(store):
    t = make(store)
    texts = [f"メッセージ{i}" for i in range(40)]

    def worker(chunk):
        for text in chunk:
            store.append_message(t.id, text)

    threads = [threading.Thread(target=worker, args=(texts[i::4],)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(m["text"] for m in store.get(t.id).messages) == sorted(texts)


def test_set_contact_and_close(store):
    t = make(store)
    got = store.set_contact(t.id, "+819012345678", "phone")
    assert (got.contact, got.contact_kind) == ("+819012345678", "phone")
    closed = store.close(t.id, now=T0 + timedelta(hours=1))
    assert closed.status == "closed" and closed.closed_at == T0 + timedelta(hours=1)
    again = store.close(t.id, now=T0 + timedelta(hours=2))
    assert again.closed_at == T0 + timedelta(hours=1)  # first closing time kept
    cleared = store.set_contact(t.id, None, None)
    assert cleared.contact is None and cleared.contact_kind is None


def test_list(store):
    ids = [make(store, now=T0 + timedelta(minutes=i)).id for i in range(5)]
    store.close(ids[1])
    assert [t.id for t in store.list()] == ids[::-1]
    assert [t.id for t in store.list(status="open")] == [ids[4], ids[3], ids[2], ids[0]]
    assert [t.id for t in store.list(status="closed")] == [ids[1]]
    assert [t.id for t in store.list(limit=2)] == [ids[4], ids[3]]
    with pytest.raises(ValueError):
        store.list(status="weird")


@pytest.mark.parametrize(
    "owner, method, args",
    [
        ("store", "get", ()),
        ("store", "append_message", ("x",)),
        ("store", "set_contact", ("a@example.com", "email")),
        ("store", "close", ()),
        ("deliveries", "record_delivery", (True, None, None)),
        ("deliveries", "claim_delivery", ()),
        ("deliveries", "requeue_delivery", ()),
    ],
)
def test_unknown_ticket_raises_ticket_not_found(store, deliveries, owner, method, args):
    target = {"store": store, "deliveries": deliveries}[owner]
    with pytest.raises(TicketNotFound) as info:
        getattr(target, method)("ESC-20991231-9999", *args)
    assert info.value.ticket_id == "ESC-20991231-9999"
    assert isinstance(info.value, LookupError)


def test_delivery_bookkeeping(store, deliveries):
    t = make(store)
    later = T0 + timedelta(seconds=1)
    assert [x.id for x in deliveries.due_deliveries(later)] == [t.id]
    assert deliveries.due_deliveries(T0 - timedelta(seconds=1)) == []

    failed = deliveries.record_delivery(t.id, False, "HTTP 500", T0 + timedelta(seconds=5))
    assert failed.delivery_status == "pending" and failed.delivery_attempts == 1
    assert failed.last_delivery_error == "HTTP 500"
    assert deliveries.due_deliveries(T0 + timedelta(seconds=4)) == []
    assert [x.id for x in deliveries.due_deliveries(T0 + timedelta(seconds=5))] == [t.id]

    gave_up = deliveries.record_delivery(t.id, False, "timeout", None)
    assert gave_up.delivery_status == "failed" and gave_up.delivery_attempts == 2
    assert deliveries.due_deliveries(T0 + timedelta(days=1)) == []

    requeued = deliveries.requeue_delivery(t.id, now=T0 + timedelta(hours=1))
    assert requeued.delivery_status == "pending"
    assert [x.id for x in deliveries.due_deliveries(T0 + timedelta(hours=1))] == [t.id]

    ok = deliveries.record_delivery(t.id, True, None, None)
    assert ok.delivery_status == "delivered" and ok.delivery_attempts == 3
    assert ok.next_attempt_at is None and ok.last_delivery_error is None
    assert deliveries.due_deliveries(T0 + timedelta(days=1)) == []
    assert deliveries.requeue_delivery(t.id).delivery_status == "delivered"  # left alone


def test_claim_is_exclusive_until_lease_ends(store, deliveries):
    t = make(store)
    assert deliveries.claim_delivery(t.id, T0, lease_seconds=30)
    assert not deliveries.claim_delivery(t.id, T0 + timedelta(seconds=10), lease_seconds=30)
    assert deliveries.due_deliveries(T0 + timedelta(seconds=10)) == []  # in flight elsewhere
    assert deliveries.claim_delivery(
        t.id, T0 + timedelta(seconds=31), lease_seconds=30
    )  # died: lease ends
    deliveries.record_delivery(t.id, False, "x", T0 + timedelta(seconds=90))
    assert not deliveries.claim_delivery(t.id, T0 + timedelta(seconds=60))  # backoff not over
    assert deliveries.claim_delivery(t.id, T0 + timedelta(seconds=90))
    deliveries.record_delivery(t.id, True, None, None)
    assert not deliveries.claim_delivery(t.id, T0 + timedelta(hours=1))


def test_claim_race_has_one_winner(store, deliveries):
    tickets = [make(store) for _ in range(10)]
    wins: list[str] = []
    lock = threading.Lock()

    def worker():
        for t in tickets:
            if deliveries.claim_delivery(t.id, T0, lease_seconds=60):
                with lock:
                    wins.append(t.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert sorted(wins) == sorted(t.id for t in tickets)


BIG = "あ" * 50_000 + "x" * 50_000  # ~100 K characters


@pytest.mark.parametrize(
    "text, stored",
    [
        ("普通の質問です", "普通の質問です"),
        ("絵文字😀👨‍👩‍👧‍👦🇯🇵です", "絵文字😀👨‍👩‍👧‍👦🇯🇵です"),
        ("NUL\x00を含む\x00", "NULを含む"),  # PostgreSQL rejects NUL in text
        ("制御文字\x01\x1b[31m\x7f\tタブ\n改行\r", "制御文字\x01\x1b[31m\x7f\tタブ\n改行\r"),
        ("<script>alert('x')</script><b>太字</b>", "<script>alert('x')</script><b>太字</b>"),
        ("'; DROP TABLE handoff_tickets; --", "'; DROP TABLE handoff_tickets; --"),
        ("壊れた\ud83dサロゲート", "壊れた\ufffdサロゲート"),
        ("", ""),
        ("　全角スペース　", "　全角スペース　"),
        (BIG, BIG),
    ],
    ids=[
        "plain",
        "emoji",
        "nul",
        "control",
        "html",
        "sql",
        "lone-surrogate",
        "empty",
        "zenkaku-space",
        "100k",
    ],
)
def test_user_text_is_stored_as_is(store, text, stored):
    transcript = [{"role": "user", "text": text, "time": "2026-11-22T15:29:00+00:00"}]
    t = make(
        store,
        last_question=text,
        term=text,
        candidates=[text],
        transcript=transcript,
        sender=text or "s",
    )
    store.append_message(t.id, text)
    got = store.get(t.id)
    assert got.last_question == stored
    assert got.term == stored
    assert got.candidates == [stored]
    assert got.transcript[0]["text"] == stored
    assert got.messages[0]["text"] == stored
    if text:
        assert got.sender_id == stored
        assert store.open_for_sender(text).id == t.id


def test_transcript_is_normalised_not_dropped(store):
    when = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
    t = make(
        store,
        transcript=[{"role": "user", "text": "a", "time": when, "intent": "greet"}, "plain string"],
    )
    assert t.transcript == [
        {"role": "user", "text": "a", "time": when.isoformat(), "intent": "greet"},
        {"role": "user", "text": "plain string", "time": ""},
    ]


def test_data_survives_a_new_store(db_url):
    s1 = TicketStore(db_url)
    t = make(s1)
    s1.append_message(t.id, "続き")
    s1.dispose()
    s2 = TicketStore(db_url)  # tables exist already: no error, nothing lost
    assert s2.get(t.id).messages[0]["text"] == "続き"
    assert make(s2).id == "ESC-20261123-0002"
    s2.dispose()


def test_unique_ids_under_concurrent_threads(store):
    ids: list[str] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker(n):
        try:
            for _i in range(10):
                t = make(store, sender=f"thread-{n}")
                with lock:
                    ids.append(t.id)
        except BaseException as exc:  # noqa: BLE001 anything, even an exit, surfaces in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert sorted(ids) == [f"ESC-20261123-{i:04d}" for i in range(1, 81)]


CHILD = """
import sys
from datetime import datetime, timezone
from assistant.handoff.tickets import TicketStore
store = TicketStore(sys.argv[1])
now = datetime(2026, 11, 22, 15, 30, tzinfo=timezone.utc)
for i in range(int(sys.argv[2])):
    print(store.create("proc", "web", "fallback", "q", None, [], [], now=now).id, flush=True)
"""


def _ids_from_processes(db_url: str, processes: int, tickets_each: int) -> list[str]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CHILD, db_url, str(tickets_each)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(processes)
    ]
    ids = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        ids += out.split()
    return sorted(ids)


def test_unique_ids_under_concurrent_processes(db_url):
    TicketStore(db_url).dispose()  # schema first, like a deployed app
    assert _ids_from_processes(db_url, 4, 15) == [f"ESC-20261123-{i:04d}" for i in range(1, 61)]


def test_concurrent_processes_on_empty_database(db_url):
    """Several workers starting at once must not trip over CREATE TABLE."""
    assert _ids_from_processes(db_url, 4, 3) == [f"ESC-20261123-{i:04d}" for i in range(1, 13)]


def test_sqlite_folder_is_created(tmp_path):
    url = f"sqlite:///{tmp_path / 'a' / 'b' / 'handoff.db'}"
    s = TicketStore(url)
    assert make(s).id == "ESC-20261123-0001"
    assert (tmp_path / "a" / "b" / "handoff.db").exists()
    s.dispose()


def test_in_memory_sqlite_works_across_threads():
    s = TicketStore("sqlite://")
    t = make(s)
    result: dict[str, Any] = {}
    th = threading.Thread(target=lambda: result.setdefault("t", s.get(t.id)))
    th.start()
    th.join()
    assert result["t"].id == t.id
