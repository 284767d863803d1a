"""What editors (and later the unanswered inbox) do with the content: save, disable,
restore, check, build a draft. All or nothing, validated inside the write transaction.

Seams for the unanswered inbox (issue 15, item 8): `add_alias`, `create_term` and
`add_faq_question` make one validated change each, as a person, and return the new
revision (raise `Rejected` with Japanese problems, or `NotFound`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from ..livechat.console_auth import AuditLog
from .model import Content, Record, build, clean, seed_records
from .store import Change, ContentStore, Item, NotFound, Rejected, Snapshot
from .validate import check_faq, check_term, name_index

__all__ = ["Change", "ContentService", "NotFound", "Rejected"]


def content_of(snap: Snapshot) -> Content:
    return build(
        (i.data for i in snap.enabled("term")), (i.data for i in snap.enabled("faq")), snap.revision
    )


def _result(
    snap: Snapshot, planned: Sequence[tuple[Change, Item | None, Record | None]]
) -> tuple[dict[Any, tuple[str, Record]], list[Any]]:
    """The enabled records after the planned changes: {ident: (kind, record)}; new items
    are ("new", n)."""
    out: dict[Any, tuple[str, Record]] = {i.id: (i.kind, i.data) for i in snap.items if i.enabled}
    idents = []
    for n, (ch, current, data) in enumerate(planned):
        ident = current.id if current is not None else ("new", n)
        idents.append(ident)
        enabled = ch.enabled if ch.enabled is not None else (current.enabled if current else True)
        if enabled and data is not None:
            out[ident] = (ch.kind, data)
        else:
            out.pop(ident, None)
    return out, idents


def check_changes(
    snap: Snapshot, planned: Sequence[tuple[Change, Item | None, Record | None]]
) -> list[dict[str, Any]]:
    """Problems of the planned changes against the content they would make; each
    problem carries `index` (the change's position) and `key`."""
    result, idents = _result(snap, planned)
    terms = [(ident, rec) for ident, (kind, rec) in result.items() if kind == "term"]
    faqs = [(ident, rec) for ident, (kind, rec) in result.items() if kind == "faq"]
    names = name_index(terms)
    headwords = {rec.get("term") or "" for _, rec in terms}
    problems: list[dict[str, Any]] = []
    for n, ((ch, _current, data), ident) in enumerate(zip(planned, idents, strict=True)):
        if ident not in result or data is None:
            continue  # disabled: nothing to check
        if ch.kind == "term":
            found = check_term(data, ident, names, headwords)
        else:
            found = check_faq(data, [rec for i, rec in faqs if i != ident])
        problems += [
            {**p, "index": n, "key": data.get("term") or data.get("id") or ""} for p in found
        ]
    return problems


def _name(change: Change) -> str:
    data = change.data or {}
    return str(data.get("term") or data.get("id") or change.item_id)


class ContentService:
    def __init__(self, engine: Engine):
        self.store = ContentStore(engine)
        self.audit = AuditLog(engine)

    # -- reads ------------------------------------------------------------------

    def ensure_seeded(self) -> None:
        """Seed from data/glossary.yml ($GLOSSARY_FILE) + data/faq.yml on first start."""
        if self.store.marker() is None:
            self.store.seed(*seed_records())

    def snapshot(self) -> Snapshot:
        return self.store.snapshot()

    def content(self) -> Content:
        return content_of(self.store.snapshot())

    def draft(
        self, changes: Sequence[Change], snap: Snapshot | None = None
    ) -> tuple[Content, list[dict[str, Any]]]:
        """The content the changes would make (for preview / test all) and their problems."""
        snap = snap or self.store.snapshot()
        by_id = {i.id: i for i in snap.items}
        planned = []
        for ch in changes:
            current = by_id.get(ch.item_id) if ch.item_id is not None else None
            if ch.item_id is not None and current is None:
                raise NotFound(ch.item_id)
            planned.append(
                (
                    ch,
                    current,
                    ch.data if ch.data is not None else (current.data if current else None),
                )
            )
        result, _ = _result(snap, planned)
        terms = [rec for kind, rec in result.values() if kind == "term"]
        faqs = [rec for kind, rec in result.values() if kind == "faq"]
        return build(terms, faqs, snap.revision), check_changes(snap, planned)

    # -- writes -----------------------------------------------------------------

    def apply(
        self,
        changes: Sequence[Change],
        actor: str,
        batch: str | None = None,
        note: str | None = None,
        client: str | None = None,
        now: datetime | None = None,
    ) -> int:
        revision = self.store.apply(
            changes, actor, check=check_changes, batch=batch, note=note, now=now
        )
        names = {f"{c.kind}:{_name(c)}" for c in changes}
        keys = ", ".join(sorted(names))[:400]
        self.audit.record(
            "content_change",
            actor,
            None,
            client,
            f"rev {revision} ({len(changes)}) {batch or ''} {keys}",
        )
        return revision

    def save(
        self,
        kind: str,
        raw: dict[str, Any],
        actor: str,
        item_id: int | None = None,
        expected: int | None = None,
        client: str | None = None,
    ) -> int:
        return self.apply(
            [Change(kind, clean(kind, raw), item_id=item_id, expected=expected)],
            actor,
            client=client,
        )

    def set_enabled(
        self,
        kind: str,
        item_id: int,
        enabled: bool,
        actor: str,
        expected: int | None = None,
        client: str | None = None,
    ) -> int:
        action = "enable" if enabled else "disable"
        return self.apply(
            [Change(kind, None, item_id, enabled, expected, action)], actor, client=client
        )

    def restore(
        self, revision_id: int, actor: str, expected: int | None = None, client: str | None = None
    ) -> int:
        """Make an item what it was right after `revision_id` (a new revision)."""
        rev = self.store.revision(revision_id)
        data = rev["after"] if rev["after"] is not None else rev["before"]
        enabled = rev["after_enabled"] if rev["after_enabled"] is not None else True
        ch = Change(rev["kind"], data, rev["item_id"], bool(enabled), expected, "restore")
        return self.apply([ch], actor, note=f"restore of revision {revision_id}", client=client)

    # -- seams for the unanswered inbox -------------------------------------------

    def find(self, kind: str, key: str) -> Item:
        for item in self.store.snapshot().items:
            if item.kind == kind and item.key == key:
                return item
        raise NotFound(key)

    def add_alias(self, headword: str, alias: str, actor: str) -> int:
        item = self.find("term", headword)
        data = clean("term", {**item.data, "aliases": [*item.data.get("aliases", []), alias]})
        return self.apply(
            [Change("term", data, item.id, expected=item.revision, action="update")], actor
        )

    def create_term(self, raw: dict[str, Any], actor: str) -> int:
        return self.apply([Change("term", clean("term", raw), action="create")], actor)

    def add_faq_question(self, faq_id: str, question: str, actor: str) -> int:
        item = self.find("faq", faq_id)
        data = clean("faq", {**item.data, "questions": [*item.data.get("questions", []), question]})
        return self.apply(
            [Change("faq", data, item.id, expected=item.revision, action="update")], actor
        )
