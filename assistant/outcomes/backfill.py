"""Back-fill the outcome log once from what existed before it: the trackers (Rasa's SQL
tracker store, table ``events``) and the tickets (the handoff database).

    python -m assistant.outcomes.backfill [--tracker-db sqlite:///var/tracker.db]

Only what happened *before* the log's first row is added (nothing twice when the live log
already runs); roll-ups of the days it touches are rebuilt. Turns are read from the
bot's reply payloads (the response contract), so a back-filled turn has the decision
kind, term / FAQ id, question and channel, but no confidence or latency. Handoff events
come from the tickets (requested, claimed, first agent reply, closed).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import create_engine, func, select
from sqlalchemy import text as sql_text

from ..handoff.db import make_engine, reading
from ..handoff.schema import messages_table, tickets_table
from ..handoff.settings import HandoffSettings
from .log import OutcomeLog, outcomes_table
from .records import Outcome, clip, normalized, previous_answer, with_previous
from .rollup import Analytics

SMALL_TALK = {"greet", "thanks", "goodbye", "feedback_thanks"}
FOLLOWUP_KINDS = {
    "handoff_message",
    "contact_saved",
    "contact_invalid",
    "ask_contact",
    "command_refused",
}
TRAINING_KINDS = {
    "quiz_question",
    "quiz_feedback",
    "quiz_summary",
    "training_mode",
    "category_list",
    "weak_terms",
}
DIRECT = {
    "definition",
    "comparison",
    "faq",
    "unknown_term",
    "fallback",
    "out_of_scope",
    "handoff",
    "offer_human",
    "back_to_bot",
}


def decision_of(kind: str, payload: Mapping[str, Any]) -> tuple[str, str | None]:
    """The log's decision for the first payload kind of a reply (the response contract)."""
    if kind == "fallback" and payload.get("reason") == "empty":
        return "empty", None
    if kind in DIRECT:
        return kind, (payload.get("reason") if kind == "offer_human" else None)
    if kind in SMALL_TALK:
        return "small_talk", kind
    if kind == "ack" or kind == "offer_declined":
        return ("small_talk", "ack") if kind == "ack" else ("decline_offer", None)
    if kind in FOLLOWUP_KINDS:
        return "followup", None
    if kind in TRAINING_KINDS:
        return "training", kind
    return "other", kind


def _at(ts: Any) -> datetime:
    return datetime.fromtimestamp(float(ts or 0), timezone.utc)


def from_events(sender: str, events: Sequence[Mapping[str, Any]]) -> list[Outcome]:
    """One conversation's tracker events (dicts) → turn, feedback, handoff-request and
    training records."""
    out: list[Outcome] = []
    user: Mapping[str, Any] | None = None
    answered = True
    for i, e in enumerate(events):
        if e.get("event") == "user":
            if (e.get("metadata") or {}).get("to_agent"):
                out.append(_turn(sender, e, "to_agent", None, {}))
                user, answered = None, True
                continue
            user, answered = e, False
            continue
        if e.get("event") != "bot" or user is None:
            continue
        payload = ((e.get("data") or {}).get("custom")) or {}
        kind = payload.get("kind") if isinstance(payload, Mapping) else None
        if not kind:
            continue
        if kind == "quiz_feedback":
            out.append(
                Outcome(
                    _at(user.get("timestamp")),
                    "training",
                    sender,
                    channel=user.get("input_channel") or "unknown",
                    decision="correct" if payload.get("correct") else "wrong",
                    term=payload.get("term"),
                    value=1.0 if payload.get("correct") else 0.0,
                )
            )
        if answered:
            continue
        answered = True
        decision, detail = decision_of(str(kind), payload)
        out.append(_turn(sender, user, decision, detail, payload))
        rating = "up" if kind == "feedback_thanks" else None
        if kind == "offer_human" and payload.get("reason") == "feedback":
            rating = "down"
        if rating:
            base = Outcome(
                _at(user.get("timestamp")),
                "feedback",
                sender,
                channel=user.get("input_channel") or "unknown",
                decision=rating,
            )
            out.append(with_previous(base, previous_answer(list(events[:i]))))
    return out


def _turn(
    sender: str,
    user: Mapping[str, Any],
    decision: str,
    detail: str | None,
    payload: Mapping[str, Any],
) -> Outcome:
    question = clip(user.get("text"))
    terms = payload.get("terms") or ([payload["term"]] if payload.get("term") else [])
    term = payload.get("query") if decision == "unknown_term" else ("|".join(terms) or None)
    return Outcome(
        _at(user.get("timestamp")),
        "turn",
        sender,
        channel=user.get("input_channel") or "unknown",
        decision=decision,
        detail=detail,
        term=term if decision != "faq" else None,
        faq_id=payload.get("id") if decision == "faq" else None,
        question=question,
        normalized=normalized(question)
        if decision in ("unknown_term", "fallback", "out_of_scope")
        else None,
        message_id=user.get("message_id"),
    )


def from_tickets(
    tickets: Iterable[Mapping[str, Any]], first_replies: Mapping[str, datetime]
) -> list[Outcome]:
    out: list[Outcome] = []
    for t in tickets:
        created, claimed, closed = t["created_at"], t.get("claimed_at"), t.get("closed_at")
        common = {"channel": t["channel"], "ticket_id": t["id"]}
        out.append(
            Outcome(
                created,
                "handoff",
                t["sender_id"],
                decision="requested",
                detail=t["reason"],
                question=clip(t.get("last_question")),
                term=t.get("term"),
                **common,
            )
        )
        if claimed:
            out.append(
                Outcome(
                    claimed,
                    "handoff",
                    t["sender_id"],
                    decision="claimed",
                    agent=t.get("owner"),
                    value=(claimed - created).total_seconds(),
                    **common,
                )
            )
            first = first_replies.get(t["id"])
            if first:
                out.append(
                    Outcome(
                        first,
                        "handoff",
                        t["sender_id"],
                        decision="first_reply",
                        agent=t.get("owner"),
                        value=(first - claimed).total_seconds(),
                        **common,
                    )
                )
        if closed:
            reason = t.get("close_reason") or "close"
            out.append(
                Outcome(
                    closed,
                    "handoff",
                    t["sender_id"],
                    decision="handed_back" if reason == "handback" else "closed",
                    detail=reason,
                    agent=t.get("owner"),
                    value=(closed - claimed).total_seconds() if claimed else None,
                    **common,
                )
            )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m assistant.outcomes.backfill")
    p.add_argument("--tracker-db", default="sqlite:///var/tracker.db")
    args = p.parse_args(argv)
    engine = make_engine(HandoffSettings.from_env().db_url)
    log = OutcomeLog(engine, enabled=True)
    with reading(engine) as conn:
        first = conn.execute(select(func.min(outcomes_table.c.at))).scalar()
    if first is not None and first.tzinfo is None:
        first = first.replace(tzinfo=timezone.utc)
    before = first or datetime.now(timezone.utc)
    records: list[Outcome] = []
    trackers = create_engine(args.tracker_db, future=True)
    with trackers.connect() as conn:
        by_sender: dict[str, list[dict[str, Any]]] = {}
        for sender, data in conn.execute(
            sql_text("SELECT sender_id, data FROM events ORDER BY id")
        ):
            by_sender.setdefault(sender, []).append(json.loads(data))
    trackers.dispose()
    for sender, events in by_sender.items():
        records += [r for r in from_events(sender, events) if r.at < before]
    with reading(engine) as conn:
        tickets = [dict(r._mapping) for r in conn.execute(select(tickets_table)).all()]
        m = messages_table.c
        agent_said = select(m.ticket_id, func.min(m.created_at)).where(m.role == "agent")
        firsts = dict(conn.execute(agent_said.group_by(m.ticket_id)))
    records += [r for r in from_tickets(tickets, firsts) if r.at < before]
    log.write(records)
    Analytics(engine).invalidate(sorted({r.day for r in records}))
    print(
        f"{len(records)} 件を追加しました(ログ開始 {before.isoformat(timespec='seconds')} より前)"
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
