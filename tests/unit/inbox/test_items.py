"""The unanswered inbox's grouping and status (assistant/inbox/items.py), as tables."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.inbox.items import (
    Signal,
    State,
    answered_keys,
    check_reason,
    counts,
    group,
    reason_of,
    select,
    signal_key,
)

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)


def at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def sig(reason, key, label, minutes=0, count=1, channel="rest", conversation="c1", question=None):
    return Signal(
        reason, key, label, channel, count, at(minutes), at(minutes), conversation, question
    )


@pytest.mark.parametrize(
    "kind, decision, after_answer, expected",
    [
        ("turn", "unknown_term", None, "unknown_term"),
        ("turn", "fallback", None, "fallback"),
        ("turn", "out_of_scope", None, "out_of_scope"),
        ("turn", "definition", None, None),
        ("turn", "small_talk", None, None),
        ("feedback", "down", None, "down"),
        ("feedback", "up", None, None),
        ("handoff", "requested", True, "handoff"),
        ("handoff", "requested", False, None),
        ("handoff", "requested", None, None),
        ("handoff", "claimed", True, None),
        ("csat", "answered", None, None),
    ],
)
def test_which_rows_are_misses(kind, decision, after_answer, expected):
    assert reason_of(kind, decision, after_answer) == expected


@pytest.mark.parametrize(
    "reason, term, normalized, question, expected",
    [
        ("unknown_term", "AHT", "ahtとは?", "AHTとは?", ("aht", "AHT")),
        ("unknown_term", "ＡＨＴ", "ahtッテ何?", "ＡＨＴって何?", ("aht", "AHT")),
        ("unknown_term", None, "ahtとは?", "AHTとは?", ("ahtとは?", "AHTとは?")),
        # several unknown words in one question (the outcome log joins them with |): the first
        ("unknown_term", "NPS|何", "npsッテ何ノ略?", "NPSって何の略?", ("nps", "NPS")),
        ("fallback", None, "きょうのてんき", "今日の天気", ("きょうのてんき", "今日の天気")),
        ("down", "ACW", "acwとは?", "ACWとは?", ("acwとは?", "ACWとは?")),
        ("handoff", None, None, "ＡＣＷとは？", ("acwトハ?", "ACWとは?")),  # folded here
        ("fallback", None, None, None, None),
        ("fallback", None, "", "", None),
    ],
)
def test_the_key_is_the_matchers_form(reason, term, normalized, question, expected):
    assert signal_key(reason, term, normalized, question) == expected


@pytest.mark.parametrize(
    "term, normalized, expected",
    [
        ("AHT", "ahtとは?", ["ahtとは?", "aht"]),
        ("A|B", "aとbのちがい", ["aとbのちがい"]),
        (None, "x", ["x"]),
        (None, None, []),
    ],
)
def test_what_an_answered_turn_speaks_for(term, normalized, expected):
    assert answered_keys(term, normalized) == expected


def test_misses_group_with_count_first_last_channels_and_latest_example():
    items = group(
        [
            sig("unknown_term", "aht", "AHT", 0, 2, "rest", "c1", "AHTとは?"),
            sig("unknown_term", "aht", "ＡＨＴ", 30, 1, "socketio", "c2", "ＡＨＴって何?"),
            sig("fallback", "x", "x?", 10),
        ]
    )
    assert [i.key for i in items] == ["aht", "x"]  # newest first
    aht = items[0]
    assert (aht.count, aht.first, aht.last) == (3, at(0), at(30))
    assert aht.channels == {"rest": 2, "socketio": 1}
    assert (aht.conversation, aht.question) == ("c2", "ＡＨＴって何?")
    assert aht.public()["channel"] == "rest" and aht.public()["count"] == 3


def state(status, minutes, key="aht"):
    return State(
        key,
        status,
        at(minutes),
        "editor1",
        reason="テスト" if status == "dismissed" else None,
        action="term" if status == "resolved" else None,
        target="AHT",
        revision=7,
    )


# (signals' last minute, reasons, decision, answered minute) → (status, by, reopened)
CASES = [
    (10, ["unknown_term"], None, None, ("open", None, False)),
    (10, ["unknown_term"], state("resolved", 20), None, ("resolved", "person", False)),
    (30, ["unknown_term"], state("resolved", 20), None, ("open", None, True)),  # came back
    (10, ["unknown_term"], state("dismissed", 20), None, ("dismissed", "person", False)),
    (30, ["unknown_term"], state("dismissed", 20), None, ("open", None, True)),  # came back
    (10, ["unknown_term"], None, 40, ("resolved", "answered", False)),  # fixed in the studio
    (10, ["unknown_term"], None, 5, ("open", None, False)),  # answered before, missed since
    (10, ["down"], None, 40, ("open", None, False)),  # a 👎 is not fixed by answering again
    (10, ["fallback", "handoff"], None, 40, ("open", None, False)),
    (30, ["unknown_term"], state("dismissed", 20), 40, ("resolved", "answered", True)),
    (
        30,
        ["unknown_term"],
        state("resolved", 20),
        40,
        ("resolved", "person", False),
    ),  # switch window
    (30, ["down"], state("resolved", 20), 25, ("open", None, True)),  # 👎 on the new answer
]


@pytest.mark.parametrize("last, reasons, decided, answered, expected", CASES)
def test_status(last, reasons, decided, answered, expected):
    signals = [sig(r, "aht", "AHT", last) for r in reasons]
    items = group(
        signals, {"aht": decided} if decided else {}, {"aht": at(answered)} if answered else {}
    )
    it = items[0]
    assert (it.status, it.by, it.reopened) == expected
    decision = it.public()["decision"]
    assert decision is None if decided is None else decision["status"] == decided.status


def test_select_and_counts():
    items = group(
        [sig("unknown_term", k, k, 10) for k in ("a", "b", "c")],
        {"a": state("resolved", 20, "a"), "b": state("dismissed", 20, "b")},
    )
    assert counts(items) == {"open": 1, "resolved": 1, "dismissed": 1}
    assert [i.key for i in select(items, "open")] == ["c"]
    assert [i.key for i in select(items, "dismissed")] == ["b"]
    assert len(select(items, "all")) == 3


@pytest.mark.parametrize(
    "reason, expected",
    [
        ("  重複  した 質問 ", "重複 した 質問"),
        ("x" * 200, "x" * 200),
        ("", ValueError),
        (None, ValueError),
        ("   ", ValueError),
        ("x" * 201, ValueError),
    ],
)
def test_dismissal_reason(reason, expected):
    if expected is ValueError:
        with pytest.raises(ValueError):
            check_reason(reason)
    else:
        assert check_reason(reason) == expected
