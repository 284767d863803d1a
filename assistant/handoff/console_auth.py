"""Console log-in sessions, the audit log, and the wrong-password rate limit.

* A session is a random token in an HttpOnly cookie; the database keeps only its
  SHA-256, so a leaked database does not leak live sessions. Each session has its
  own CSRF token, sent back by the console in ``X-CSRF-Token`` on every POST.
* The audit log records log-ins (ok and failed), log-outs, claims, hand-backs and
  closes. The rate limit counts failed log-ins in it, per username and per client
  address, so it holds across processes and servers.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.engine import Engine

from .schema import audit_table, now_utc, sessions_table

SESSION_TTL = timedelta(hours=12)
MAX_FAILURES = 5  # per username …
MAX_FAILURES_PER_CLIENT = 20  # … or per client address …
FAILURE_WINDOW = timedelta(minutes=10)  # … within this window, then 429 until it slides


@dataclass(frozen=True)
class ConsoleSession:
    username: str
    csrf_token: str
    expires_at: datetime

    def csrf_ok(self, presented: str | None) -> bool:
        return bool(presented) and hmac.compare_digest(self.csrf_token, presented or "")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class ConsoleSessions:
    def __init__(self, engine: Engine):
        self.engine = engine

    def create(self, username: str, now: datetime | None = None) -> tuple[str, ConsoleSession]:
        """A new session: (cookie token, session)."""
        at = now_utc(now)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.expires_at <= at))
            conn.execute(
                insert(sessions_table).values(
                    token_hash=_hash(token),
                    username=username,
                    csrf_token=csrf,
                    created_at=at,
                    expires_at=at + SESSION_TTL,
                )
            )
        return token, ConsoleSession(username, csrf, at + SESSION_TTL)

    def get(self, token: str | None, now: datetime | None = None) -> ConsoleSession | None:
        if not token:
            return None
        with self.engine.begin() as conn:
            row = conn.execute(
                select(sessions_table).where(
                    sessions_table.c.token_hash == _hash(token),
                    sessions_table.c.expires_at > now_utc(now),
                )
            ).first()
        if row is None:
            return None
        m = row._mapping
        return ConsoleSession(m["username"], m["csrf_token"], m["expires_at"])

    def delete(self, token: str | None) -> None:
        if token:
            with self.engine.begin() as conn:
                conn.execute(
                    delete(sessions_table).where(sessions_table.c.token_hash == _hash(token))
                )

    def delete_for(self, username: str) -> None:
        """End every session of an agent (password change, account disabled)."""
        with self.engine.begin() as conn:
            conn.execute(delete(sessions_table).where(sessions_table.c.username == username))


class AuditLog:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(
        self,
        action: str,
        actor: str | None = None,
        ticket_id: str | None = None,
        client: str | None = None,
        detail: str | None = None,
        now: datetime | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_table).values(
                    at=now_utc(now),
                    action=action,
                    actor=actor,
                    ticket_id=ticket_id,
                    client=client,
                    detail=(detail or None) and detail[:500],
                )
            )

    def entries(self, action: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        stmt = select(audit_table).order_by(audit_table.c.id.desc()).limit(limit)
        if action:
            stmt = stmt.where(audit_table.c.action == action)
        with self.engine.begin() as conn:
            return [dict(r._mapping) for r in conn.execute(stmt).all()]

    def login_retry_after(self, username: str, client: str, now: datetime | None = None) -> int:
        """Seconds until another log-in may be tried; 0 = allowed now. Limits: failures
        per username (guessing one password) and, higher, per client address (trying
        many usernames; an office behind one NAT address shares it)."""
        at = now_utc(now)
        waits = [
            self._retry_after(audit_table.c.actor == username, MAX_FAILURES, at),
            self._retry_after(audit_table.c.client == client, MAX_FAILURES_PER_CLIENT, at),
        ]
        return max(waits)

    def _retry_after(self, who: Any, limit: int, at: datetime) -> int:
        t = audit_table.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t.at)
                .where(t.action == "login_failed", t.at > at - FAILURE_WINDOW, who)
                .order_by(t.at.desc())
                .limit(limit)
            ).all()
        if len(rows) < limit:
            return 0
        oldest = rows[-1].at  # the window slides past it
        return max(1, int((oldest + FAILURE_WINDOW - at).total_seconds()) + 1)

    def count(self, action: str) -> int:
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(audit_table)
                    .where(audit_table.c.action == action)
                ).scalar_one()
            )
