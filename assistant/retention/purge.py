"""Purge data older than its retention, and forget one customer (a deletion request).

Both work on the tracker store (Rasa's ``events`` table, SQLite or PostgreSQL) and the
handoff database (tickets, audit, training, analytics), with plain SQL in short transactions
(batches of ``BATCH`` rows), so they can run while the servers are serving: on SQLite a
batch holds the write lock for milliseconds, a server waiting for it waits that long.
No Rasa import: the tracker store's table is read and written as SQL.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, func, inspect, select, update
from sqlalchemy import text as sql_text
from sqlalchemy.engine import Connection, Engine

from ..handoff import ticket_cap
from ..handoff.schema import (
    JST,
    audit_table,
    messages_table,
    now_utc,
    sessions_table,
    tickets_table,
)
from ..inbox.items import reason_of, signal_key
from ..inbox.store import inbox_table
from ..line import events as line_events
from ..line import store as line_store
from ..outcomes import rollup
from ..outcomes.csat import csat_claims_table
from ..outcomes.log import outcomes_table
from ..training import store as training
from .settings import RetentionSettings

BATCH = 500
TICKET_ID_RE = re.compile(r"ESC-\d{8}-\d{4,6}")
MAX_TARGET_CHARS = 256
FORGET_ACTION = "forget"
PURGE_ACTION = "purge"
# What an anonymised ticket keeps in place of the sender (the column is NOT NULL).
ANONYMISED_SENDER = ""
MISSES_DIM = "misses"  # analytics_rollup rows keyed by a customer's normalised question


class InvalidTarget(ValueError):
    """A `forget` argument that is neither a sender id nor a ticket number."""


class NothingFound(LookupError):
    """A well-formed target with nothing stored for it."""


@dataclass
class Counts:
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, n: int) -> None:
        if n:
            self.rows[name] = self.rows.get(name, 0) + n

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def summary(self) -> str:
        """Table names and numbers only: safe for the audit log."""
        return " ".join(f"{k}={v}" for k, v in sorted(self.rows.items())) or "nothing"


def parse_target(raw: str) -> tuple[str, str]:
    """("ticket", id) or ("sender", id); InvalidTarget says why not."""
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidTarget("give a sender id or a ticket number (ESC-YYYYMMDD-NNNN)")
    if len(raw) > MAX_TARGET_CHARS:
        raise InvalidTarget(f"longer than {MAX_TARGET_CHARS} characters: not a sender id")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Cs") for ch in raw):
        raise InvalidTarget("contains control or format characters: not a sender id")
    if raw != raw.strip():
        raise InvalidTarget("leading or trailing spaces: give the id exactly as stored")
    if raw.upper().startswith("ESC-"):
        if not TICKET_ID_RE.fullmatch(raw):
            raise InvalidTarget(f"{raw!r} looks like a ticket number but is not ESC-YYYYMMDD-NNNN")
        return "ticket", raw
    return "sender", raw


def _has_table(conn: Connection, name: str) -> bool:
    return bool(inspect(conn).has_table(name))


def _batched_delete(engine: Engine, table: str, where: str, params: dict, key: str = "id") -> int:
    """DELETE … WHERE ``where`` in transactions of BATCH rows (short write locks);
    ``key`` is the table's primary key column."""
    total = 0
    stmt = sql_text(
        f"DELETE FROM {table} WHERE {key} IN (SELECT {key} FROM {table} WHERE {where} LIMIT :n)"
    )
    while True:
        with engine.begin() as conn:
            if not _has_table(conn, table):
                return 0
            n = conn.execute(stmt, {**params, "n": BATCH}).rowcount or 0
        total += n
        if n < BATCH:
            return total


# --- purge ------------------------------------------------------------------------------


def purge(
    tracker: Engine | None,
    handoff: Engine | None,
    settings: RetentionSettings,
    now: datetime | None = None,
) -> Counts:
    """Delete or anonymise what is older than its retention (registry.py). Idempotent."""
    now = now_utc(now)
    counts = Counts()
    if tracker is not None:
        cut = settings.cutoff("conversations_days", now)
        if cut is not None:
            counts.add(
                "events",
                _batched_delete(tracker, "events", "timestamp < :cut", {"cut": cut.timestamp()}),
            )
        counts.add(
            "message_receipts",
            _batched_delete(
                tracker,
                "message_receipts",
                "expires_at < :now",
                {"now": now.timestamp()},
                key="message_id",
            ),
        )
    if handoff is not None:
        _purge_handoff(handoff, settings, now, counts)
        if counts.total:
            record(handoff, PURGE_ACTION, counts, now)
    return counts


def _purge_handoff(
    engine: Engine, settings: RetentionSettings, now: datetime, counts: Counts
) -> None:
    t = tickets_table.c
    cut = settings.cutoff("tickets_days", now)
    if cut is not None:
        old = (
            (t.status == "closed")
            & (func.coalesce(t.closed_at, t.created_at) < cut)
            & (t.sender_id != ANONYMISED_SENDER)
        )
        while True:
            with engine.begin() as conn:
                ids = list(conn.execute(select(t.id).where(old).limit(BATCH)).scalars())
                if not ids:
                    break
                counts.add("handoff_ticket_messages", _delete_messages(conn, ids))
                counts.add("handoff_tickets (anonymised)", _anonymise_tickets(conn, ids, now))
    with engine.begin() as conn:
        n = conn.execute(delete(sessions_table).where(sessions_table.c.expires_at <= now)).rowcount
        counts.add("handoff_agent_sessions", n or 0)
    _purge_analytics(engine, settings, now, counts)
    _purge_line(engine, settings, now, counts)
    cut = settings.cutoff("audit_days", now)
    if cut is not None:
        with engine.begin() as conn:
            a = audit_table.c
            stmt = delete(audit_table).where(
                a.at < cut, a.action.notin_([FORGET_ACTION, PURGE_ACTION])
            )
            counts.add("handoff_audit", conn.execute(stmt).rowcount or 0)
    if cut is not None:
        # new-ticket entries (actor = the customer's sender id) count only in the cap's window
        window = max(timedelta(days=1), ticket_cap.TicketCapSettings.from_env().window)
        with engine.begin() as conn:
            a = audit_table.c
            stmt = delete(audit_table).where(a.action == ticket_cap.ACTION, a.at < now - window)
            counts.add("handoff_audit", conn.execute(stmt).rowcount or 0)
    cut = settings.cutoff("training_days", now)
    if cut is not None:
        with engine.begin() as conn:
            if not _has_table(conn, training.answers.name):
                return
            for table, column in (
                (training.answers, training.answers.c.time),
                (training.gaps, training.gaps.c.time),
                (training.sessions, training.sessions.c.started),
                (training.mastery, training.mastery.c.updated),
            ):
                counts.add(
                    table.name, conn.execute(delete(table).where(column < cut)).rowcount or 0
                )
            n = conn.execute(
                delete(training.trainees).where(
                    training.trainees.c.updated < cut, training.trainees.c.active.is_(False)
                )
            ).rowcount
            counts.add(training.trainees.name, n or 0)


def _purge_analytics(
    engine: Engine, settings: RetentionSettings, now: datetime, counts: Counts
) -> None:
    """Outcome rows older than the limit are deleted; the roll-ups of those days keep
    their counts but lose what came from customers: the missed questions (``misses`` rows,
    keyed by the normalised question, with an example) and the conversation id hashes."""
    cut = settings.cutoff("outcomes_days", now)
    if cut is None:
        return
    o = outcomes_table.c
    while True:
        with engine.begin() as conn:
            ids = select(o.id).where(o.at < cut).limit(BATCH).scalar_subquery()
            n = conn.execute(delete(outcomes_table).where(o.id.in_(ids))).rowcount or 0
        counts.add(outcomes_table.name, n)
        if n < BATCH:
            break
    day = cut.astimezone(JST).date().isoformat()  # roll-up days are Japan dates
    r = rollup.rollup_table.c
    with engine.begin() as conn:
        c = csat_claims_table
        n = conn.execute(delete(c).where(c.c.at < cut)).rowcount
        counts.add(c.name, n or 0)
        # the inbox's decisions about misses that are gone from the log (key = their text)
        n = conn.execute(delete(inbox_table).where(inbox_table.c.at < cut)).rowcount
        counts.add(inbox_table.name, n or 0)
        n = conn.execute(
            delete(rollup.rollup_table).where(r.day < day, r.dim == MISSES_DIM)
        ).rowcount
        counts.add(rollup.rollup_table.name, n or 0)
        n = conn.execute(
            update(rollup.rollup_table)
            .where(r.day < day, (r.example.isnot(None)) | (r.example_conversation.isnot(None)))
            .values(example=None, example_conversation=None)
        ).rowcount
        counts.add(f"{rollup.rollup_table.name} (anonymised)", n or 0)
        for table in (rollup.rollup_users_table, rollup.rollup_trainees_table):
            n = conn.execute(delete(table).where(table.c.day < day)).rowcount
            counts.add(table.name, n or 0)


def _purge_line(engine: Engine, settings: RetentionSettings, now: datetime, counts: Counts) -> None:
    """LINE: webhook event ids past the redelivery window; user ids (follow state) not
    updated within the conversation retention, unless the user has an open ticket (an agent
    may still push to them; an unknown user counts as followed)."""
    ev = line_store.events
    with engine.begin() as conn:
        stmt = delete(ev).where(ev.c.received_at < now - line_store.KEEP_EVENTS)
        counts.add(ev.name, conn.execute(stmt).rowcount or 0)
    cut = settings.cutoff("conversations_days", now)
    if cut is None:
        return
    u, t = line_store.users, tickets_table.c
    open_senders = select(t.sender_id).where(
        t.status != "closed", t.sender_id.like(f"{line_events.SENDER_PREFIX}%")
    )
    with engine.begin() as conn:
        keep = {s[len(line_events.SENDER_PREFIX) :] for s in conn.execute(open_senders).scalars()}
        stmt = delete(u).where(u.c.updated_at < cut)
        if keep:
            stmt = stmt.where(u.c.user_id.notin_(sorted(keep)))
        counts.add(u.name, conn.execute(stmt).rowcount or 0)


def _delete_messages(conn: Connection, ticket_ids: list[str]) -> int:
    m = messages_table.c
    return conn.execute(delete(messages_table).where(m.ticket_id.in_(ticket_ids))).rowcount or 0


def _anonymise_tickets(conn: Connection, ticket_ids: list[str], now: datetime) -> int:
    t = tickets_table.c
    n = conn.execute(
        update(tickets_table)
        .where(t.id.in_(ticket_ids))
        .values(
            sender_id=ANONYMISED_SENDER,
            last_question="",
            term=None,
            candidates=[],
            transcript=[],
            contact=None,
            contact_kind=None,
            last_delivery_error=None,
            updated_at=now,
        )
    ).rowcount
    conn.execute(
        update(tickets_table)
        .where(t.id.in_(ticket_ids), t.delivery_status == "pending")
        .values(delivery_status="disabled", next_attempt_at=None)
    )
    return n or 0


# --- forget -----------------------------------------------------------------------------


@dataclass
class ForgetResult:
    kind: str  # "sender" | "ticket"
    counts: Counts


def forget(
    tracker: Engine | None,
    handoff: Engine | None,
    raw_target: str,
    actor: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> ForgetResult:
    """Delete everything stored about one customer: the sender's tracker events and
    receipts, their tickets with messages, training records, analytics outcome rows (their
    days' roll-ups are rebuilt without them); unlink audit entries from
    their tickets; add an audit entry with counts only. InvalidTarget / NothingFound
    change nothing."""
    kind, target = parse_target(raw_target)
    now = now_utc(now)
    senders: set[str] = set()
    if kind == "ticket":
        if handoff is None:
            raise NothingFound("no handoff database: ticket numbers cannot be looked up")
        with handoff.connect() as conn:
            row = conn.execute(
                select(tickets_table.c.sender_id).where(tickets_table.c.id == target)
            ).first()
        if row is None:
            raise NothingFound(f"no ticket {target}: nothing changed")
        if row.sender_id == ANONYMISED_SENDER:
            raise NothingFound(f"{target} is already anonymised: nothing personal left")
        senders.add(row.sender_id)
    else:
        senders.add(target)
    counts = Counts()
    if handoff is not None:
        _forget_handoff(handoff, senders, counts, dry_run)
    if tracker is not None:
        _forget_tracker(tracker, senders, counts, dry_run)
    if counts.total == 0:
        raise NothingFound("nothing stored for this sender: nothing changed")
    if handoff is not None and not dry_run:
        record(handoff, FORGET_ACTION, counts, now, actor)
    return ForgetResult(kind, counts)


@contextmanager
def _run(engine: Engine, dry_run: bool) -> Iterator[Connection]:
    """One transaction, rolled back for a dry run."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            yield conn
        except BaseException:
            trans.rollback()
            raise
        if dry_run:
            trans.rollback()
        else:
            trans.commit()


def _forget_handoff(engine: Engine, senders: set[str], counts: Counts, dry_run: bool) -> None:
    t, a = tickets_table.c, audit_table.c
    with _run(engine, dry_run) as conn:
        ids = list(conn.execute(select(t.id).where(t.sender_id.in_(senders))).scalars())
        if ids:
            counts.add("handoff_ticket_messages", _delete_messages(conn, ids))
            conn.execute(update(audit_table).where(a.ticket_id.in_(ids)).values(ticket_id=None))
            n = conn.execute(delete(tickets_table).where(t.id.in_(ids))).rowcount
            counts.add("handoff_tickets", n or 0)
        n = conn.execute(
            delete(audit_table).where(a.action == ticket_cap.ACTION, a.actor.in_(senders))
        ).rowcount  # the ticket cap's entries name the customer as actor
        counts.add("handoff_audit", n or 0)
        _forget_analytics(conn, senders, ids, counts)
        line_ids = [
            s[len(line_events.SENDER_PREFIX) :] for s in senders if line_events.is_line_sender(s)
        ]
        if line_ids:
            u = line_store.users
            n = conn.execute(delete(u).where(u.c.user_id.in_(line_ids))).rowcount
            counts.add(u.name, n or 0)
        if not _has_table(conn, training.trainees.name):
            return
        tr = training.trainees.c
        names = set(conn.execute(select(tr.trainee).where(tr.sender.in_(senders))).scalars())
        n = conn.execute(delete(training.trainees).where(tr.sender.in_(senders))).rowcount
        counts.add(training.trainees.name, n or 0)
        # A trainee name still used from another device stays (it is that person's too).
        shared = set(conn.execute(select(tr.trainee).where(tr.trainee.in_(names))).scalars())
        names = (names - shared) | senders
        for table in (training.answers, training.sessions, training.mastery, training.gaps):
            n = conn.execute(delete(table).where(table.c.trainee.in_(names))).rowcount
            counts.add(table.name, n or 0)


def _forget_analytics(
    conn: Connection, senders: set[str], ticket_ids: list[str], counts: Counts
) -> None:
    """The customer's outcome rows are deleted and the roll-ups of their days dropped
    (rebuilt from the remaining rows on the next report, so the counts stay right without
    them); missed questions whose example is theirs and their id hashes on other days go too."""
    o = outcomes_table.c
    theirs = o.conversation.in_(senders)
    if ticket_ids:
        theirs = theirs | o.ticket_id.in_(ticket_ids)
    days = sorted(set(conn.execute(select(o.day).where(theirs).distinct()).scalars()))
    rows = conn.execute(
        select(o.kind, o.decision, o.after_answer, o.term, o.normalized, o.question).where(theirs)
    ).all()
    n = conn.execute(delete(outcomes_table).where(theirs)).rowcount
    counts.add(outcomes_table.name, n or 0)
    c = csat_claims_table
    n = conn.execute(delete(c).where(c.c.conversation.in_(senders))).rowcount
    counts.add(c.name, n or 0)
    _forget_inbox(conn, rows, counts)
    r = rollup.rollup_table.c
    if days:
        for table in (rollup.rollup_table, rollup.rollup_users_table, rollup.rollup_trainees_table):
            conn.execute(delete(table).where(table.c.day.in_(days)))
        n = conn.execute(
            delete(rollup.rollup_days_table).where(rollup.rollup_days_table.c.day.in_(days))
        ).rowcount
        counts.add(f"{rollup.rollup_days_table.name} (rebuilt)", n or 0)
    n = conn.execute(
        delete(rollup.rollup_table).where(r.example_conversation.in_(senders))
    ).rowcount
    counts.add(rollup.rollup_table.name, n or 0)
    hashes = [rollup.uid(s) for s in sorted(senders)]
    for table in (rollup.rollup_users_table, rollup.rollup_trainees_table):
        n = conn.execute(delete(table).where(table.c.uid.in_(hashes))).rowcount
        counts.add(table.name, n or 0)


def _forget_inbox(conn: Connection, rows: list, counts: Counts) -> None:
    """The inbox's decisions about the customer's missed questions (key form and label are
    their text), unless another conversation's row in the log still has the same question."""
    keys = set()
    for r in rows:
        reason = reason_of(r.kind, r.decision, r.after_answer)
        named = signal_key(reason, r.term, r.normalized, r.question) if reason else None
        if named:
            keys.add(named[0])
    if not keys:
        return
    o = outcomes_table.c
    shared = set(
        conn.execute(select(o.normalized).where(o.normalized.in_(keys)).distinct()).scalars()
    )
    keys -= shared
    if keys:
        i = inbox_table.c
        n = conn.execute(delete(inbox_table).where(i.key.in_(sorted(keys)))).rowcount
        counts.add(inbox_table.name, n or 0)


def _forget_tracker(engine: Engine, senders: set[str], counts: Counts, dry_run: bool) -> None:
    with _run(engine, dry_run) as conn:
        for table in ("events", "message_receipts"):
            if not _has_table(conn, table):
                continue
            stmt = sql_text(f"DELETE FROM {table} WHERE sender_id IN :senders").bindparams(
                bindparam("senders", expanding=True)
            )
            counts.add(table, conn.execute(stmt, {"senders": sorted(senders)}).rowcount or 0)


def record(
    engine: Engine, action: str, counts: Counts, now: datetime, actor: str | None = None
) -> None:
    """An audit entry with table names and row counts only (no sender, no ticket, no text)."""
    with engine.begin() as conn:
        conn.execute(
            audit_table.insert().values(
                at=now,
                action=action,
                actor=actor,
                ticket_id=None,
                client=None,
                detail=counts.summary()[:500],
            )
        )
