"""The unanswered inbox's SQL: misses read from the outcome log (grouped in SQL), and
the table `content_inbox` with what a person decided, one row per item key."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, timezone

from sqlalchemy import Column, Index, Integer, String, Table, Text, and_, delete, func, or_, select
from sqlalchemy.engine import Engine

from ..handoff.db import create_schema, reading
from ..handoff.schema import UTCDateTime, metadata
from ..outcomes.log import outcomes_table
from ..outcomes.records import ANSWERED, jst_day
from .items import MAX_KEY, MISSES, Item, Signal, State, answered_keys, group, reason_of, signal_key

inbox_table = Table(
    "content_inbox",
    metadata,
    Column("key", String(MAX_KEY), primary_key=True),  # the item's key form
    Column("label", Text, nullable=False),
    Column("status", String(16), nullable=False),  # resolved | dismissed
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(64), nullable=False),
    Column("reason", Text),
    Column("action", String(16)),
    Column("target", Text),
    Column("revision", Integer),
)

# Covers both listing queries (misses and answered turns by kind, decision, day): an
# index-only scan instead of reading every row of the period (scripts/bench_inbox.py).
_oc = outcomes_table.c
inbox_index = Index(
    "ix_analytics_outcomes_inbox",
    *(_oc.kind, _oc.decision, _oc.day, _oc.term, _oc.normalized, _oc.channel),
    *(_oc.after_answer, _oc.at),
)

DEFAULT_DAYS = 90
MAX_DAYS = 400
MAX_GROUPS = 20_000  # aggregated rows read per listing


def _misses():  # type: ignore[no-untyped-def]
    t = outcomes_table.c
    return or_(
        and_(t.kind == "turn", t.decision.in_(MISSES)),
        and_(t.kind == "feedback", t.decision == "down"),
        and_(t.kind == "handoff", t.decision == "requested", t.after_answer.is_(True)),
    )


class InboxStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_schema(engine)
        with engine.begin() as conn:  # on a log made before the inbox
            inbox_index.create(conn, checkfirst=True)

    # -- reads ---------------------------------------------------------------------

    def signals(self, since: datetime) -> list[Signal]:
        t = outcomes_table.c
        stmt = (
            select(
                t.kind,
                t.decision,
                t.after_answer,
                t.term,
                t.normalized,
                t.channel,
                func.count().label("n"),
                func.min(t.at).label("first"),
                func.max(t.at).label("last"),
                func.max(t.id).label("latest"),
            )
            .where(t.day >= jst_day(since), _misses())
            .group_by(t.kind, t.decision, t.after_answer, t.term, t.normalized, t.channel)
            .limit(MAX_GROUPS)
        )
        with reading(self.engine) as conn:
            groups = conn.execute(stmt).all()
            ids = [g.latest for g in groups]
            examples = {}
            for n in range(0, len(ids), 500):
                rows = conn.execute(
                    select(t.id, t.conversation, t.question, t.faq_id).where(
                        t.id.in_(ids[n : n + 500])
                    )
                ).all()
                examples.update({r.id: r for r in rows})
        out = []
        for g in groups:
            reason = reason_of(g.kind, g.decision, g.after_answer)
            ex = examples.get(g.latest)
            if reason is None or ex is None:
                continue
            named = signal_key(reason, g.term, g.normalized, ex.question)
            if named is None:
                continue
            out.append(
                Signal(
                    reason,
                    named[0],
                    named[1],
                    g.channel,
                    int(g.n),
                    g.first,
                    g.last,
                    ex.conversation,
                    ex.question,
                    None if reason == "unknown_term" else g.term,
                    ex.faq_id,
                )
            )
        return out

    def answered(self, since: datetime) -> dict[str, datetime]:
        """The latest answered turn per item key."""
        t = outcomes_table.c
        stmt = (
            select(t.term, t.normalized, func.max(t.at).label("last"))
            .where(t.day >= jst_day(since), t.kind == "turn", t.decision.in_(sorted(ANSWERED)))
            .group_by(t.term, t.normalized)
            .limit(MAX_GROUPS * 5)
        )
        out: dict[str, datetime] = {}
        with reading(self.engine) as conn:
            for r in conn.execute(stmt).all():
                for key in answered_keys(r.term, r.normalized):
                    if key not in out or r.last > out[key]:
                        out[key] = r.last
        return out

    def states(self) -> dict[str, State]:
        with reading(self.engine) as conn:
            rows = conn.execute(select(inbox_table)).all()
        return {r.key: State(**{k: v for k, v in r._mapping.items() if k != "label"}) for r in rows}

    def items(self, days: int = DEFAULT_DAYS, now: datetime | None = None) -> list[Item]:
        since = (now or datetime.now(timezone.utc)) - timedelta(days=days)
        return group(self.signals(since), self.states(), self.answered(since))

    def seen_in(self, conversation: str) -> bool:
        """Whether the conversation has a miss in the log (the transcripts the inbox shows)."""
        t = outcomes_table.c
        with reading(self.engine) as conn:
            row = conn.execute(
                select(t.id).where(t.conversation == conversation, _misses()).limit(1)
            ).first()
        return row is not None

    # -- writes --------------------------------------------------------------------

    def decide(self, state: State, label: str) -> None:
        """Store what a person decided about an item (replacing an earlier decision)."""
        with self.engine.begin() as conn:
            conn.execute(delete(inbox_table).where(inbox_table.c.key == state.key))
            conn.execute(
                inbox_table.insert().values(
                    key=state.key,
                    label=label[:MAX_KEY],
                    status=state.status,
                    at=state.at,
                    actor=state.actor,
                    reason=state.reason,
                    action=state.action,
                    target=state.target,
                    revision=state.revision,
                )
            )

    def reopen(self, keys: Iterable[str]) -> int:
        with self.engine.begin() as conn:
            res = conn.execute(delete(inbox_table).where(inbox_table.c.key.in_(list(keys))))
        return int(res.rowcount or 0)
