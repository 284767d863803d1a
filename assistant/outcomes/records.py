"""What the outcome log holds: one record per bot turn, feedback, CSAT answer, handoff
event and training answer (pure: no database, no Rasa).

A record carries no more personal data than the tracker: the question is the text as
the tracker stores it (masked where masking exists), cut at ``MAX_QUESTION`` characters;
the conversation id is the tracker's sender id.

Kinds and their ``decision``:

* ``turn`` — one customer message and what the bot did with it: the router's route
  (``definition``, ``comparison``, ``faq``, ``unknown_term``, ``fallback``, ``empty``,
  ``out_of_scope``, ``handoff``, ``offer_human``, ``small_talk`` (``detail`` = greet,
  thanks, goodbye, feedback_thanks, ack), ``decline_offer``, ``back_to_bot``, the
  training routes…), ``followup`` (a message to the ticket while waiting for a person)
  or ``to_agent`` (a message to the agent who owns the conversation).
* ``feedback`` — ``up`` (👍 or a typed positive feedback) / ``down`` (👎 or 「役に立たない」),
  with the rated answer's kind, term / FAQ id, question and message id.
* ``csat`` — ``value`` 1–5, asked by the widget after a conversation (off by default).
* ``handoff`` — ``requested`` (``detail`` = reason; ``after_answer`` when the bot's
  previous reply was an answer, with that answer's term / FAQ and question),
  ``claimed`` (``value`` = seconds waited), ``first_reply`` (``value`` = seconds since the
  claim), ``handed_back`` / ``closed`` (``detail`` = reason, ``value`` = seconds since the
  claim).
* ``training`` — ``correct`` / ``wrong`` with the term asked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ..normalize import key_form

JST = timezone(timedelta(hours=9), "JST")
MAX_QUESTION = 500

KINDS = ("turn", "feedback", "csat", "handoff", "training")
ANSWERED = frozenset({"definition", "comparison", "faq"})
UNANSWERED = frozenset({"unknown_term", "fallback"})
OUT_OF_SCOPE = frozenset({"out_of_scope"})
QUESTIONS = ANSWERED | UNANSWERED | OUT_OF_SCOPE
HANDOFF_EVENTS = ("requested", "claimed", "first_reply", "handed_back", "closed")
# Payload kinds of the bot's reply that answer a question (response contract).
ANSWER_PAYLOADS = frozenset({"definition", "comparison", "faq"})
MISS_PAYLOADS = frozenset({"unknown_term", "fallback", "out_of_scope"})


@dataclass(frozen=True)
class Outcome:
    at: datetime  # aware
    kind: str
    conversation: str
    channel: str = "unknown"
    decision: str = ""
    detail: str | None = None
    term: str | None = None  # glossary headword (definition, comparison: "A|B", unknown query)
    faq_id: str | None = None
    confidence: float | None = None  # the router's evidence: FAQ pick or intent confidence
    latency_ms: float | None = None  # message received → decision carried out
    question: str | None = None  # as the tracker stores it
    normalized: str | None = None  # the matcher's key form of the question
    message_id: str | None = None  # turn: its user message; feedback/handoff: the rated one
    ticket_id: str | None = None
    agent: str | None = None  # agent username
    value: float | None = None  # CSAT score, seconds (handoff), 1/0 (training)
    after_answer: bool | None = None  # handoff requested right after a bot answer

    @property
    def day(self) -> str:
        return jst_day(self.at)

    @property
    def hour(self) -> int:
        return self.at.astimezone(JST).hour


def jst_day(at: datetime) -> str:
    return at.astimezone(JST).strftime("%Y-%m-%d")


def clip(text: str | None) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text[:MAX_QUESTION] if text else None


def normalized(text: str | None) -> str | None:
    """The matcher's comparison form (width, case, kana, long vowel, middle dot, spaces):
    「ＡＨＴ とは？」 and 「ahtとは?」 group together in the unanswered inbox."""
    if not text:
        return None
    return key_form(text)[:MAX_QUESTION] or None


def outcome_class(decision: str) -> str:
    """answered / unanswered / out_of_scope for a question turn, else other."""
    if decision in ANSWERED:
        return "answered"
    if decision in UNANSWERED:
        return "unanswered"
    if decision in OUT_OF_SCOPE:
        return "out_of_scope"
    return "other"


@dataclass(frozen=True)
class RoutedTurn:
    """What the router decided, in the log's words (from routing.Decision)."""

    decision: str
    detail: str | None = None
    term: str | None = None
    faq_id: str | None = None


def routed(
    route: str,
    *,
    small_talk: str | None = None,
    reason: str | None = None,
    faq_id: str | None = None,
    terms: Sequence[str] = (),
    queries: Sequence[str] = (),
) -> RoutedTurn:
    """The log's view of a routing decision: an empty message is ``empty`` (not a
    question), a definition names its headwords, an unknown term its query."""
    if route == "fallback" and reason == "empty":
        return RoutedTurn("empty")
    if route in ("definition", "comparison"):
        return RoutedTurn(route, term="|".join(terms) or None)
    if route == "unknown_term":
        return RoutedTurn(route, term="|".join(q for q in queries if q) or None)
    if route == "faq":
        return RoutedTurn(route, faq_id=faq_id)
    if route == "small_talk":
        return RoutedTurn(route, detail=small_talk or "ack")
    if route in ("offer_human", "fallback"):
        return RoutedTurn(route, detail=reason)
    return RoutedTurn(route)


@dataclass(frozen=True)
class PreviousAnswer:
    """The bot's last reply before the current message, and the question it answered."""

    kind: str  # payload kind: definition, faq, unknown_term…
    term: str | None
    faq_id: str | None
    question: str | None
    message_id: str | None

    @property
    def answered(self) -> bool:
        return self.kind in ANSWER_PAYLOADS


def previous_answer(events: Sequence[Mapping[str, Any]]) -> PreviousAnswer | None:
    """From a tracker's events (dicts): the latest bot reply with an answer or miss payload
    *before* the latest user message, and the user message it replied to. None when
    there is none (the conversation's first message)."""
    last_user = _last_index(events, len(events), "user")
    if last_user is None:
        return None
    for i in range(last_user - 1, -1, -1):
        e = events[i]
        if e.get("event") == "user":
            return None  # a user message with no answer after it: nothing was rated
        if e.get("event") != "bot":
            continue
        payload = ((e.get("data") or {}).get("custom")) or {}
        kind = payload.get("kind") if isinstance(payload, Mapping) else None
        if kind not in ANSWER_PAYLOADS and kind not in MISS_PAYLOADS:
            continue
        asked = _last_index(events, i, "user")
        user = events[asked] if asked is not None else {}
        return PreviousAnswer(
            kind=str(kind),
            term=_payload_term(payload),
            faq_id=payload.get("id") if kind == "faq" else None,
            question=clip(user.get("text")),
            message_id=user.get("message_id"),
        )
    return None


def _last_index(events: Sequence[Mapping[str, Any]], before: int, name: str) -> int | None:
    for i in range(before - 1, -1, -1):
        if events[i].get("event") == name:
            return i
    return None


def _payload_term(payload: Mapping[str, Any]) -> str | None:
    kind = payload.get("kind")
    if kind == "definition":
        return payload.get("term")
    if kind == "comparison":
        return "|".join(payload.get("terms") or []) or None
    if kind == "unknown_term":
        return payload.get("query")
    return None


def with_previous(outcome: Outcome, prev: PreviousAnswer | None) -> Outcome:
    """A feedback or handoff record about the previous answer."""
    if prev is None:
        return replace(outcome, after_answer=False if outcome.kind == "handoff" else None)
    return replace(
        outcome,
        term=prev.term,
        faq_id=prev.faq_id,
        question=prev.question,
        normalized=normalized(prev.question),
        message_id=prev.message_id,
        detail=outcome.detail if outcome.kind == "handoff" else prev.kind,
        after_answer=prev.answered if outcome.kind == "handoff" else None,
    )


def as_row(o: Outcome) -> dict[str, Any]:
    """The database row of a record (day and hour in Japan time for the roll-ups)."""
    local = o.at.astimezone(JST)
    return {
        "at": o.at,
        "day": local.strftime("%Y-%m-%d"),
        "hour": local.hour,
        "kind": o.kind,
        "conversation": o.conversation[:128],
        "channel": (o.channel or "unknown")[:32],
        "decision": o.decision[:32],
        "detail": (o.detail or None) and o.detail[:32],
        "term": (o.term or None) and o.term[:200],
        "faq_id": (o.faq_id or None) and o.faq_id[:64],
        "confidence": o.confidence,
        "latency_ms": o.latency_ms,
        "question": clip(o.question),
        "normalized": o.normalized,
        "message_id": (o.message_id or None) and str(o.message_id)[:64],
        "ticket_id": o.ticket_id,
        "agent": o.agent,
        "value": o.value,
        "after_answer": o.after_answer,
    }


ROW_FIELDS = tuple(f for f in Outcome.__dataclass_fields__)


def from_row(row: Mapping[str, Any]) -> Outcome:
    at = row["at"]
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return Outcome(**{k: row[k] for k in ROW_FIELDS if k != "at"}, at=at)


def sort_key(o: Outcome) -> tuple[datetime, int]:
    return (o.at, KINDS.index(o.kind) if o.kind in KINDS else len(KINDS))


def by_conversation(records: Iterable[Outcome]) -> dict[str, list[Outcome]]:
    out: dict[str, list[Outcome]] = {}
    for r in records:
        out.setdefault(r.conversation, []).append(r)
    for rs in out.values():
        rs.sort(key=sort_key)
    return out
