"""KPI formulas over the outcome log (pure; docs/analytics.md lists them).

A day's records become one ``Summary`` per channel (``summarize_day``); summaries add up
(``Summary.add``), so a period is the sum of its days and channels (the daily roll-ups
store them). ``kpis`` turns a summary into the KPI table; every rate is ``None`` when its
denominator is 0 (shown as 「—」), never a division error.

A *conversation* is one conversation id's messages on one day (Japan time): a widget
session that comes back the next day counts again. *Users* are distinct conversation
ids over the period.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from .records import ANSWERED, OUT_OF_SCOPE, QUESTIONS, UNANSWERED, Outcome, by_conversation

RETURN_WINDOW = timedelta(hours=24)
CSAT_POSITIVE = 4  # 4 and 5 of 1-5 count as satisfied


@dataclass
class Summary:
    """Counts that add up across days and channels."""

    messages: int = 0  # customer messages (turn records)
    questions: int = 0
    answered: int = 0
    unanswered: int = 0  # unknown_term + fallback
    out_of_scope: int = 0
    handoff_requests: int = 0  # tickets opened
    handoff_after_answer: int = 0  # … right after a bot answer
    up: int = 0  # ratings (one per rated message, the last one counts)
    down: int = 0
    up_answered: int = 0  # … of answered turns
    down_answered: int = 0
    conversations: int = 0
    with_question: int = 0
    with_handoff: int = 0
    confirmed: int = 0
    assumed: int = 0
    pending: int = 0  # could still be assumed: 24 h not yet over
    csat_asked: int = 0
    csat_responses: int = 0
    csat_positive: int = 0
    decisions: Counter[str] = field(default_factory=Counter)
    hours: Counter[int] = field(default_factory=Counter)  # messages by hour (Japan time)
    answers: Counter[str] = field(default_factory=Counter)  # "term:<headword>" / "faq:<id>"
    answers_up: Counter[str] = field(default_factory=Counter)
    answers_down: Counter[str] = field(default_factory=Counter)
    misses: Counter[str] = field(default_factory=Counter)  # unanswered by normalised question
    examples: dict[str, tuple[str, str]] = field(default_factory=dict)  # key → (question, conv)
    csat_scores: Counter[int] = field(default_factory=Counter)
    # handoff: seconds (rounded) → how many; agent username → claims
    claim_wait: Counter[int] = field(default_factory=Counter)
    first_reply: Counter[int] = field(default_factory=Counter)
    handle_time: Counter[int] = field(default_factory=Counter)
    agents: Counter[str] = field(default_factory=Counter)
    # training: answers by term, wrong answers by term, trainees (conversation → answers)
    training_asked: Counter[str] = field(default_factory=Counter)
    training_wrong: Counter[str] = field(default_factory=Counter)
    trainees: Counter[str] = field(default_factory=Counter)

    COUNTS: ClassVar[tuple[str, ...]] = (
        "messages",
        "questions",
        "answered",
        "unanswered",
        "out_of_scope",
        "handoff_requests",
        "handoff_after_answer",
        "up",
        "down",
        "up_answered",
        "down_answered",
        "conversations",
        "with_question",
        "with_handoff",
        "confirmed",
        "assumed",
        "pending",
        "csat_asked",
        "csat_responses",
        "csat_positive",
    )
    COUNTERS: ClassVar[tuple[str, ...]] = (
        "decisions", "hours", "answers", "answers_up", "answers_down", "misses", "csat_scores",
        "claim_wait", "first_reply", "handle_time", "agents", "training_asked", "training_wrong",
        "trainees",
    )  # fmt: skip

    def add(self, other: Summary) -> Summary:
        for name in self.COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in self.COUNTERS:
            getattr(self, name).update(getattr(other, name))
        for key, ex in other.examples.items():
            self.examples.setdefault(key, ex)
        return self

    @property
    def answered_no_rating(self) -> int:
        return max(0, self.answered - self.up_answered - self.down_answered)


def time_bucket(seconds: float) -> int:
    """Seconds kept at 1 s under a minute, 5 s under ten minutes, then 60 s (percentiles
    of waits and handle times at that resolution; few roll-up rows per day)."""
    s = max(0, round(seconds))
    if s < 60:
        return s
    if s < 600:
        return s - s % 5
    return s - s % 60


def answer_key(o: Outcome) -> str | None:
    if o.faq_id:
        return f"faq:{o.faq_id}"
    if o.term:
        return f"term:{o.term}"
    return None


def summarize_day(
    records: Iterable[Outcome],
    next_message: Mapping[str, datetime] | None = None,
    now: datetime | None = None,
) -> dict[str, Summary]:
    """One day's records → a Summary per channel.

    ``next_message``: for a conversation, the time of its first message *after* this day
    (to tell whether it came back within 24 h); ``now``: until when the log is complete
    (a conversation whose 24 h are not over yet is ``pending``, not assumed resolved).
    """
    later = next_message or {}
    out: dict[str, Summary] = {}
    for conv, rs in by_conversation(records).items():
        turns = [r for r in rs if r.kind == "turn"]
        channel = (turns[0] if turns else rs[0]).channel
        s = out.setdefault(channel, Summary())
        count_records(s, rs)
        if turns:
            _count_conversation(s, conv, rs, turns, later.get(conv), now)
    return out


def count_records(s: Summary, rs: Iterable[Outcome]) -> None:
    """Add records' counts (turns, ratings, handoff events, CSAT, training) to ``s``."""
    ratings: dict[str, Outcome] = {}
    for r in rs:
        if r.kind == "turn":
            s.messages += 1
            s.decisions[r.decision] += 1
            s.hours[r.hour] += 1
            if r.decision in QUESTIONS:
                s.questions += 1
            if r.decision in ANSWERED:
                s.answered += 1
                key = answer_key(r)
                if key:
                    s.answers[key] += 1
            elif r.decision in UNANSWERED:
                s.unanswered += 1
            elif r.decision in OUT_OF_SCOPE:
                s.out_of_scope += 1
            if r.decision in UNANSWERED or r.decision in OUT_OF_SCOPE:
                key = r.normalized or r.question or ""
                if key:
                    s.misses[key] += 1
                    s.examples.setdefault(key, (r.question or key, r.conversation))
        elif r.kind == "feedback" and r.decision in ("up", "down"):
            ratings[r.message_id or f"#{len(ratings)}"] = r  # the last rating of a message counts
        elif r.kind == "handoff" and r.decision == "requested":
            s.handoff_requests += 1
            s.handoff_after_answer += bool(r.after_answer)
        elif r.kind == "handoff" and r.value is not None:
            seconds = time_bucket(r.value)
            if r.decision == "claimed":
                s.claim_wait[seconds] += 1
                s.agents[r.agent or "?"] += 1
            elif r.decision == "first_reply":
                s.first_reply[seconds] += 1
            elif r.decision in ("handed_back", "closed"):
                s.handle_time[seconds] += 1
        elif r.kind == "training":
            s.trainees[r.conversation] += 1
            s.training_asked[r.term or "?"] += 1
            if r.decision != "correct":
                s.training_wrong[r.term or "?"] += 1
        elif r.kind == "csat":
            if r.decision == "asked":
                s.csat_asked += 1
            elif r.value is not None and 1 <= r.value <= 5:
                s.csat_responses += 1
                s.csat_scores[int(r.value)] += 1
                s.csat_positive += r.value >= CSAT_POSITIVE
    for r in ratings.values():
        up = r.decision == "up"
        s.up += up
        s.down += not up
        if r.detail in ANSWERED:
            s.up_answered += up
            s.down_answered += not up
            key = answer_key(r)
            if key:
                (s.answers_up if up else s.answers_down)[key] += 1


HANDOFF_TURNS = frozenset({"handoff", "followup", "to_agent"})


@dataclass(frozen=True)
class ConversationFacts:
    """What decides a conversation-day's outcome (from records, or from SQL aggregates)."""

    has_question: bool
    handoff: bool  # a handoff requested, or a message to a ticket / an agent
    up: bool  # a 👍
    thanks: bool  # 「ありがとう」
    down: bool  # a 👎
    last_missed: bool  # the last question was not answered
    last_at: datetime  # the conversation's last message that day


def conversation_facts(rs: Sequence[Outcome], turns: Sequence[Outcome]) -> ConversationFacts:
    questions = [t for t in turns if t.decision in QUESTIONS]
    return ConversationFacts(
        has_question=bool(questions),
        handoff=any(r.kind == "handoff" and r.decision == "requested" for r in rs)
        or any(t.decision in HANDOFF_TURNS for t in turns),
        up=any(r.kind == "feedback" and r.decision == "up" for r in rs),
        thanks=any(t.decision == "small_talk" and t.detail == "thanks" for t in turns),
        down=any(r.kind == "feedback" and r.decision == "down" for r in rs),
        last_missed=bool(questions) and questions[-1].decision not in ANSWERED,
        last_at=turns[-1].at,
    )


def _count_conversation(
    s: Summary,
    conv: str,
    rs: Sequence[Outcome],
    turns: Sequence[Outcome],
    next_at: datetime | None,
    now: datetime | None,
) -> None:
    count_conversation(s, conversation_facts(rs, turns), next_at, now)


def count_conversation(
    s: Summary, f: ConversationFacts, next_at: datetime | None, now: datetime | None
) -> None:
    """Add one conversation-day: confirmed, assumed (after 24 h), pending or neither."""
    s.conversations += 1
    s.with_handoff += f.handoff
    if not f.has_question:
        return
    s.with_question += 1
    if f.handoff:
        return
    if f.up or f.thanks:
        s.confirmed += 1
        return
    if f.down or f.last_missed:
        return
    if next_at is not None and next_at - f.last_at < RETURN_WINDOW:
        return  # came back within 24 h: the question was not settled
    if now is not None and now - f.last_at < RETURN_WINDOW:
        s.pending += 1
        return
    s.assumed += 1


# -- the KPI table -------------------------------------------------------------------


@dataclass(frozen=True)
class Definition:
    key: str
    label: str
    formula: str
    unit: str  # "count" | "rate"


_SR_DENOMINATOR = "(質問のあった会話 − 判定待ち)"
DEFINITIONS = (
    Definition("conversations", "会話数",
               "1日のうちに同じ会話IDから1件以上メッセージがあった会話の数", "count"),
    Definition("users", "利用者数", "期間内の会話IDの種類数", "count"),
    Definition("messages", "メッセージ数",
               "お客様が送ったメッセージの数(有人対応中を含む)", "count"),
    Definition("questions", "質問数", "回答 + 未回答 + 対象外 と判定されたメッセージの数", "count"),
    Definition("answer_rate", "回答率", "回答(用語の定義・比較・FAQ) ÷ 質問数", "rate"),
    Definition("unanswered_rate", "未回答率", "(未知の用語 + フォールバック) ÷ 質問数", "rate"),
    Definition("out_of_scope_rate", "対象外率", "対象外 ÷ 質問数", "rate"),
    Definition("handoff_rate", "有人対応率", "有人対応を依頼した会話 ÷ 会話数", "rate"),
    Definition(
        "self_resolution", "自己解決率",
        f"(確定 + 推定) ÷ {_SR_DENOMINATOR}。"
        "確定 = 有人対応なしで高評価または「ありがとう」。"
        "推定 = 有人対応なし・低評価なし・最後の質問が回答済み・24時間以内に再来なし",
        "rate",
    ),
    Definition("self_resolution_confirmed", "自己解決率(確定)",
               f"確定 ÷ {_SR_DENOMINATOR}", "rate"),
    Definition("self_resolution_assumed", "自己解決率(推定)",
               f"推定 ÷ {_SR_DENOMINATOR}。"
               "判定待ち = 最後のメッセージから24時間たっていない会話", "rate"),
    Definition("accuracy", "正答率", "回答への高評価 ÷ (回答への高評価 + 回答への低評価)", "rate"),
    Definition("csat", "CSAT", "満足(4・5) ÷ CSAT回答数(1〜5の評価)", "rate"),
    Definition("csat_response_rate", "CSAT回答率", "CSAT回答数 ÷ CSATを尋ねた会話数", "rate"),
)  # fmt: skip
BY_KEY = {d.key: d for d in DEFINITIONS}


def rate(numerator: int, denominator: int) -> float | None:
    """numerator ÷ denominator, or None when there is nothing to divide by."""
    return numerator / denominator if denominator > 0 else None


def kpis(s: Summary, users: int = 0) -> list[dict[str, object]]:
    """The KPI table of a summary: key, label, value, numerator, denominator, formula."""
    decided = s.with_question - s.pending
    rated = s.up_answered + s.down_answered
    parts: dict[str, tuple[int, int | None]] = {
        "conversations": (s.conversations, None),
        "users": (users, None),
        "messages": (s.messages, None),
        "questions": (s.questions, None),
        "answer_rate": (s.answered, s.questions),
        "unanswered_rate": (s.unanswered, s.questions),
        "out_of_scope_rate": (s.out_of_scope, s.questions),
        "handoff_rate": (s.with_handoff, s.conversations),
        "self_resolution": (s.confirmed + s.assumed, decided),
        "self_resolution_confirmed": (s.confirmed, decided),
        "self_resolution_assumed": (s.assumed, decided),
        "accuracy": (s.up_answered, rated),
        "csat": (s.csat_positive, s.csat_responses),
        "csat_response_rate": (s.csat_responses, s.csat_asked),
    }
    out: list[dict[str, object]] = []
    for d in DEFINITIONS:
        num, den = parts[d.key]
        value: float | int | None = num if den is None else rate(num, den)
        out.append({"key": d.key, "label": d.label, "value": value, "numerator": num,
                    "denominator": den, "formula": d.formula, "unit": d.unit})  # fmt: skip
    return out


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0-100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]


def hist_percentile(hist: Mapping[int, int], p: float) -> float | None:
    """Nearest-rank percentile of values kept as value → count (time buckets)."""
    n = sum(hist.values())
    if n <= 0:
        return None
    rank = max(1, -(-n * p // 100))
    seen = 0
    for value in sorted(hist):
        seen += hist[value]
        if seen >= rank:
            return float(value)
    return float(max(hist))  # pragma: no cover - rank <= n


def agent_stats(s: Summary) -> dict[str, object]:
    """Wait until an agent claimed (p50/p90 s), first reply after the claim (p50 s),
    handle time (claim → hand-back or close, p50/p90 s), conversations per agent."""
    return {
        "claims": sum(s.claim_wait.values()),
        "wait_p50": hist_percentile(s.claim_wait, 50),
        "wait_p90": hist_percentile(s.claim_wait, 90),
        "first_reply_p50": hist_percentile(s.first_reply, 50),
        "handle_p50": hist_percentile(s.handle_time, 50),
        "handle_p90": hist_percentile(s.handle_time, 90),
        "per_agent": [{"agent": a, "conversations": n} for a, n in s.agents.most_common()],
    }


def training_stats(s: Summary, top: int = 10) -> dict[str, object]:
    """Trainees (conversation ids), answers, share right, the most missed terms."""
    answers = sum(s.training_asked.values())
    wrong = sum(s.training_wrong.values())
    return {
        "trainees": len(s.trainees),
        "answers": answers,
        "accuracy": rate(answers - wrong, answers),
        "hardest": [
            {"term": t, "wrong": n, "asked": s.training_asked[t]}
            for t, n in s.training_wrong.most_common(top)
        ],
    }
