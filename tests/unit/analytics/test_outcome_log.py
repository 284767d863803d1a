"""The outcome log: records from routing decisions and tracker events (pure), and the
writer (queue + thread, batched inserts) on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from assistant.outcomes import records
from assistant.outcomes.log import OutcomeLog, OutcomeStore
from assistant.outcomes.records import Outcome

T0 = datetime(2026, 12, 1, 14, 59, 30, tzinfo=timezone.utc)  # 23:59:30 JST


@pytest.mark.parametrize(
    "kwargs, expected",
    [
        ({"route": "definition", "terms": ["ACW"]}, records.RoutedTurn("definition", term="ACW")),
        (
            {"route": "comparison", "terms": ["ACW", "ATT"]},
            records.RoutedTurn("comparison", term="ACW|ATT"),
        ),
        (
            {"route": "unknown_term", "queries": ["AHT"]},
            records.RoutedTurn("unknown_term", term="AHT"),
        ),
        ({"route": "faq", "faq_id": "tmj"}, records.RoutedTurn("faq", faq_id="tmj")),
        ({"route": "fallback", "reason": "empty"}, records.RoutedTurn("empty")),
        ({"route": "fallback"}, records.RoutedTurn("fallback")),
        (
            {"route": "small_talk", "small_talk": "thanks"},
            records.RoutedTurn("small_talk", detail="thanks"),
        ),
        ({"route": "small_talk"}, records.RoutedTurn("small_talk", detail="ack")),
        (
            {"route": "offer_human", "reason": "feedback"},
            records.RoutedTurn("offer_human", detail="feedback"),
        ),
        ({"route": "handoff"}, records.RoutedTurn("handoff")),
        ({"route": "quiz_answer"}, records.RoutedTurn("quiz_answer")),
    ],
)
def test_routed(kwargs, expected):
    assert records.routed(kwargs.pop("route"), **kwargs) == expected


@pytest.mark.parametrize(
    "decision, klass",
    [
        ("definition", "answered"),
        ("comparison", "answered"),
        ("faq", "answered"),
        ("unknown_term", "unanswered"),
        ("fallback", "unanswered"),
        ("out_of_scope", "out_of_scope"),
        ("empty", "other"),
        ("small_talk", "other"),
        ("handoff", "other"),
        ("to_agent", "other"),
    ],
)
def test_outcome_class(decision, klass):
    assert records.outcome_class(decision) == klass


def _user(text, mid):
    return {"event": "user", "text": text, "message_id": mid}


def _bot(kind, **payload):
    return {"event": "bot", "text": "…", "data": {"custom": {"kind": kind, **payload}}}


@pytest.mark.parametrize(
    "events, expected",
    [
        ([], None),
        ([_user("/feedback_positive", "m1")], None),
        (
            [
                _user("ACWとは?", "m1"),
                {"event": "action", "name": "action_route"},
                _bot("definition", term="アフターコールワーク"),
                _user("/feedback_positive", "m2"),
            ],
            records.PreviousAnswer("definition", "アフターコールワーク", None, "ACWとは?", "m1"),
        ),
        (
            [
                _user("TMJって何してる会社?", "m1"),
                _bot("faq", id="tmj"),
                _user("役に立たない", "m2"),
            ],
            records.PreviousAnswer("faq", None, "tmj", "TMJって何してる会社?", "m1"),
        ),
        (  # the offer of a person is skipped: the handoff follows the miss
            [
                _user("AHTとは?", "m1"),
                _bot("unknown_term", query="AHT"),
                _bot("offer_human"),
                _user("はい", "m2"),
            ],
            records.PreviousAnswer("unknown_term", "AHT", None, "AHTとは?", "m1"),
        ),
        (  # a user message with no answer after it: nothing rated
            [
                _user("ACWとは?", "m1"),
                _bot("definition", term="ACW"),
                _user("こんにちは", "m2"),
                _bot("greet"),
                _user("/feedback_positive", "m3"),
            ],
            None,
        ),
        (
            [
                _user("ACWとATTの違い", "m1"),
                _bot("comparison", terms=["ACW", "ATT"]),
                _user("👍", "m2"),
            ],
            records.PreviousAnswer("comparison", "ACW|ATT", None, "ACWとATTの違い", "m1"),
        ),
    ],
)
def test_previous_answer(events, expected):
    assert records.previous_answer(events) == expected


def test_with_previous_feedback_and_handoff():
    prev = records.PreviousAnswer("definition", "ACW", None, "ＡＣＷ とは？", "m1")
    fb = records.with_previous(Outcome(T0, "feedback", "c1", decision="down"), prev)
    assert (fb.term, fb.detail, fb.question, fb.normalized, fb.message_id) == (
        "ACW",
        "definition",
        "ＡＣＷ とは？",
        "acwトハ?",
        "m1",
    )
    ho = records.with_previous(
        Outcome(T0, "handoff", "c1", decision="requested", detail="explicit"), prev
    )
    assert (ho.after_answer, ho.detail, ho.term) == (True, "explicit", "ACW")
    miss = records.PreviousAnswer("unknown_term", "AHT", None, "AHTとは", "m1")
    assert (
        records.with_previous(Outcome(T0, "handoff", "c1", decision="requested"), miss).after_answer
        is False
    )
    assert (
        records.with_previous(Outcome(T0, "handoff", "c1", decision="requested"), None).after_answer
        is False
    )


def test_row_has_japan_day_and_hour():
    row = records.as_row(Outcome(T0, "turn", "c1", decision="faq"))
    assert (row["day"], row["hour"]) == ("2026-12-01", 23)
    row = records.as_row(Outcome(T0 + timedelta(seconds=31), "turn", "c1", decision="faq"))
    assert (row["day"], row["hour"]) == ("2026-12-02", 0)


def test_question_is_clipped_and_normalised():
    long = "あ" * 2000
    o = Outcome(
        T0, "turn", "c1", decision="fallback", question=long, normalized=records.normalized(long)
    )
    row = records.as_row(o)
    assert (
        len(row["question"]) == records.MAX_QUESTION
        and len(row["normalized"]) == records.MAX_QUESTION
    )
    assert records.normalized("ｴｰｴｲﾁﾃｨｰ って何？") == records.normalized("えーえいちてぃーって何?")


def _turn(i, conv="c1", at=T0):
    return Outcome(
        at + timedelta(seconds=i),
        "turn",
        conv,
        channel="rest",
        decision="definition",
        term="ACW",
        confidence=0.9,
        latency_ms=12.5,
        question="ACWとは?",
        normalized="acwとは?",
        message_id=f"m{i}",
    )


def test_writer_inserts_in_batches_off_the_caller(engine):
    log = OutcomeLog(engine, flush_seconds=0.05, batch=50)
    for i in range(120):
        log.record(_turn(i))
    assert log.wait_idle(10)
    rows = OutcomeStore(engine).rows("2026-12-01", "2026-12-02")
    assert len(rows) == 120 and log.written == 120
    assert rows[0] == _turn(0)
    log.stop()


def test_writer_keeps_rows_when_the_database_fails(engine, monkeypatch):
    log = OutcomeLog(engine, flush_seconds=10)
    calls = {"n": 0}
    real = log.write

    def failing(rs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database away")
        real(rs)

    monkeypatch.setattr(log, "write", failing)
    log.record(_turn(1))
    log.record(_turn(2))
    with pytest.raises(RuntimeError):
        log.flush()
    assert log.flush() == 2
    assert [r.message_id for r in OutcomeStore(engine).rows("2026-12-01", "2026-12-02")] == [
        "m1",
        "m2",
    ]
    log.stop()


def test_full_queue_drops_and_counts(engine):
    log = OutcomeLog(engine, flush_seconds=10, max_queue=3)
    log._thread = object()  # type: ignore[assignment]  # no writer thread: the queue only fills
    for i in range(5):
        log.record(_turn(i))
    assert log.dropped == 2 and len(log._queue) == 3
    log._queue.clear()


def test_disabled_log_writes_nothing(engine, monkeypatch):
    monkeypatch.setenv("OUTCOME_LOG", "off")
    log = OutcomeLog(engine)
    log.record(_turn(1))
    assert log.flush() == 0 and not log._queue


def test_forget_and_purge(engine):
    log = OutcomeLog(engine, flush_seconds=10)
    for i in range(3):
        log.record(_turn(i, "c1"))
    log.record(_turn(0, "c2", at=T0 - timedelta(days=100)))
    log.flush()
    store = OutcomeStore(engine)
    assert store.forget("c1") == 3
    assert store.count() == 1
    assert store.purge(T0 - timedelta(days=90)) == 1
    assert store.count() == 0


def test_record_cost_on_the_hot_path(engine):
    """Queueing a record costs microseconds (target: < 0.2 ms a message)."""
    log = OutcomeLog(engine, flush_seconds=10, max_queue=1_000_000)
    log._thread = object()  # type: ignore[assignment]  # no writer thread
    o = _turn(1)
    start = time.perf_counter()
    for _ in range(10_000):
        log.record(o)
    per = (time.perf_counter() - start) / 10_000
    log._queue.clear()
    assert per < 0.0002
