"""KPI formulas on hand-built tables of records: input → expected numbers, including
empty periods and division by zero."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from assistant.outcomes import kpi
from assistant.outcomes.kpi import Summary, kpis, summarize_day
from assistant.outcomes.records import Outcome

T0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)  # 10:00 JST
LATER = T0 + timedelta(days=3)  # every 24 h window is over


def turn(
    conv, minute, decision, channel="rest", detail=None, term=None, faq=None, q=None, mid=None
):
    return Outcome(
        T0 + timedelta(minutes=minute),
        "turn",
        conv,
        channel=channel,
        decision=decision,
        detail=detail,
        term=term,
        faq_id=faq,
        question=q,
        normalized=q and q.lower(),
        message_id=mid or f"{conv}-{minute}",
    )


def fb(conv, minute, up, rated_kind="definition", term="ACW", faq=None, mid=None):
    return Outcome(
        T0 + timedelta(minutes=minute),
        "feedback",
        conv,
        channel="rest",
        decision="up" if up else "down",
        detail=rated_kind,
        term=term,
        faq_id=faq,
        message_id=mid,
    )


def handoff(conv, minute, after_answer=False):
    return Outcome(
        T0 + timedelta(minutes=minute),
        "handoff",
        conv,
        channel="rest",
        decision="requested",
        detail="explicit",
        after_answer=after_answer,
    )


def values(s, users=0):
    return {k["key"]: k["value"] for k in kpis(s, users)}


def total(parts):
    s = Summary()
    for p in parts.values():
        s.add(p)
    return s


def test_empty_period_has_no_rates():
    v = values(Summary())
    assert v["conversations"] == 0 and v["messages"] == 0 and v["questions"] == 0
    for key in (
        "answer_rate",
        "unanswered_rate",
        "handoff_rate",
        "self_resolution",
        "self_resolution_confirmed",
        "self_resolution_assumed",
        "accuracy",
        "csat",
        "csat_response_rate",
    ):
        assert v[key] is None, key


def test_every_kpi_has_a_definition():
    keys = [k["key"] for k in kpis(Summary())]
    assert keys == [d.key for d in kpi.DEFINITIONS]
    assert all(k["formula"] and k["label"] for k in kpis(Summary()))


# One conversation per line, what the test expects of it.
DAY = [
    # c1: answered, 👍 → confirmed
    turn("c1", 0, "definition", term="ACW", q="ACWとは?"),
    fb("c1", 1, True, mid="c1-0"),
    # c2: answered, thanks → confirmed
    turn("c2", 0, "faq", faq="tmj", q="TMJって?"),
    turn("c2", 1, "small_talk", detail="thanks"),
    # c3: answered, nothing else → assumed (24 h over)
    turn("c3", 0, "comparison", term="ACW|ATT", q="ACWとATTの違い"),
    # c4: unanswered last → not resolved
    turn("c4", 0, "definition", term="ACW", q="ACWとは?"),
    turn("c4", 1, "unknown_term", term="AHT", q="AHTとは?"),
    # c5: answered then 👎 → not resolved
    turn("c5", 0, "definition", term="ATT", q="ATTとは?"),
    fb("c5", 1, False, term="ATT", mid="c5-0"),
    # c6: handoff after an answer → not resolved, with handoff
    turn("c6", 0, "faq", faq="tmj", q="TMJって?"),
    turn("c6", 1, "handoff"),
    handoff("c6", 1, after_answer=True),
    turn("c6", 2, "followup"),
    # c7: greeting only → a conversation without a question
    turn("c7", 0, "small_talk", detail="greet"),
    # c8 (socketio): fallback, out of scope, empty
    turn("c8", 0, "fallback", channel="socketio", q="ぽにょ"),
    turn("c8", 1, "out_of_scope", channel="socketio", q="天気は?"),
    turn("c8", 2, "empty", channel="socketio"),
]


def test_a_day_by_hand():
    parts = summarize_day(DAY, now=LATER)
    assert set(parts) == {"rest", "socketio"}
    s = total(parts)
    assert s.messages == 14  # c1 1, c2 2, c3 1, c4 2, c5 1, c6 3, c7 1, c8 3
    # questions: c1 1, c2 1, c3 1, c4 2, c5 1, c6 1, c8 2 (empty is not a question)
    assert (s.questions, s.answered, s.unanswered, s.out_of_scope) == (9, 6, 2, 1)
    assert (s.conversations, s.with_question, s.with_handoff) == (8, 7, 1)
    assert (s.confirmed, s.assumed, s.pending) == (2, 1, 0)
    assert (s.up, s.down, s.up_answered, s.down_answered) == (1, 1, 1, 1)
    assert (s.handoff_requests, s.handoff_after_answer) == (1, 1)
    v = values(s, users=8)
    assert v["answer_rate"] == pytest.approx(6 / 9)
    assert v["unanswered_rate"] == pytest.approx(2 / 9)
    assert v["out_of_scope_rate"] == pytest.approx(1 / 9)
    assert v["handoff_rate"] == pytest.approx(1 / 8)
    assert v["self_resolution"] == pytest.approx(3 / 7)
    assert v["self_resolution_confirmed"] == pytest.approx(2 / 7)
    assert v["self_resolution_assumed"] == pytest.approx(1 / 7)
    assert v["accuracy"] == pytest.approx(1 / 2)
    assert v["users"] == 8
    assert s.answers == {"term:ACW": 2, "faq:tmj": 2, "term:ACW|ATT": 1, "term:ATT": 1}
    assert (s.answers_up, s.answers_down) == ({"term:ACW": 1}, {"term:ATT": 1})
    assert s.misses == {"ahtとは?": 1, "ぽにょ": 1, "天気は?": 1}
    assert s.examples["ahtとは?"] == ("AHTとは?", "c4")
    assert s.hours == {10: 14}
    assert parts["socketio"].messages == 3 and parts["socketio"].conversations == 1


def test_pending_and_coming_back():
    day = [turn("a", 0, "definition", term="ACW"), turn("b", 0, "definition", term="ACW")]
    # a: 24 h not over → pending (out of the denominator); b came back 2 h later → not resolved
    s = total(
        summarize_day(day, next_message={"b": T0 + timedelta(hours=2)}, now=T0 + timedelta(hours=3))
    )
    assert (s.pending, s.assumed, s.confirmed, s.with_question) == (1, 0, 0, 2)
    assert values(s)["self_resolution"] == 0.0
    # both came back after more than 24 h: both assumed
    s = total(summarize_day(day, next_message={"a": T0 + timedelta(hours=25)}, now=LATER))
    assert (s.pending, s.assumed) == (0, 2)
    # only pending conversations: nothing decided yet → no rate
    s = total(summarize_day(day[:1], now=T0 + timedelta(minutes=5)))
    assert values(s)["self_resolution"] is None


def test_the_last_rating_of_a_message_counts():
    day = [
        turn("a", 0, "definition", term="ACW"),
        fb("a", 1, False, mid="a-0"),
        fb("a", 2, True, mid="a-0"),
    ]
    s = total(summarize_day(day, now=LATER))
    assert (s.up, s.down, s.up_answered) == (1, 0, 1)
    assert values(s)["accuracy"] == 1.0


def test_feedback_on_a_miss_is_not_accuracy():
    day = [
        turn("a", 0, "unknown_term", term="AHT"),
        fb("a", 1, False, rated_kind="unknown_term", term="AHT"),
    ]
    s = total(summarize_day(day, now=LATER))
    assert (s.down, s.down_answered) == (1, 0)
    assert values(s)["accuracy"] is None


def test_csat():
    day = [turn("a", 0, "definition")] + [
        Outcome(T0, "csat", "a", channel="rest", decision=d, value=v)
        for d, v in [
            ("asked", None),
            ("asked", None),
            ("asked", None),
            ("answered", 5),
            ("answered", 2),
            ("answered", 9),
        ]
    ]
    s = total(summarize_day(day, now=LATER))
    assert (s.csat_asked, s.csat_responses, s.csat_positive) == (3, 2, 1)
    v = values(s)
    assert v["csat"] == 0.5 and v["csat_response_rate"] == pytest.approx(2 / 3)


def test_summaries_add_up():
    a = total(summarize_day(DAY[:6], now=LATER))
    b = total(summarize_day(DAY[6:], now=LATER))
    both = Summary().add(a).add(b)
    assert both.messages == 14 and both.answers["faq:tmj"] == 2
    assert both.answered_no_rating == 6 - 2


@pytest.mark.parametrize(
    "values_, p, expected",
    [
        ([], 50, None),
        ([5.0], 50, 5.0),
        ([5.0], 90, 5.0),
        ([1, 2, 3, 4], 50, 2),
        ([1, 2, 3, 4], 90, 4),
        (list(range(1, 11)), 90, 9),
        (list(range(1, 11)), 50, 5),
    ],
)
def test_percentile(values_, p, expected):
    assert kpi.percentile(values_, p) == expected
    assert kpi.hist_percentile(Counter(values_), p) == expected


def test_agent_and_training_stats():
    rs = [
        Outcome(T0, "handoff", "a", decision="claimed", agent="sato", value=30.0),
        Outcome(T0, "handoff", "b", decision="claimed", agent="sato", value=90.0),
        Outcome(T0, "handoff", "c", decision="claimed", agent="kato", value=10.0),
        Outcome(T0, "handoff", "a", decision="first_reply", agent="sato", value=5.0),
        Outcome(T0, "handoff", "a", decision="closed", agent="sato", value=300.0),
        Outcome(T0, "handoff", "b", decision="requested"),
        Outcome(T0, "training", "t1", decision="correct", term="ACW", value=1.0),
        Outcome(T0, "training", "t1", decision="wrong", term="ATT", value=0.0),
        Outcome(T0, "training", "t2", decision="wrong", term="ATT", value=0.0),
    ]
    s = total(summarize_day(rs, now=LATER))
    a = kpi.agent_stats(s)
    assert (a["claims"], a["wait_p50"], a["wait_p90"], a["handle_p50"], a["first_reply_p50"]) == (
        3,
        30.0,
        90.0,
        300.0,
        5.0,
    )
    assert a["per_agent"] == [
        {"agent": "sato", "conversations": 2},
        {"agent": "kato", "conversations": 1},
    ]
    t = kpi.training_stats(s)
    assert (t["trainees"], t["answers"], t["accuracy"]) == (2, 3, pytest.approx(1 / 3))
    assert t["hardest"] == [{"term": "ATT", "wrong": 2, "asked": 2}]
    assert kpi.agent_stats(Summary())["wait_p50"] is None
    assert kpi.training_stats(Summary())["accuracy"] is None
