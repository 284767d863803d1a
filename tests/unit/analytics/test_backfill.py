"""Back-fill from trackers and tickets: events (dicts as Rasa stores them) → records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from assistant.outcomes.backfill import decision_of, from_events, from_tickets


def user(text, mid, ts, intent=None, channel="rest", **extra):
    return {
        "event": "user",
        "text": text,
        "message_id": mid,
        "timestamp": ts,
        "input_channel": channel,
        "parse_data": {"intent": {"name": intent}},
        **extra,
    }


def bot(kind, **payload):
    return {"event": "bot", "text": "…", "data": {"custom": {"kind": kind, "text": "…", **payload}}}


def test_turns_feedback_and_training_from_events():
    events = [
        {"event": "action", "name": "action_session_start"},
        user("ACWとは?", "m1", 1_764_000_000),
        {"event": "action", "name": "action_route"},
        bot("definition", term="アフターコールワーク"),
        user("/feedback_positive", "m2", 1_764_000_010, "feedback_positive"),
        bot("feedback_thanks"),
        user("ＡＨＴとは？", "m3", 1_764_000_020),
        bot("unknown_term", query="ＡＨＴ"),
        bot("offer_human"),
        user("", "m4", 1_764_000_030),
        bot("fallback", reason="empty"),
        user("1", "m5", 1_764_000_040),
        bot("quiz_feedback", correct=True, term="ACW"),
        bot("quiz_question"),
        user("こんにちは", "m6", 1_764_000_050, metadata={"to_agent": True}),
    ]
    out = from_events("s1", events)
    got = [(o.kind, o.decision, o.detail, o.term, o.message_id) for o in out]
    assert got == [
        ("turn", "definition", None, "アフターコールワーク", "m1"),
        ("turn", "small_talk", "feedback_thanks", None, "m2"),
        ("feedback", "up", "definition", "アフターコールワーク", "m1"),
        ("turn", "unknown_term", None, "ＡＨＴ", "m3"),
        ("turn", "empty", None, None, "m4"),
        ("training", "correct", None, "ACW", None),
        ("turn", "training", "quiz_feedback", "ACW", "m5"),
        ("turn", "to_agent", None, None, "m6"),
    ]
    assert out[3].normalized == "ahtトハ?" and out[0].at == datetime.fromtimestamp(
        1_764_000_000, timezone.utc
    )


def test_decisions_of_payload_kinds():
    assert decision_of("offer_human", {"reason": "feedback"}) == ("offer_human", "feedback")
    assert decision_of("greet", {}) == ("small_talk", "greet")
    assert decision_of("handoff_message", {}) == ("followup", None)
    assert decision_of("offer_declined", {}) == ("decline_offer", None)


def test_handoff_events_from_tickets():
    t0 = datetime(2026, 12, 1, 1, 0, tzinfo=timezone.utc)
    tickets = [
        {
            "id": "ESC-1",
            "sender_id": "s1",
            "channel": "rest",
            "created_at": t0,
            "reason": "explicit",
            "last_question": "オペレーターと話したい",
            "term": None,
            "claimed_at": t0 + timedelta(seconds=30),
            "closed_at": t0 + timedelta(seconds=330),
            "owner": "sato",
            "close_reason": "handback",
        },
        {
            "id": "ESC-2",
            "sender_id": "s2",
            "channel": "socketio",
            "created_at": t0,
            "reason": "fallback",
            "last_question": "?",
            "term": None,
            "claimed_at": None,
            "closed_at": None,
            "owner": None,
            "close_reason": None,
        },
    ]
    out = from_tickets(tickets, {"ESC-1": t0 + timedelta(seconds=40)})
    assert [(o.ticket_id, o.decision, o.value) for o in out] == [
        ("ESC-1", "requested", None),
        ("ESC-1", "claimed", 30.0),
        ("ESC-1", "first_reply", 10.0),
        ("ESC-1", "handed_back", 300.0),
        ("ESC-2", "requested", None),
    ]
