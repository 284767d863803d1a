"""Grouping and status of the unanswered inbox (pure: no database, no Rasa).

A *signal* is one aggregated row of the outcome log that says the bot did not help:
a turn answered ``unknown_term``, ``fallback`` or ``out_of_scope``, a 👎 (feedback
``down``) or a handoff requested right after a bot answer. Signals are grouped by the
matcher's key form (assistant.normalize.key_form): of the unknown word for
``unknown_term`` (「AHTとは?」 and 「ＡＨＴって何?」 are one item, 「AHT」), else of the
question as stored.

Status of an item (``state`` is what a person decided, kept by the store):

* ``resolved`` — a person fixed it (alias, new term, FAQ question) and no miss came
  after, or the misses after it (while the fix reached every server) were followed by an
  answer; or, for an item made only of misses, a later customer asking the same thing
  was answered (fixed in the studio directly) — ``by`` says which.
* ``dismissed`` — a person dismissed it (with a reason) and it did not come back.
* ``open`` — everything else; ``reopened`` when it came back after a decision.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ..normalize import key_form

MISSES = ("unknown_term", "fallback", "out_of_scope")
REASONS = (*MISSES, "down", "handoff")
REASON_NAMES = {
    "unknown_term": "用語集にない",
    "fallback": "理解できず",
    "out_of_scope": "対象外",
    "down": "低評価",
    "handoff": "回答直後の有人依頼",
}
STATUSES = ("open", "resolved", "dismissed")
ACTIONS = ("alias", "term", "faq")
MAX_KEY = 500
MAX_REASON = 200


@dataclass(frozen=True)
class Signal:
    """One group of outcome rows (same reason, key, channel) with its latest example."""

    reason: str
    key: str
    label: str
    channel: str
    count: int
    first: datetime
    last: datetime
    conversation: str
    question: str | None = None
    term: str | None = None  # the rated answer's term (👎 / handoff)
    faq_id: str | None = None


@dataclass(frozen=True)
class State:
    """What a person decided about an item."""

    key: str
    status: str  # resolved | dismissed
    at: datetime
    actor: str
    reason: str | None = None  # dismissal reason
    action: str | None = None  # alias | term | faq
    target: str | None = None  # the term / FAQ changed
    revision: int | None = None


@dataclass
class Item:
    key: str
    label: str
    count: int = 0
    first: datetime | None = None
    last: datetime | None = None
    reasons: dict[str, int] = field(default_factory=dict)
    channels: dict[str, int] = field(default_factory=dict)
    conversation: str = ""
    question: str | None = None
    term: str | None = None
    faq_id: str | None = None
    status: str = "open"
    by: str | None = None  # person | answered
    reopened: bool = False
    state: State | None = None
    answered_at: datetime | None = None

    def public(self) -> dict:
        st = self.state
        return {
            "key": self.key,
            "label": self.label,
            "count": self.count,
            "first_seen": self.first.isoformat() if self.first else None,
            "last_seen": self.last.isoformat() if self.last else None,
            "reasons": dict(self.reasons),
            "channels": dict(self.channels),
            "channel": max(self.channels, key=lambda c: self.channels[c]) if self.channels else "",
            "conversation": self.conversation,
            "question": self.question,
            "term": self.term,
            "faq_id": self.faq_id,
            "status": self.status,
            "by": self.by,
            "reopened": self.reopened,
            "answered_at": self.answered_at.isoformat() if self.answered_at else None,
            "decision": None
            if st is None
            else {
                "status": st.status,
                "at": st.at.isoformat(),
                "actor": st.actor,
                "reason": st.reason,
                "action": st.action,
                "target": st.target,
                "revision": st.revision,
            },
        }


def signal_key(
    reason: str, term: str | None, normalized: str | None, question: str | None
) -> tuple[str, str] | None:
    """(key, label) of an outcome row, or None when it names nothing to group by. The
    label is the text in NFKC (「ＡＨＴ」 → 「AHT」: what an editor would type)."""
    word = term.split("|")[0] if term else ""  # the outcome log joins several unknown words with |
    if reason == "unknown_term" and word and key_form(word):
        return key_form(word)[:MAX_KEY], unicodedata.normalize("NFKC", word).strip()
    key = normalized or (key_form(question) if question else "")
    if not key:
        return None
    return key[:MAX_KEY], unicodedata.normalize("NFKC", question or key).strip()


def reason_of(kind: str, decision: str, after_answer: bool | None) -> str | None:
    """The inbox reason of an outcome row, or None when the row is not a miss."""
    if kind == "turn" and decision in MISSES:
        return decision
    if kind == "feedback" and decision == "down":
        return "down"
    if kind == "handoff" and decision == "requested" and after_answer:
        return "handoff"
    return None


def answered_keys(term: str | None, normalized: str | None) -> list[str]:
    """The item keys an answered turn speaks for: its question and the term answered."""
    keys = [normalized] if normalized else []
    if term and "|" not in term:
        keys.append(key_form(term))
    return [k[:MAX_KEY] for k in keys if k]


def group(
    signals: Iterable[Signal],
    states: Mapping[str, State] | None = None,
    answered: Mapping[str, datetime] | None = None,
) -> list[Item]:
    """Items by key, newest first, with their status (see the module's notes).

    ``answered`` maps a key to the latest time a customer asking it was answered."""
    states = states or {}
    answered = answered or {}
    items: dict[str, Item] = {}
    latest: dict[str, datetime] = {}
    for s in signals:
        it = items.get(s.key)
        if it is None:
            it = items[s.key] = Item(s.key, s.label)
        it.count += s.count
        it.reasons[s.reason] = it.reasons.get(s.reason, 0) + s.count
        it.channels[s.channel] = it.channels.get(s.channel, 0) + s.count
        it.first = s.first if it.first is None else min(it.first, s.first)
        if s.key not in latest or s.last > latest[s.key]:
            latest[s.key] = s.last
            it.last, it.conversation, it.question = s.last, s.conversation, s.question
            it.term, it.faq_id = s.term, s.faq_id
            if s.reason == "unknown_term" or it.label == it.key:
                it.label = s.label
        if s.reason == "unknown_term":
            it.label = s.label  # the word, not a sentence
    for it in items.values():
        it.state = states.get(it.key)
        it.answered_at = answered.get(it.key)
        it.status, it.by, it.reopened = status_of(it, it.state, it.answered_at)
    return sorted(items.values(), key=lambda i: (i.last or datetime.min, i.key), reverse=True)


def status_of(
    item: Item, state: State | None, answered_at: datetime | None
) -> tuple[str, str | None, bool]:
    """(status, by, reopened) of an item."""
    assert item.last is not None
    if state is not None and item.last <= state.at:
        return state.status, "person", False
    if state is not None and state.status == "resolved" and answered_at and answered_at > item.last:
        return "resolved", "person", False  # misses while the fix reached every server
    only_misses = set(item.reasons) <= set(MISSES)
    if only_misses and answered_at is not None and answered_at > item.last:
        return "resolved", "answered", state is not None
    return "open", None, state is not None


def select(items: Iterable[Item], status: str = "open") -> list[Item]:
    """The items of one status ("all": every item)."""
    return [i for i in items if status == "all" or i.status == status]


def counts(items: Iterable[Item]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for i in items:
        out[i.status] += 1
    return out


def check_reason(reason: object) -> str:
    """A dismissal reason: 1–200 printable characters (Japanese message otherwise)."""
    text = " ".join(str(reason or "").split())
    if not text:
        raise ValueError("理由を入力してください")
    if len(text) > MAX_REASON:
        raise ValueError(f"理由は{MAX_REASON}文字以内にしてください")
    return text
