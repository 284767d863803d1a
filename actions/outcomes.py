"""Writing the outcome log from the action server (records: assistant/outcomes/records.py).

Every call only queues a record (assistant/outcomes/log.py); nothing here may fail a
turn, so errors are logged and swallowed.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Tracker

from assistant.outcomes import records
from assistant.outcomes.records import Outcome
from assistant.routing import Route

from . import services
from .turn import Turn

logger = logging.getLogger(__name__)


def _last_user(tracker: Tracker) -> dict[str, Any]:
    event: dict[str, Any]
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event
    return {}


def _base(tracker: Tracker, kind: str, decision: str, **fields: Any) -> Outcome:
    user = _last_user(tracker)
    sent = user.get("timestamp")
    latency = max(0.0, (time.time() - float(sent)) * 1000.0) if sent else None
    return Outcome(
        at=datetime.now(timezone.utc),
        kind=kind,
        conversation=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or user.get("input_channel") or "unknown",
        decision=decision,
        latency_ms=latency if kind == "turn" else None,
        **fields,
    )


def _record(outcome: Outcome) -> None:
    try:
        services.outcomes().record(outcome)
    except Exception:  # the log must never fail a turn
        logger.exception("outcome log: record failed")


def turn(t: Turn, tracker: Tracker) -> None:
    """One routed customer message (and, for 👍/👎, the feedback on the previous answer)."""
    try:
        d, facts = t.decision, t.facts
        r = records.routed(
            d.route.value,
            small_talk=d.small_talk,
            reason=d.reason,
            faq_id=d.faq_id,
            terms=d.known_terms,
            queries=[s.query for s in d.subjects if not s.term],
        )
        confidence = facts.faq_confidence if d.route == Route.FAQ else facts.intent_confidence
        user = _last_user(tracker)
        question = records.clip(facts.text)
        _record(
            _base(
                tracker,
                "turn",
                r.decision,
                detail=r.detail,
                term=r.term,
                faq_id=r.faq_id,
                confidence=round(confidence, 4),
                question=question,
                normalized=records.normalized(question),
                message_id=user.get("message_id"),
            )
        )
        rating = _rating(t)
        if rating:
            prev = records.previous_answer(tracker.events)
            _record(records.with_previous(_base(tracker, "feedback", rating), prev))
    except Exception:
        logger.exception("outcome log: turn")


def _rating(t: Turn) -> str | None:
    d = t.decision
    if d.route == Route.SMALL_TALK and d.small_talk == "feedback_thanks":
        return "up"
    if d.route == Route.OFFER_HUMAN and d.reason == "feedback":
        return "down"
    return None


def plain_turn(tracker: Tracker, decision: str, detail: str | None = None) -> None:
    """A message not routed by action_route (handoff form follow-ups, core fallback)."""
    try:
        user = _last_user(tracker)
        question = records.clip(user.get("text"))
        _record(
            _base(
                tracker,
                "turn",
                decision,
                detail=detail,
                question=question,
                normalized=records.normalized(question) if decision == "fallback" else None,
                message_id=user.get("message_id"),
            )
        )
    except Exception:
        logger.exception("outcome log: turn")


def handoff_requested(tracker: Tracker, ticket_id: str, reason: str) -> None:
    try:
        prev = records.previous_answer(tracker.events)
        base = _base(tracker, "handoff", "requested", detail=reason, ticket_id=ticket_id)
        _record(records.with_previous(base, prev))
    except Exception:
        logger.exception("outcome log: handoff")


def training_answers(tracker: Tracker, payloads: list[dict[str, Any]]) -> None:
    try:
        for p in payloads:
            if p.get("kind") == "quiz_feedback":
                _record(
                    _base(
                        tracker,
                        "training",
                        "correct" if p.get("correct") else "wrong",
                        term=p.get("term"),
                        value=1.0 if p.get("correct") else 0.0,
                    )
                )
    except Exception:
        logger.exception("outcome log: training")
