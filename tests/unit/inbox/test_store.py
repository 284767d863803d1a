"""The unanswered inbox over a real outcome log (SQLite and PostgreSQL): what is read,
grouped, decided."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.handoff.db import make_engine
from assistant.inbox.items import State
from assistant.inbox.store import InboxStore
from assistant.outcomes.log import OutcomeLog
from assistant.outcomes.records import Outcome, normalized
from tests.support.pg import fresh_pg_database, pg_server_url  # noqa: F401  (fixture)

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def turn(minutes, decision, question, term=None, conversation="c1", channel="rest"):
    return Outcome(
        NOW + timedelta(minutes=minutes),
        "turn",
        conversation,
        channel,
        decision,
        term=term,
        question=question,
        normalized=normalized(question),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        e = make_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
        yield e
        e.dispose()
        return
    for url in fresh_pg_database(request.getfixturevalue("pg_server_url")):
        e = make_engine(url)
        yield e
        e.dispose()


@pytest.fixture
def log(engine):
    return OutcomeLog(engine, enabled=True)


def test_misses_are_grouped_and_other_rows_left_out(engine, log):
    log.write(
        [
            turn(-60, "unknown_term", "AHTとは?", "AHT", "c1", "rest"),
            turn(-30, "unknown_term", "ＡＨＴって何?", "ＡＨＴ", "c2", "socketio"),
            turn(-20, "fallback", "今日の天気は?", conversation="c3"),
            turn(-10, "definition", "ACWとは?", "アフターコールワーク"),
            Outcome(
                NOW,
                "feedback",
                "c4",
                "socketio",
                "down",
                term="ACW",
                question="ACWとは?",
                normalized=normalized("ACWとは?"),
            ),
            Outcome(
                NOW,
                "feedback",
                "c4",
                "socketio",
                "up",
                question="IVRとは?",
                normalized=normalized("IVRとは?"),
            ),
            Outcome(
                NOW,
                "handoff",
                "c5",
                "rest",
                "requested",
                question="返品したい",
                normalized=normalized("返品したい"),
                after_answer=True,
            ),
            Outcome(
                NOW,
                "handoff",
                "c6",
                "rest",
                "requested",
                question="人と話したい",
                after_answer=False,
            ),
            Outcome(
                NOW - timedelta(days=200),
                "turn",
                "old",
                "rest",
                "fallback",
                question="昔の質問",
                normalized=normalized("昔の質問"),
            ),
        ]
    )
    items = {i.key: i for i in InboxStore(engine).items()}
    assert set(items) == {
        "aht",
        normalized("今日の天気は?"),
        normalized("ACWとは?"),
        normalized("返品したい"),
    }
    aht = items["aht"]
    assert (aht.count, aht.conversation, aht.label) == (2, "c2", "AHT")
    assert aht.channels == {"rest": 1, "socketio": 1}
    assert items[normalized("ACWとは?")].reasons == {"down": 1}
    assert items[normalized("返品したい")].reasons == {"handoff": 1}


def test_decisions_are_kept_per_key_and_a_later_answer_resolves(engine, log):
    store = InboxStore(engine)
    log.write([turn(-5, "unknown_term", "AHTとは?", "AHT"), turn(-5, "fallback", "xyz?")])
    store.decide(
        State("aht", "resolved", NOW, "ed", action="term", target="AHT", revision=3), "AHT"
    )
    store.decide(State(normalized("xyz?"), "dismissed", NOW, "ed", reason="いたずら"), "xyz?")
    got = {i.key: (i.status, i.by) for i in store.items()}
    assert got == {"aht": ("resolved", "person"), normalized("xyz?"): ("dismissed", "person")}
    log.write([turn(1, "definition", "AHTとは?", "AHT"), turn(2, "fallback", "xyz?")])
    again = {i.key: (i.status, i.reopened, i.count) for i in store.items()}
    assert again == {"aht": ("resolved", False, 1), normalized("xyz?"): ("open", True, 2)}
    assert store.reopen([normalized("xyz?")]) == 1 and store.reopen(["nothing"]) == 0
    assert store.seen_in("c1") and not store.seen_in("nobody")


def test_an_item_fixed_in_the_studio_is_resolved_by_the_next_answer(engine, log):
    log.write(
        [
            turn(-5, "unknown_term", "AHTとは?", "AHT"),
            turn(1, "definition", "平均処理時間とは?", "AHT"),
        ]
    )
    (item,) = InboxStore(engine).items()
    assert (item.status, item.by) == ("resolved", "answered")
