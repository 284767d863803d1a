"""Daily roll-ups of the outcome log and the dashboard's report over a period.

A day's raw rows are summarised once (kpi.summarize_day) into ``analytics_rollup``
(day, channel, dim, key, n) plus the day's conversation ids
(``analytics_rollup_users``, for distinct users over a period). A report reads only
roll-ups: a month of a busy center is ~30 × a few hundred rows instead of a million.

A day is *final* once its 24 h return window is over for every conversation (Japan
time, the day after next has begun); final days are built once. Days that are not
final yet (today, yesterday) are rebuilt when their roll-up is older than
``ANALYTICS_REFRESH_SECONDS`` (default 60; 0 = on every report). Back-filling or
generating rows for past days must call ``invalidate``.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    case,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine

from ..handoff.db import create_schema, reading
from ..handoff.schema import UTCDateTime, metadata
from ..settings import get_settings
from .kpi import (
    HANDOFF_TURNS,
    ConversationFacts,
    Summary,
    agent_stats,
    count_conversation,
    count_records,
    kpis,
    training_stats,
)
from .log import outcomes_table
from .records import (
    ANSWERED,
    JST,
    OUT_OF_SCOPE,
    QUESTIONS,
    ROW_FIELDS,
    UNANSWERED,
    Outcome,
    sort_key,
)

logger = logging.getLogger(__name__)
MAX_DAYS = 366
_ROLLUP_LOCK_KEY = 0x414E4C59  # "ANLY"

rollup_days_table = Table(
    "analytics_rollup_days",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("built_at", UTCDateTime, nullable=False),
    Column("final", Boolean, nullable=False),
    Column("build", String(32)),  # a new id per build: reports cache a day until it changes
)

rollup_table = Table(
    "analytics_rollup",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", String(10), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("dim", String(32), nullable=False),
    Column("key", Text, nullable=False),
    Column("n", Integer, nullable=False),
    Column("example", Text),
    Column("example_conversation", String(128)),
    Index("ix_analytics_rollup_day", "day", "channel"),
    Index("ix_analytics_rollup_dim_day", "dim", "day"),
)

# Distinct users (and trainees) over a period: one row per conversation id and day, the id
# kept as a 64-bit hash (COUNT(DISTINCT) over integers; a collision among a million ids has
# a probability of ~3e-8).
rollup_users_table = Table(
    "analytics_rollup_users",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("uid", BigInteger, primary_key=True),
    Index("ix_analytics_rollup_users_uid", "uid", "day", "channel"),
)

rollup_trainees_table = Table(
    "analytics_rollup_trainees",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("channel", String(32), primary_key=True),
    Column("uid", BigInteger, primary_key=True),
    Index("ix_analytics_rollup_trainees_uid", "uid", "day", "channel"),
)


def uid(conversation: str) -> int:
    return int.from_bytes(
        hashlib.blake2b(conversation.encode("utf-8"), digest_size=8).digest(), "big", signed=True
    )


PER_DAY = ("count", "hours")
_INT_KEYS = {"hours", "csat_scores", "claim_wait", "first_reply", "handle_time"}


class BadRange(ValueError):
    """A period that is malformed, reversed or too long (message for the caller)."""


def parse_day(value: str | None, name: str) -> date:
    if not value or not isinstance(value, str) or len(value) != 10:
        raise BadRange(f"{name} must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise BadRange(f"{name} must be a date YYYY-MM-DD") from None


def check_range(day_from: str | None, day_to: str | None) -> tuple[date, date]:
    start, end = parse_day(day_from, "from"), parse_day(day_to, "to")
    if end < start:
        raise BadRange("to is before from")
    if (end - start).days + 1 > MAX_DAYS:
        raise BadRange(f"a period is at most {MAX_DAYS} days")
    return start, end


def days_between(start: date, end: date) -> list[str]:
    return [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]


def is_final(day: str, now: datetime) -> bool:
    """Every conversation of the day has had its 24 h: the day after next has begun."""
    start_after_next = datetime.fromisoformat(day).replace(tzinfo=JST) + timedelta(days=2)
    return now >= start_after_next


def summary_rows(day: str, parts: dict[str, Summary]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for channel, s in parts.items():
        for name in Summary.COUNTS:
            n = getattr(s, name)
            if n:
                rows.append({"day": day, "channel": channel, "dim": "count", "key": name, "n": n,
                             "example": None, "example_conversation": None})  # fmt: skip
        for name in Summary.COUNTERS:
            if name == "trainees":  # distinct over a period: analytics_rollup_trainees
                continue
            for key, n in getattr(s, name).items():
                ex = s.examples.get(key) if name == "misses" else None
                rows.append({
                    "day": day, "channel": channel, "dim": name, "key": str(key), "n": n,
                    "example": ex[0] if ex else None, "example_conversation": ex[1] if ex else None,
                })  # fmt: skip
    return rows


def add_row(s: Summary, dim: str, key: str, n: int, example: str | None, conv: str | None) -> None:
    if dim == "count":
        if key in Summary.COUNTS:
            setattr(s, key, getattr(s, key) + n)
        return
    counter = getattr(s, dim, None)
    if not isinstance(counter, Counter):
        return
    counter[int(key) if dim in _INT_KEYS else key] += n
    if dim == "misses" and example and key not in s.examples:
        s.examples[key] = (example, conv or "")


@dataclass
class Report:
    day_from: str
    day_to: str
    channel: str | None
    total: Summary
    daily: dict[str, Summary]
    channels: dict[str, Summary]
    users: int
    built_days: int = 0
    kpis: list[dict[str, object]] = field(default_factory=list)

    def as_dict(self, top: int = 20) -> dict[str, Any]:
        t = self.total
        heat = [[0] * 24 for _ in range(7)]  # weekday (Mon=0) × hour
        for day, s in self.daily.items():
            wd = date.fromisoformat(day).weekday()
            for hour, n in s.hours.items():
                heat[wd][int(hour)] += n
        return {
            "from": self.day_from,
            "to": self.day_to,
            "channel": self.channel,
            "kpis": self.kpis,
            "daily": [
                {
                    "day": day,
                    "messages": s.messages,
                    "questions": s.questions,
                    "conversations": s.conversations,
                    "answered_up": s.up_answered,
                    "answered_no_rating": s.answered_no_rating,
                    "answered_down": s.down_answered,
                    "unanswered": s.unanswered + s.out_of_scope,
                    "handoff": s.handoff_requests,
                }
                for day, s in sorted(self.daily.items())
            ],
            "heatmap": heat,
            "top_answers": [
                {
                    "key": k,
                    "kind": k.split(":", 1)[0],
                    "name": k.split(":", 1)[1],
                    "count": n,
                    "up": t.answers_up[k],
                    "down": t.answers_down[k],
                }
                for k, n in t.answers.most_common(top)
            ],
            "top_unanswered": [
                {
                    "normalized": k,
                    "count": n,
                    "example": t.examples.get(k, (k, ""))[0],
                    "conversation": t.examples.get(k, ("", ""))[1],
                }
                for k, n in t.misses.most_common(top)
            ],
            "channels": [
                {
                    "channel": c,
                    "messages": s.messages,
                    "conversations": s.conversations,
                    "questions": s.questions,
                    "answered": s.answered,
                }
                for c, s in sorted(self.channels.items())
            ],
            "decisions": dict(t.decisions.most_common()),
            "feedback": {"up": t.up, "down": t.down},
            "handoff": {"requests": t.handoff_requests, "after_answer": t.handoff_after_answer},
            "agents": agent_stats(t),
            "training": training_stats(t),
            "pending_conversations": t.pending,
        }


class Analytics:
    def __init__(self, engine: Engine, refresh_seconds: float | None = None) -> None:
        self.engine = engine
        if refresh_seconds is None:
            refresh_seconds = get_settings().analytics_refresh_seconds
        self.refresh = timedelta(seconds=max(0.0, refresh_seconds))
        self._build_lock = threading.Lock()
        self._pending_lock = threading.Lock()
        self._refreshing = False
        self._days: dict[str, tuple[str, dict[str, Summary]]] = {}
        create_schema(engine)
        for table in (rollup_table, rollup_users_table, rollup_trainees_table):
            for index in table.indexes:  # added after the table: create_all keeps old tables
                index.create(engine, checkfirst=True)

    # -- roll-ups --------------------------------------------------------------------

    def day_records(self, day: str) -> list[Outcome]:
        cols = [outcomes_table.c[f] for f in ROW_FIELDS]
        t = outcomes_table.c
        with reading(self.engine) as conn:
            rows = conn.execute(select(*cols).where(t.day == day)).all()
        return [Outcome(*r) for r in rows]

    def next_messages(self, day: str) -> dict[str, datetime]:
        nxt = (date.fromisoformat(day) + timedelta(days=1)).isoformat()
        t = outcomes_table.c
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(t.conversation, func.min(t.at))
                .where(t.day == nxt, t.kind == "turn")
                .group_by(t.conversation)
            ).all()
        return {c: _aware(at) for c, at in rows}

    def summarize(self, day: str, now: datetime) -> tuple[dict[str, Summary], set[tuple[str, str]]]:
        """kpi.summarize_day for one day, with the turns counted by SQL (GROUP BY) instead
        of read one by one: a busy day has ~40,000 turns and few other records. Gives the
        same Summary (tests compare both); a conversation's channel is its rows' own."""
        t = outcomes_table.c
        parts: dict[str, Summary] = {}

        def part(channel: str) -> Summary:
            if channel not in parts:
                parts[channel] = Summary()
            return parts[channel]

        turn = (t.day == day) & (t.kind == "turn")
        questions, answered = sorted(QUESTIONS), sorted(ANSWERED)
        misses = sorted(UNANSWERED | OUT_OF_SCOPE)
        miss_key = func.coalesce(t.normalized, t.question)
        first_q, first_conv = func.min(t.question), func.min(t.conversation)
        with reading(self.engine) as conn:
            for ch, decision, hour, n in conn.execute(
                select(t.channel, t.decision, t.hour, func.count())
                .where(turn)
                .group_by(t.channel, t.decision, t.hour)
            ):
                s = part(ch)
                s.messages += n
                s.decisions[decision] += n
                s.hours[hour] += n
                s.questions += n if decision in QUESTIONS else 0
                s.answered += n if decision in ANSWERED else 0
                s.unanswered += n if decision in UNANSWERED else 0
                s.out_of_scope += n if decision in OUT_OF_SCOPE else 0
            for ch, term, faq_id, n in conn.execute(
                select(t.channel, t.term, t.faq_id, func.count())
                .where(turn, t.decision.in_(answered))
                .group_by(t.channel, t.term, t.faq_id)
            ):
                key = f"faq:{faq_id}" if faq_id else (f"term:{term}" if term else None)
                if key:
                    part(ch).answers[key] += n
            for ch, key, n, example, conv in conn.execute(
                select(t.channel, miss_key, func.count(), first_q, first_conv)
                .where(turn, t.decision.in_(misses), miss_key.is_not(None), miss_key != "")
                .group_by(t.channel, miss_key)
            ):  # fmt: skip
                s = part(ch)
                s.misses[key] += n
                s.examples.setdefault(key, (example or key, conv))
            per_conv = conn.execute(
                select(
                    t.conversation,
                    func.min(t.channel),
                    func.max(t.at),
                    func.max(case((t.decision.in_(questions), t.at))),
                    func.max(case((t.decision.in_(answered), t.at))),
                    func.sum(case((t.decision.in_(sorted(HANDOFF_TURNS)), 1), else_=0)),
                    func.sum(
                        case(((t.decision == "small_talk") & (t.detail == "thanks"), 1), else_=0)
                    ),
                )
                .where(turn)
                .group_by(t.conversation)
            ).all()
            others = [
                Outcome(*r)
                for r in conn.execute(
                    select(*[outcomes_table.c[f] for f in ROW_FIELDS]).where(
                        t.day == day, t.kind != "turn"
                    )
                )
            ]
        by_conv: dict[str, list[Outcome]] = {}
        for r in others:
            by_conv.setdefault(r.conversation, []).append(r)
        channel_of = {c[0]: str(c[1]) for c in per_conv}
        for conv, rs in by_conv.items():
            rs.sort(key=sort_key)
            count_records(part(channel_of.get(conv, rs[0].channel)), rs)
        later = self.next_messages(day)
        users: set[tuple[str, str]] = set()
        for conv, ch, last_at, last_q, last_ans, handoffs, thanks in per_conv:
            seen = {(r.kind, r.decision) for r in by_conv.get(conv, [])}
            missed = last_q is not None and (last_ans is None or _aware(last_ans) < _aware(last_q))
            facts = ConversationFacts(
                has_question=last_q is not None,
                handoff=bool(handoffs) or ("handoff", "requested") in seen,
                up=("feedback", "up") in seen,
                thanks=bool(thanks),
                down=("feedback", "down") in seen,
                last_missed=missed,
                last_at=_aware(last_at),
            )
            count_conversation(part(ch), facts, later.get(conv), now)
            users.add((ch, conv))
        return parts, users

    def build_day(self, day: str, now: datetime | None = None) -> None:
        """Summarise one day's raw rows into the roll-up tables (replacing its old ones)."""
        at = now or datetime.now(timezone.utc)
        parts, conversations = self.summarize(day, at)
        rows = summary_rows(day, parts)
        users = [
            {"day": day, "channel": ch, "uid": u}
            for ch, u in {(ch, uid(c)) for ch, c in conversations}
        ]
        trainees = [
            {"day": day, "channel": ch, "uid": u}
            for ch, u in {(ch, uid(c)) for ch, s in parts.items() for c in s.trainees}
        ]
        with self.engine.begin() as conn:
            _lock(conn, day)
            conn.execute(delete(rollup_table).where(rollup_table.c.day == day))
            conn.execute(delete(rollup_users_table).where(rollup_users_table.c.day == day))
            conn.execute(delete(rollup_trainees_table).where(rollup_trainees_table.c.day == day))
            conn.execute(delete(rollup_days_table).where(rollup_days_table.c.day == day))
            if rows:
                conn.execute(insert(rollup_table), rows)
            if users:
                conn.execute(insert(rollup_users_table), users)
            if trainees:
                conn.execute(insert(rollup_trainees_table), trainees)
            conn.execute(
                insert(rollup_days_table).values(
                    day=day, built_at=at, final=is_final(day, at), build=uuid.uuid4().hex
                )
            )

    def invalidate(self, days: Iterable[str] | None = None) -> None:
        """Forget roll-ups (all, or of some days): rebuilt on the next report."""
        with self.engine.begin() as conn:
            for table in (
                rollup_days_table, rollup_table, rollup_users_table, rollup_trainees_table
            ):  # fmt: skip
                stmt = delete(table)
                if days is not None:
                    stmt = stmt.where(table.c.day.in_(list(days)))
                conn.execute(stmt)

    def ensure(self, days: Sequence[str], now: datetime | None = None) -> int:
        """Build the roll-ups a report over ``days`` needs; returns how many were built."""
        at = now or datetime.now(timezone.utc)
        t = rollup_days_table.c
        with reading(self.engine) as conn:
            state = {
                d: (_aware(b), f)
                for d, b, f in conn.execute(
                    select(t.day, t.built_at, t.final).where(t.day >= days[0], t.day <= days[-1])
                ).all()
            }
        today = at.astimezone(JST).date().isoformat()
        missing = [d for d in days if d <= today and d not in state]
        stale = [
            d for d in days if d in state and not state[d][1] and at - state[d][0] >= self.refresh
        ]
        if self.refresh and stale:
            # Today's and yesterday's roll-ups are refreshed after the report (stale while
            # revalidating): the page stays fast, its figures at most a refresh behind.
            self._refresh_later(stale)
            stale = []
        with self._build_lock:
            for d in missing + stale:
                self.build_day(d, at)
        return len(missing) + len(stale)

    def _refresh_later(self, days: Sequence[str]) -> None:
        with self._pending_lock:
            if self._refreshing:
                return
            self._refreshing = True

        def run() -> None:
            try:
                with self._build_lock:
                    for d in days:
                        self.build_day(d)
            except Exception:
                logger.exception("analytics: refreshing %s", days)
            finally:
                with self._pending_lock:
                    self._refreshing = False

        threading.Thread(target=run, name="analytics-refresh", daemon=True).start()

    def prebuild(self, days_back: int = 35, now: datetime | None = None) -> int:
        """Build the roll-ups of the last ``days_back`` days that are missing (at server
        start, in a thread: the first dashboard view then reads roll-ups only)."""
        at = now or datetime.now(timezone.utc)
        end = at.astimezone(JST).date()
        return self.ensure(days_between(end - timedelta(days=days_back - 1), end), at)

    # -- the report ------------------------------------------------------------------

    def report(
        self, day_from: str, day_to: str, channel: str | None = None, now: datetime | None = None
    ) -> Report:
        start, end = check_range(day_from, day_to)
        days = days_between(start, end)
        built = self.ensure(days, now)
        r = rollup_table.c

        def distinct(conn: Connection, table: Table) -> int:
            """Distinct ids over the period. SQLite: grouped along the (uid, day, channel)
            index, which avoids a temporary B-tree (0.9 → 0.2 s on 260,000 rows under load);
            PostgreSQL hashes COUNT(DISTINCT) fast enough."""
            c = table.c
            if conn.dialect.name == "sqlite":
                where = "day >= :a AND day <= :b" + (" AND channel = :ch" if channel else "")
                index = f"ix_{table.name}_uid"
                q = f"SELECT COUNT(*) FROM (SELECT uid FROM {table.name} INDEXED BY {index} "
                q += f"WHERE {where} GROUP BY uid)"
                args = {"a": days[0], "b": days[-1], "ch": channel}
                return int(conn.execute(sql_text(q), args).scalar_one())
            stmt = select(func.count(func.distinct(c.uid))).where(
                c.day >= days[0], c.day <= days[-1]
            )
            if channel:
                stmt = stmt.where(c.channel == channel)
            return int(conn.execute(stmt).scalar_one())

        d = rollup_days_table.c
        with reading(self.engine) as conn:
            days_built = select(d.day, d.build).where(d.day >= days[0], d.day <= days[-1])
            state: dict[str, str] = dict(conn.execute(days_built).all())
            # Each day's roll-up is read once per process and kept while it is unchanged
            # (its build id): a report then sums cached summaries (final days never change).
            cached = {day: self._days.get(day, ("",))[0] for day in days}
            need = [
                day
                for day in days
                if day in state and (state[day] is None or cached[day] != state[day])
            ]
            if need:
                fresh: dict[str, dict[str, Summary]] = {day: {} for day in need}
                for day, ch, dim, key, n, ex, ex_conv in conn.execute(
                    select(
                        r.day, r.channel, r.dim, r.key, r.n, r.example, r.example_conversation
                    ).where(r.day.in_(need))
                ):
                    parts = fresh[day]
                    if ch not in parts:
                        parts[ch] = Summary()
                    add_row(parts[ch], dim, key, n, ex, ex_conv)
                with self._pending_lock:
                    if len(self._days) > 2 * MAX_DAYS:
                        self._days.clear()
                    for day in need:
                        self._days[day] = (state[day] or "", fresh[day])
            trainees = distinct(conn, rollup_trainees_table)
            users = distinct(conn, rollup_users_table)
        daily: dict[str, Summary] = {day: Summary() for day in days}
        channels: dict[str, Summary] = {}
        for day in days:
            for ch, part in self._days.get(day, (None, {}))[1].items():
                if channel and ch != channel:
                    continue
                daily[day].add(part)
                if ch not in channels:
                    channels[ch] = Summary()
                channels[ch].add(part)
        total = Summary()
        for sm in daily.values():
            total.add(sm)
        total.trainees = Counter({f"#{i}": 1 for i in range(trainees)})
        rep = Report(day_from, day_to, channel, total, daily, channels, users, built)
        rep.kpis = kpis(total, users)
        return rep


def _aware(at: datetime | str) -> datetime:
    """Aggregates of the at column: aware datetimes (PostgreSQL), or text (SQLite)."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def _lock(conn: Connection, day: str) -> None:
    """PostgreSQL: one builder per day at a time (SQLite: BEGIN IMMEDIATE already is)."""
    if conn.dialect.name == "postgresql":
        key = _ROLLUP_LOCK_KEY * 100_000_000 + int(day.replace("-", ""))
        conn.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
