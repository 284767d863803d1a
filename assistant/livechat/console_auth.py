"""Console log-in sessions, the audit log, and the wrong-password rate limit.

* A session is a random token in an HttpOnly cookie; the database keeps only its
  SHA-256, so a leaked database does not leak live sessions. Each session has its
  own CSRF token, sent back by the console in ``X-CSRF-Token`` on every POST.
* The audit log records log-ins (ok and failed), log-outs, claims, hand-backs and
  closes. The rate limit counts failed log-ins in it, so it holds across processes
  and servers: per (username, client address) — a stranger cannot lock an agent
  out of their own desk —, per client address (trying many usernames), and per
  username from every address, which spares the addresses the agent logged in
  from before (a distributed guess slows down, the real agent still gets in).
* Check, hash and record are one step: an attempt reserves its row before the
  password is hashed and counts only the rows before it, so 60 parallel wrong
  passwords get 5 × 401 and 55 × 429 (``begin_login`` / ``finish_login``).
* Usernames are compared as ``normalize_username`` spells them (NFKC, trimmed):
  ``' dave'``, ``'dave\t'`` and ``'dave\u3000'`` share dave's counter.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, exists, func, insert, select, update
from sqlalchemy.engine import Engine

from ..handoff.schema import audit_table, now_utc, sessions_table

SESSION_TTL = timedelta(hours=12)
MAX_FAILURES = 5  # per (username, client address) …
MAX_FAILURES_PER_CLIENT = 20  # … or per client address …
MAX_FAILURES_PER_USER = 50  # … or per username from addresses it never logged in from …
FAILURE_WINDOW = timedelta(minutes=10)  # … within this window, then 429 until it slides
KNOWN_ADDRESS_WINDOW = timedelta(days=30)  # a log-in from here makes an address "known"
MAX_USERNAME_INPUT = 128
_COUNTED = ("login_failed", "login_attempt")


def normalize_username(value: object) -> str:
    """The one spelling used to look an agent up and to count its failures."""
    text = value if isinstance(value, str) else ""
    return unicodedata.normalize("NFKC", text[: MAX_USERNAME_INPUT * 4]).strip()[
        :MAX_USERNAME_INPUT
    ]


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

    def begin_login(
        self, username: str, client: str, now: datetime | None = None
    ) -> tuple[int | None, int]:
        """Reserve a log-in attempt: (attempt id, 0) to go on and hash the password,
        or (None, seconds to wait). Counts failures and attempts in flight that came
        before this one, so parallel attempts cannot all pass the check."""
        at = now_utc(now)
        t = audit_table.c
        with self.engine.begin() as conn:
            attempt = conn.execute(
                insert(audit_table).values(
                    at=at, action="login_attempt", actor=username, client=client
                )
            ).inserted_primary_key[0]
            known = conn.execute(
                select(
                    exists().where(
                        t.action == "login",
                        t.actor == username,
                        t.client == client,
                        t.at > at - KNOWN_ADDRESS_WINDOW,
                    )
                )
            ).scalar_one()
        scopes = [
            (and_(t.actor == username, t.client == client), MAX_FAILURES),
            (t.client == client, MAX_FAILURES_PER_CLIENT),
        ]
        if not known:
            scopes.append((t.actor == username, MAX_FAILURES_PER_USER))
        for who, limit in scopes:
            if self._count_before(who, attempt, at) > limit:
                self.finish_login(attempt, ok=None)
                return None, max(1, self._retry_after(who, limit, at))
        return int(attempt), 0

    def finish_login(self, attempt: int, ok: bool | None) -> None:
        """True: the attempt is forgotten (the caller records the log-in); False: it
        becomes a failure; None: refused before hashing, forgotten."""
        t = audit_table.c
        with self.engine.begin() as conn:
            if ok is False:
                conn.execute(
                    update(audit_table).where(t.id == attempt).values(action="login_failed")
                )
            else:
                conn.execute(delete(audit_table).where(t.id == attempt))

    def _count_before(self, who: Any, attempt: int, at: datetime) -> int:
        t = audit_table.c
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(audit_table)
                    .where(t.action.in_(_COUNTED), t.at > at - FAILURE_WINDOW, t.id <= attempt, who)
                ).scalar_one()
            )

    def login_retry_after(self, username: str, client: str, now: datetime | None = None) -> int:
        """Seconds until another log-in may be tried; 0 = allowed now. Limits: failures
        per username (guessing one password) and, higher, per client address (trying
        many usernames; an office behind one NAT address shares it)."""
        at = now_utc(now)
        waits = [
            self._retry_after(
                and_(audit_table.c.actor == username, audit_table.c.client == client),
                MAX_FAILURES,
                at,
            ),
            self._retry_after(audit_table.c.client == client, MAX_FAILURES_PER_CLIENT, at),
        ]
        return max(waits)

    def _retry_after(self, who: Any, limit: int, at: datetime) -> int:
        t = audit_table.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(t.at)
                .where(t.action.in_(_COUNTED), t.at > at - FAILURE_WINDOW, who)
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
