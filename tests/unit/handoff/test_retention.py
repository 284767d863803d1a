"""Retention (assistant/retention): purge and forget on SQLite and a real PostgreSQL
(the handoff fixtures' db_url; the tracker store's `events` table is created with Rasa's
own table definition in the same database). After `forget`, every row of every table
is searched for the customer's text and id."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy.engine import make_url

from assistant.handoff import tables as handoff_tables
from assistant.handoff.ticket_cap import TicketCap
from assistant.handoff.tickets import TicketStore
from assistant.inbox.items import State
from assistant.inbox.store import InboxStore
from assistant.line.store import LineStore
from assistant.livechat.console_auth import AuditLog
from assistant.outcomes.csat import CsatClaims
from assistant.outcomes.log import OutcomeLog
from assistant.outcomes.records import Outcome, jst_day, normalized
from assistant.outcomes.rollup import Analytics, uid
from assistant.receipts import ReceiptStore
from assistant.retention import registry
from assistant.retention.locations import LocationError, tracker_url
from assistant.retention.purge import (
    InvalidTarget,
    NothingFound,
    forget,
    parse_target,
    purge,
)
from assistant.retention.settings import RetentionSettings
from assistant.training.store import TrainingStore
from tests.support.stores import dump, where

NOW = datetime(2026, 12, 5, 3, 0, tzinfo=timezone.utc)
OLD = NOW - timedelta(days=200)
RECENT = NOW - timedelta(days=3)
ANCIENT = NOW - timedelta(days=500)  # past the outcome log's 400 days


def add_events(engine, sender: str, texts: list[str], at: datetime) -> None:
    rows = []
    for i, t in enumerate(texts):
        data = {"event": "user", "timestamp": at.timestamp() + i, "text": t}
        rows.append(
            {
                "sender_id": sender,
                "type_name": "user",
                "timestamp": data["timestamp"],
                "intent_name": None,
                "action_name": None,
                "data": json.dumps(data),
            }
        )
    with engine.begin() as conn:
        SQLTrackerStore.SQLEvent.__table__.create(conn, checkfirst=True)
        conn.execute(SQLTrackerStore.SQLEvent.__table__.insert(), rows)


def turn(
    sender: str,
    question: str,
    at: datetime,
    kind: str = "turn",
    decision: str = "fallback",
    ticket_id: str | None = None,
) -> Outcome:
    return Outcome(
        at=at,
        kind=kind,
        conversation=sender,
        channel="rest",
        decision=decision,
        question=question,
        normalized=normalized(question),
        ticket_id=ticket_id,
    )


def secrets(*texts: str) -> list[str]:
    """The texts as typed and in the outcome log's normalised form."""
    return [f for t in texts for f in (t, normalized(t) or t)]


@pytest.fixture
def world(db_url):
    """Two customers: alice (old and new conversation, a closed ticket with messages, a
    training record) and bob (recent conversation, an open ticket)."""
    tickets = TicketStore(db_url)
    engine = tickets.engine
    add_events(engine, "alice-7f3", ["アリスの古い質問QX1"], OLD)
    add_events(engine, "alice-7f3", ["アリスの新しい質問QX2 カード"], RECENT)
    add_events(engine, "bob-19c", ["ボブの質問BX1"], RECENT)
    a = tickets.create(
        "alice-7f3",
        "rest",
        "explicit",
        "アリスの質問QX3",
        "ACW",
        ["ACW"],
        [{"role": "user", "text": "アリスの履歴QX4"}],
        contact="alice@example.jp",
        contact_kind="email",
        now=OLD,
    )
    tickets.append_message(a.id, "アリスの追加QX5", now=OLD)
    tickets.close(a.id, now=OLD + timedelta(hours=1))
    b = tickets.create("bob-19c", "socketio", "explicit", "ボブの質問BX2", None, [], [], now=OLD)
    tickets.append_message(b.id, "ボブの追加BX3", now=OLD)
    AuditLog(engine).record("claim", "sato", a.id, "10.0.0.1", now=NOW - timedelta(days=400))
    cap = TicketCap(engine)  # its audit entries name the sender
    cap.record(a.id, "alice-7f3", "client-key-alice", now=NOW - timedelta(hours=1))
    cap.record(b.id, "bob-19c", "client-key-bob", now=NOW - timedelta(days=2))
    training = TrainingStore(engine)
    training.set_state("alice-7f3", trainee="alice-7f3")
    sid = training.start_session("alice-7f3", 3, 1, None)
    training.record_gap("alice-7f3", "アリスの語QX6")
    receipts = ReceiptStore(engine, ttl_hours=24)
    receipts.claim("rcpt-old", "alice-7f3", "rest", now=NOW.timestamp() - 2 * 86400)
    receipts.finish("rcpt-old", [{"text": "アリスへの返事QX7"}])
    receipts.claim("rcpt-new", "bob-19c", "rest", now=NOW.timestamp() - 60)
    receipts.finish("rcpt-new", [{"text": "ボブへの返事BX4"}])
    OutcomeLog(engine, enabled=True).write(
        [
            turn("alice-7f3", "アリスの大昔の質問QX8", ANCIENT),
            turn("alice-7f3", "アリスの新しい質問QX2 カード", RECENT),
            turn(
                "alice-7f3",
                "アリスの新しい質問QX2 カード",
                RECENT,
                kind="handoff",
                decision="requested",
                ticket_id=a.id,
            ),
            turn("bob-19c", "ボブの未回答BX5", RECENT),
            turn("bob-19c", "ボブの大昔の未回答BX6", ANCIENT),
            turn("alice-7f3", "みんなの質問ZZ1", RECENT),
            turn("bob-19c", "みんなの質問ZZ1", RECENT),
        ]
    )
    csat = CsatClaims(engine)  # CSAT once per conversation: keyed by the sender
    csat.claim("alice-7f3", "answered", RECENT)
    csat.claim("bob-19c", "answered", ANCIENT)
    inbox = InboxStore(engine)  # an editor's decisions: keyed by the customers' questions
    for question, at in (
        ("アリスの新しい質問QX2 カード", RECENT),
        ("みんなの質問ZZ1", RECENT),
        ("ボブの大昔の未回答BX6", ANCIENT),
    ):
        inbox.decide(State(normalized(question) or "", "dismissed", at, "sato", "spam"), question)
    line = LineStore(engine)  # LINE follow state: an old unfollow, a user with an open ticket
    line.set_active("Ucarol0001", False, now=OLD)
    add_events(engine, "line:Ucarol0001", ["キャロルの質問CX1"], RECENT)
    line.set_active("Udave0002", True, now=OLD)
    tickets.create("line:Udave0002", "line", "explicit", "デイブの質問DX1", None, [], [], now=OLD)
    line.take("evt-old-0001", now=NOW - timedelta(days=8))
    line.take("evt-new-0002", now=NOW - timedelta(hours=1))
    analytics = Analytics(engine, refresh_seconds=0)
    for at in (ANCIENT, RECENT):
        analytics.build_day(jst_day(at), now=NOW)
    yield {
        "url": db_url,
        "engine": engine,
        "alice_ticket": a.id,
        "bob_ticket": b.id,
        "session": sid,
    }
    tickets.dispose()


def test_forget_a_sender_leaves_nothing_of_them(world):
    url, engine = world["url"], world["engine"]
    result = forget(engine, engine, "alice-7f3", actor="cli:test", now=NOW)
    assert result.kind == "sender" and result.counts.rows["events"] == 2
    assert result.counts.rows["handoff_tickets"] == 1
    assert result.counts.rows["message_receipts"] == 1
    assert result.counts.rows["analytics_outcomes"] == 4
    assert result.counts.rows["analytics_csat_once"] == 1
    assert result.counts.rows["content_inbox"] == 1  # the question only alice asked
    for secret in (
        *secrets("alice-7f3", "アリス", "QX", "qx"),
        "alice@example.jp",
        "key-alice",
        world["alice_ticket"],
        str(uid("alice-7f3")),
    ):
        assert where(secret, url) == [], secret
    assert where("ボブの質問BX1", url) and where("ボブの追加BX3", url)  # bob untouched
    assert where("ボブの未回答BX5", url)
    # a question bob asked too is not alice's alone: the editor's decision about it stays
    assert [r for r in dump(url)["content_inbox"] if "みんなの質問ZZ1" in r]
    # the roll-ups of alice's days are rebuilt without her: bob's miss still counted
    report = Analytics(engine, refresh_seconds=0).report(jst_day(RECENT), jst_day(RECENT), now=NOW)
    assert where(normalized("ボブの未回答BX5"), url) and where(str(uid("bob-19c")), url)
    assert report.total.misses == {
        normalized("ボブの未回答BX5"): 1,
        normalized("みんなの質問ZZ1"): 1,
    }  # was 2 with alice
    assert where("QX", url) == [] and where(str(uid("alice-7f3")), url) == []
    audit = [r for r in dump(url)["handoff_audit"] if "forget" in r]
    assert len(audit) == 1 and "events=2" in audit[0] and "cli:test" in audit[0]


def test_forget_a_line_user(world):
    url, engine = world["url"], world["engine"]
    result = forget(engine, engine, "line:Ucarol0001", now=NOW)
    assert result.counts.rows["line_users"] == 1 and result.counts.rows["events"] == 1
    assert where("Ucarol0001", url) == [] and where("キャロル", url) == []
    assert where("Udave0002", url)


def test_forget_by_ticket_number(world):
    url, engine = world["url"], world["engine"]
    result = forget(engine, engine, world["bob_ticket"], now=NOW)
    assert result.kind == "ticket"
    assert result.counts.rows["analytics_outcomes"] == 3
    for secret in secrets("bob-19c", "ボブ", "BX"):
        assert where(secret, url) == [], secret
    assert where("アリスの新しい質問QX2", url)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "   ",
        " alice-7f3",
        "alice\x00",
        "a\u202e",
        "x" * 300,
        "ESC-1",
        "ESC-20261205",
        "esc-2026-12-05-0001",
    ],
)
def test_malformed_targets_change_nothing_and_say_why(world, bad):
    before = dump(world["url"])
    with pytest.raises(InvalidTarget) as err:
        forget(world["engine"], world["engine"], bad, now=NOW)
    assert str(err.value)
    assert dump(world["url"]) == before


@pytest.mark.parametrize("unknown", ["nobody", "ESC-20991231-0001"])
def test_unknown_targets_change_nothing(world, unknown):
    before = dump(world["url"])
    with pytest.raises(NothingFound):
        forget(world["engine"], world["engine"], unknown, now=NOW)
    assert dump(world["url"]) == before


def test_dry_run_counts_and_changes_nothing(world):
    before = dump(world["url"])
    result = forget(world["engine"], world["engine"], "alice-7f3", now=NOW, dry_run=True)
    assert result.counts.rows["events"] == 2
    assert dump(world["url"]) == before


def test_purge_deletes_and_anonymises_only_what_is_old(world):
    url, engine = world["url"], world["engine"]
    counts = purge(engine, engine, RetentionSettings(), now=NOW)
    assert counts.rows["events"] == 1  # alice's old message; the recent ones stay
    assert counts.rows["message_receipts"] == 1  # the expired receipt; bob's stays
    assert where("アリスへの返事QX7", url) == [] and where("ボブへの返事BX4", url)
    assert where("アリスの古い質問QX1", url) == [] and where("アリスの新しい質問QX2", url)
    # the old closed ticket is anonymised (kept for statistics), its messages deleted
    assert where("アリスの質問QX3", url) == [] and where("アリスの追加QX5", url) == []
    assert where("alice@example.jp", url) == [] and where(world["alice_ticket"], url)
    # the open ticket stays as it is, however old
    assert where("ボブの追加BX3", url) and where("ボブの質問BX2", url)
    # training data is recent (365 days) and stays; the 400-day-old audit entry is gone
    assert where("アリスの語QX6", url)
    assert not [r for r in dump(url)["handoff_audit"] if "claim" in r]
    # the ticket cap's entries (sender as actor) go after a day: the cap counts minutes
    assert where("client-key-bob", url) == [] and where("client-key-alice", url)
    # the outcome log keeps 400 days: the 500-day-old questions go, from the roll-ups too
    assert counts.rows["analytics_outcomes"] == 2 and counts.rows["content_inbox"] == 1
    assert counts.rows["analytics_csat_once"] == 1  # bob's ancient one
    for secret in secrets("アリスの大昔の質問QX8", "ボブの大昔の未回答BX6"):
        assert where(secret, url) == [], secret
    assert where("アリスの新しい質問QX2 カード", url) and where("ボブの未回答BX5", url)
    old_day = [r for r in dump(url)["analytics_rollup"] if jst_day(ANCIENT) in r]
    assert old_day and not [r for r in old_day if "misses" in r]  # counts stay, no text
    assert not [r for r in dump(url)["analytics_rollup_users"] if jst_day(ANCIENT) in r]
    assert [r for r in dump(url)["analytics_rollup_users"] if jst_day(RECENT) in r]
    # LINE: event ids past the 7-day redelivery window; an old user id without an open ticket
    assert where("evt-old-0001", url) == [] and where("evt-new-0002", url)
    assert [r.split(" | ")[0] for r in dump(url)["line_users"]] == ["Udave0002"]
    assert purge(engine, engine, RetentionSettings(), now=NOW).total == 0  # idempotent


def test_zero_days_keeps_forever(world):
    engine = world["engine"]
    keep = RetentionSettings(
        conversations_days=0, tickets_days=0, training_days=0, audit_days=0, outcomes_days=0
    )
    before = dump(world["url"])
    # expired message receipts and LINE event ids go by their own expiry, nothing else
    assert purge(engine, engine, keep, now=NOW).rows == {
        "message_receipts": 1,
        "line_webhook_events": 1,
    }
    after = dump(world["url"])
    for table in ("message_receipts", "line_webhook_events"):
        assert len(after.pop(table)) == len(before.pop(table)) - 1
    assert {k: v for k, v in after.items() if k != "handoff_audit"} == {
        k: v for k, v in before.items() if k != "handoff_audit"
    }


def test_every_table_is_in_the_registry(world):
    """Every table any module declares (tables.py imports them all) and every table the
    databases hold has a retention decision."""
    declared = set(handoff_tables.tables()) | set(
        handoff_tables.tables(handoff_tables.TRACKER_TABLE_MODULES)
    )
    assert set(dump(world["url"])) >= set(handoff_tables.tables())  # create_schema made all
    tables = set(dump(world["url"])) | declared
    known = registry.tables(registry.TRACKER) | registry.tables(registry.HANDOFF)
    assert tables - known == set(), "add the table to assistant/retention/registry.py"


def test_every_module_that_declares_a_table_is_listed():
    """A new module with a Table must be named in assistant/handoff/tables.py, so that
    create_schema creates it and the registry test above sees it."""
    root = Path(__file__).resolve().parents[3]
    declaring = {
        ".".join(path.relative_to(root).with_suffix("").parts)
        for path in (root / "assistant").rglob("*.py")
        if re.search(r"\bTable\(\s*\n?\s*[\"']", path.read_text(encoding="utf-8"))
    }
    listed = set(handoff_tables.HANDOFF_TABLE_MODULES) | set(handoff_tables.TRACKER_TABLE_MODULES)
    assert declaring - listed == set(), "add the module to assistant/handoff/tables.py"
    assert listed - declaring == set()


@pytest.mark.parametrize(
    "raw,ok",
    [
        ("90", 90),
        ("0", 0),
        ("36500", 36500),
        ("-1", None),
        ("9x", None),
        ("９０", None),
        ("1.5", None),
        ("36501", None),
    ],
)
def test_settings(raw, ok):
    env = {"RETENTION_CONVERSATIONS_DAYS": raw}
    if ok is None:
        with pytest.raises(ValueError, match="RETENTION_CONVERSATIONS_DAYS"):
            RetentionSettings.from_env(env)
    else:
        assert RetentionSettings.from_env(env).conversations_days == ok


def test_parse_target():
    assert parse_target("ESC-20261205-0001") == ("ticket", "ESC-20261205-0001")
    assert parse_target("ws-abc") == ("sender", "ws-abc")
    assert parse_target("佐藤") == ("sender", "佐藤")


def test_tracker_location_from_the_endpoints_files():
    assert tracker_url(environ={}).endswith("/var/tracker.db")
    env = {
        "POSTGRES_HOST": "db",
        "POSTGRES_PORT": "5433",
        "POSTGRES_USER": "u",
        "POSTGRES_PASSWORD": "p w",
        "POSTGRES_DB": "tracker",
    }
    url = make_url(tracker_url("endpoints.postgres.yml", env))
    assert (url.drivername, url.username, url.password, url.host, url.port, url.database) == (
        "postgresql",
        "u",
        "p w",
        "db",
        5433,
        "tracker",
    )
    assert tracker_url(environ={"TRACKER_DB_URL": "sqlite:///x.db"}) == "sqlite:///x.db"
    with pytest.raises(LocationError, match="POSTGRES_HOST"):
        tracker_url("endpoints.postgres.yml", {})
