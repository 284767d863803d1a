"""Content tables in the handoff database, with every change kept as a revision.

* ``content_items``: one row per term or FAQ (its current record, enabled or not, and
  the revision that last changed it: the optimistic-concurrency check of an edit).
* ``content_revisions``: every change ever made (who, when, action, before, after);
  append-only, so nothing is lost by an edit; a restore is a new revision.
* ``content_state``: one row whose ``revision`` is the change marker every server polls
  (assistant/content/live.py) — moving it is part of the same transaction as the change.

Every write takes the content lock first (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL:
``SELECT … FOR UPDATE`` of the state row), so checks made inside the transaction (an
edited item's revision, names used by other terms) cannot race with another editor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine

from ..handoff.db import create_schema, reading
from ..handoff.schema import UTCDateTime, metadata, now_utc
from .model import KINDS, Record, key_of

items_table = Table(
    "content_items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("key", Text, nullable=False),  # the headword or the FAQ id (current)
    Column("data", JSON, nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("revision", Integer, nullable=False),  # the revision that last changed it
    Column("updated_at", UTCDateTime, nullable=False),
    Column("updated_by", Text),
    Index("ix_content_items_kind_key", "kind", "key"),
)

revisions_table = Table(
    "content_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("item_id", Integer, nullable=False, index=True),
    Column("kind", String(8), nullable=False),
    Column("key", Text, nullable=False),
    Column(
        "action", String(16), nullable=False
    ),  # seed create update disable enable restore import
    Column("actor", Text),
    Column("at", UTCDateTime, nullable=False),
    Column("before", JSON),  # the record before (NULL for a new item) …
    Column("after", JSON),  # … and after; enabled flags in before_enabled/after_enabled
    Column("before_enabled", Boolean),
    Column("after_enabled", Boolean),
    Column("batch", String(64)),  # an import or a publish of several changes
    Column("note", Text),
)

state_table = Table(
    "content_state",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("revision", Integer, nullable=False),
    Column("seeded_at", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class Item:
    id: int
    kind: str
    key: str
    data: Record
    enabled: bool
    revision: int
    updated_at: datetime
    updated_by: str | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "key": self.key,
            "data": self.data,
            "enabled": self.enabled,
            "revision": self.revision,
            "updated_at": self.updated_at.isoformat(timespec="seconds"),
            "updated_by": self.updated_by,
        }


@dataclass(frozen=True)
class Change:
    """One change to apply: a new item (item_id None), a new record for an item, or a new
    enabled flag. `expected`: the item's revision the editor saw (None: do not check)."""

    kind: str
    data: Record | None = None
    item_id: int | None = None
    enabled: bool | None = None
    expected: int | None = None
    action: str = ""


class Conflict(Exception):
    """The item changed since the editor loaded it (another editor saved first)."""

    def __init__(self, current: Item):
        super().__init__(f"{current.kind} {current.key} is at revision {current.revision}")
        self.current = current


class NotFound(KeyError):
    pass


class Rejected(ValueError):
    """The checks made inside the transaction found problems (nothing was written)."""

    def __init__(self, problems: list[dict[str, Any]]):
        super().__init__(f"{len(problems)} problem(s)")
        self.problems = problems


@dataclass
class Snapshot:
    revision: int
    items: list[Item] = field(default_factory=list)

    def enabled(self, kind: str) -> list[Item]:
        return [i for i in self.items if i.kind == kind and i.enabled]


def _item(row: Any) -> Item:
    m = row._mapping
    return Item(
        m["id"],
        m["kind"],
        m["key"],
        m["data"],
        bool(m["enabled"]),
        m["revision"],
        m["updated_at"],
        m["updated_by"],
    )


def _revision(row: Any) -> dict[str, Any]:
    m = dict(row._mapping)
    m["at"] = m["at"].isoformat(timespec="seconds")
    return m


Check = Callable[[Snapshot, list[tuple[Change, Item | None, Record | None]]], list[dict[str, Any]]]


class ContentStore:
    def __init__(self, engine: Engine):
        self.engine = engine
        create_schema(engine)

    # -- reads ------------------------------------------------------------------

    def marker(self) -> int | None:
        """The change marker (None before the first seed). One indexed row: cheap to poll."""
        with reading(self.engine) as conn:
            value = conn.execute(
                select(state_table.c.revision).where(state_table.c.id == 1)
            ).scalar()
        return None if value is None else int(value)

    def snapshot(self, conn: Connection | None = None) -> Snapshot:
        if conn is None:
            with reading(self.engine) as c:
                return self.snapshot(c)
        revision = (
            conn.execute(select(state_table.c.revision).where(state_table.c.id == 1)).scalar() or 0
        )
        rows = conn.execute(select(items_table).order_by(items_table.c.id)).all()
        return Snapshot(revision, [_item(r) for r in rows])

    def get(self, item_id: int) -> Item:
        with reading(self.engine) as conn:
            row = conn.execute(select(items_table).where(items_table.c.id == item_id)).first()
        if row is None:
            raise NotFound(item_id)
        return _item(row)

    def history(self, item_id: int, limit: int = 200) -> list[dict[str, Any]]:
        t = revisions_table
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(t).where(t.c.item_id == item_id).order_by(t.c.id.desc()).limit(limit)
            ).all()
        return [_revision(r) for r in rows]

    def revision(self, revision_id: int) -> dict[str, Any]:
        with reading(self.engine) as conn:
            row = conn.execute(
                select(revisions_table).where(revisions_table.c.id == revision_id)
            ).first()
        if row is None:
            raise NotFound(revision_id)
        return _revision(row)

    def recent(self, limit: int = 50) -> list[dict[str, Any]]:
        t = revisions_table
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(t).where(t.c.action != "seed").order_by(t.c.id.desc()).limit(limit)
            ).all()
        return [_revision(r) for r in rows]

    # -- writes -----------------------------------------------------------------

    def _lock(self, conn: Connection) -> None:
        if conn.dialect.name == "postgresql":
            conn.execute(select(state_table.c.id).where(state_table.c.id == 1).with_for_update())

    def seed(
        self, terms: Iterable[Record], faqs: Iterable[Record], now: datetime | None = None
    ) -> bool:
        """Fill empty content tables once (the first server to start); False if already seeded."""
        at = now_utc(now)
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("LOCK TABLE content_state IN EXCLUSIVE MODE")
            if conn.execute(select(state_table.c.id)).first() is not None:
                return False
            last = 0
            for kind, records in (("term", terms), ("faq", faqs)):
                for record in records:
                    last = self._write(
                        conn, None, Change(kind, record, action="seed"), "seed", at, None, None
                    )
            conn.execute(insert(state_table).values(id=1, revision=last, seeded_at=at))
        return True

    def apply(
        self,
        changes: Sequence[Change],
        actor: str,
        check: Check | None = None,
        batch: str | None = None,
        note: str | None = None,
        now: datetime | None = None,
    ) -> int:
        """Apply every change or none; returns the new revision (the marker's new value).
        Raises Conflict, NotFound, or Rejected (problems from `check`)."""
        at = now_utc(now)
        with self.engine.begin() as conn:
            self._lock(conn)
            snap = self.snapshot(conn)
            by_id = {i.id: i for i in snap.items}
            planned: list[tuple[Change, Item | None, Record | None]] = []
            for ch in changes:
                if ch.kind not in KINDS:
                    raise ValueError(f"unknown kind {ch.kind!r}")
                current = by_id.get(ch.item_id) if ch.item_id is not None else None
                if ch.item_id is not None and (current is None or current.kind != ch.kind):
                    raise NotFound(ch.item_id)
                if (
                    current is not None
                    and ch.expected is not None
                    and ch.expected != current.revision
                ):
                    raise Conflict(current)
                planned.append(
                    (
                        ch,
                        current,
                        ch.data if ch.data is not None else (current.data if current else None),
                    )
                )
            if check is not None:
                problems = check(snap, planned)
                if problems:
                    raise Rejected(problems)
            last = snap.revision
            for ch, current, _ in planned:
                last = self._write(conn, current, ch, actor, at, batch, note)
            if planned:
                conn.execute(update(state_table).where(state_table.c.id == 1).values(revision=last))
        return last

    def _write(
        self,
        conn: Connection,
        current: Item | None,
        ch: Change,
        actor: str,
        at: datetime,
        batch: str | None,
        note: str | None,
    ) -> int:
        data = ch.data if ch.data is not None else (current.data if current else None)
        assert data is not None
        enabled = ch.enabled if ch.enabled is not None else (current.enabled if current else True)
        action = ch.action or ("create" if current is None else "update")
        key = key_of(ch.kind, data)
        rev = conn.execute(
            insert(revisions_table).values(
                item_id=current.id if current else 0,
                kind=ch.kind,
                key=key,
                action=action,
                actor=actor,
                at=at,
                before=current.data if current else None,
                after=data,
                before_enabled=current.enabled if current else None,
                after_enabled=enabled,
                batch=batch,
                note=(note or None) and note[:500],
            )
        ).inserted_primary_key[0]
        if current is None:
            item_id = conn.execute(
                insert(items_table).values(
                    kind=ch.kind,
                    key=key,
                    data=data,
                    enabled=enabled,
                    revision=rev,
                    updated_at=at,
                    updated_by=actor,
                )
            ).inserted_primary_key[0]
            conn.execute(
                update(revisions_table).where(revisions_table.c.id == rev).values(item_id=item_id)
            )
        else:
            conn.execute(
                update(items_table)
                .where(items_table.c.id == current.id)
                .values(
                    key=key,
                    data=data,
                    enabled=enabled,
                    revision=rev,
                    updated_at=at,
                    updated_by=actor,
                )
            )
        return int(rev)
