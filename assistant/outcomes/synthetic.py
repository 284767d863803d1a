"""A deterministic synthetic outcome log for scale tests: N days of a busy contact
center (``generate(days=30, messages=1_000_000)``), with the weekday × hour profile of
office hours, conversations of 1-8 messages, returning users, ratings, handoffs with
claims and closes, and a long tail of unanswered questions. Same seed, same rows.

Rows are plain dicts of ``analytics_outcomes`` columns (no ``id``), made without the
Outcome dataclass so that a million of them are quick to produce.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

from .records import JST

# (decision, weight, detail) of a customer's message
_TURNS = [
    ("definition", 38, None), ("faq", 20, None), ("comparison", 3, None),
    ("unknown_term", 8, None), ("fallback", 5, None), ("out_of_scope", 4, None),
    ("small_talk", 6, "greet"), ("small_talk", 5, "thanks"), ("small_talk", 2, "goodbye"),
    ("small_talk", 2, "ack"), ("empty", 1, None), ("handoff", 3, None),
    ("quiz_answer", 3, None),
]  # fmt: skip
_DECISIONS = [t[0] for t in _TURNS]
_DETAILS = [t[2] for t in _TURNS]
_WEIGHTS = [t[1] for t in _TURNS]
_HOURS = [1, 1, 1, 1, 1, 2, 4, 8, 14, 18, 20, 19, 15, 17, 19, 18, 16, 13, 10, 8, 6, 4, 3, 2]
_WEEKDAYS = [10, 9, 9, 9, 10, 5, 4]  # Monday first
_CHANNELS = ["socketio", "rest", "line"]
_CHANNEL_W = [70, 20, 10]
_TERMS = [f"用語{i:02d}" for i in range(60)]
_FAQS = [f"faq_{i:02d}" for i in range(13)]
_MISSES = [f"みしゅう{i:03d}とは?" for i in range(400)]
_AGENTS = [f"agent{i}" for i in range(12)]


def _row(at: datetime, kind: str, conv: str, channel: str, decision: str, **f: object) -> dict:
    local = at.astimezone(JST)
    row = {
        "at": at, "day": local.strftime("%Y-%m-%d"), "hour": local.hour, "kind": kind,
        "conversation": conv, "channel": channel, "decision": decision, "detail": None,
        "term": None, "faq_id": None, "confidence": None, "latency_ms": None, "question": None,
        "normalized": None, "message_id": None, "ticket_id": None, "agent": None, "value": None,
        "after_answer": None,
    }  # fmt: skip
    row.update(f)
    return row


def generate(
    days: int = 30, messages: int = 1_000_000, first_day: date = date(2026, 11, 1), seed: int = 19
) -> Iterator[dict]:
    """Rows in time order per conversation (not globally). About ``messages`` turns."""
    rng = random.Random(seed)
    day_w = [_WEEKDAYS[(first_day + timedelta(days=d)).weekday()] for d in range(days)]
    per_day = [round(messages * w / sum(day_w)) for w in day_w]
    users: list[str] = []
    n_conv = 0
    for d in range(days):
        day = first_day + timedelta(days=d)
        midnight = datetime(day.year, day.month, day.day, tzinfo=JST)
        left = per_day[d]
        while left > 0:
            n_conv += 1
            length = min(left, rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6, 8)))
            left -= length
            if users and rng.random() < 0.25:
                conv = rng.choice(users)
            else:
                conv = f"syn-{seed}-{n_conv}"
                users.append(conv)
            channel = rng.choices(_CHANNELS, _CHANNEL_W)[0]
            hour = rng.choices(range(24), _HOURS)[0]
            at = midnight + timedelta(hours=hour, seconds=rng.randrange(3600 - 60 * length))
            at = at.astimezone(timezone.utc)
            yield from _conversation(rng, conv, channel, at, length)


def _conversation(
    rng: random.Random, conv: str, channel: str, at: datetime, length: int
) -> Iterator[dict]:
    handed = False
    for i in range(length):
        at += timedelta(seconds=rng.randrange(5, 50))
        mid = f"{conv}-{at.timestamp():.0f}-{i}"
        if handed:
            yield _row(at, "turn", conv, channel, "followup", message_id=mid)
            continue
        k = rng.choices(range(len(_TURNS)), _WEIGHTS)[0]
        decision, detail = _DECISIONS[k], _DETAILS[k]
        f: dict[str, object] = {
            "detail": detail,
            "confidence": round(rng.uniform(0.4, 1.0), 3),
            "latency_ms": round(rng.lognormvariate(2.7, 0.4), 2),
            "message_id": mid,
        }
        if decision in ("definition", "comparison"):
            f["term"] = rng.choice(_TERMS)
            f["question"] = f"{f['term']}とは?"
        elif decision == "faq":
            f["faq_id"] = rng.choice(_FAQS)
            f["question"] = "質問です"
        elif decision in ("unknown_term", "fallback", "out_of_scope"):
            q = _MISSES[min(len(_MISSES) - 1, int(rng.paretovariate(1.2)) - 1)]
            f["question"], f["normalized"] = q, q
        yield _row(at, "turn", conv, channel, decision, **f)
        if decision in ("definition", "faq", "comparison") and rng.random() < 0.12:
            up = rng.random() < 0.8
            yield _row(at + timedelta(seconds=3), "feedback", conv, channel, "up" if up else "down",
                       detail=decision, term=f.get("term"), faq_id=f.get("faq_id"),
                       question=f.get("question"), message_id=mid)  # fmt: skip
        if decision == "handoff":
            handed = True
            yield from _handoff(rng, conv, channel, at)
        if decision == "quiz_answer":
            ok = rng.random() < 0.7
            yield _row(at, "training", conv, channel, "correct" if ok else "wrong",
                       term=rng.choice(_TERMS), value=1.0 if ok else 0.0)  # fmt: skip


def _handoff(rng: random.Random, conv: str, channel: str, at: datetime) -> Iterator[dict]:
    ticket = f"ESC-{conv[-12:]}"
    yield _row(at, "handoff", conv, channel, "requested", detail="explicit", ticket_id=ticket,
               after_answer=rng.random() < 0.4)  # fmt: skip
    if rng.random() < 0.9:
        agent = rng.choice(_AGENTS)
        wait = rng.expovariate(1 / 90)
        claimed = at + timedelta(seconds=wait)
        yield _row(claimed, "handoff", conv, channel, "claimed", ticket_id=ticket, agent=agent,
                   value=round(wait, 3))  # fmt: skip
        first = rng.expovariate(1 / 20)
        yield _row(claimed + timedelta(seconds=first), "handoff", conv, channel, "first_reply",
                   ticket_id=ticket, agent=agent, value=round(first, 3))  # fmt: skip
        handle = rng.expovariate(1 / 300)
        end = claimed + timedelta(seconds=handle)
        yield _row(end, "handoff", conv, channel, "closed", detail="close", ticket_id=ticket,
                   agent=agent, value=round(handle, 3))  # fmt: skip
