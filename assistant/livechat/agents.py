"""Agent accounts for the live-chat console: who may log in, and who is available.

Passwords are hashed with Argon2id (argon2-cffi's defaults). An agent counts as
available when they set themselves 対応可能 *and* the console was seen recently
(the console's event stream touches ``last_seen``), so a closed browser tab does
not leave customers waiting for nobody.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..handoff.schema import agents_table, now_utc

STATUSES = ("available", "away")
# agent: live chat; editor: content; supervisor: content, analytics, accounts.
ROLES = ("agent", "editor", "supervisor")
SEEN_WINDOW = timedelta(seconds=90)  # console pings every 15 s
MIN_PASSWORD = 8
MAX_USERNAME = 32

_hasher = PasswordHasher()
# Verifying against this when the user does not exist keeps the timing alike.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AgentError(ValueError):
    """A bad username, display name or password (message is for the CLI user)."""


@dataclass(frozen=True)
class Agent:
    username: str
    display_name: str
    status: str
    last_seen: datetime | None
    disabled: bool
    role: str = "agent"

    def can(self, *roles: str) -> bool:
        """Whether this account has one of ``roles``."""
        return self.role in roles

    def is_available(self, now: datetime) -> bool:
        return (
            not self.disabled
            and self.status == "available"
            and self.last_seen is not None
            and now - self.last_seen <= SEEN_WINDOW
        )


def check_username(username: str) -> str:
    name = unicodedata.normalize("NFKC", username or "").strip()
    if not name or len(name) > MAX_USERNAME:
        raise AgentError(f"ユーザー名は1〜{MAX_USERNAME}文字で指定してください")
    if any(ch.isspace() or not ch.isprintable() for ch in name):
        raise AgentError("ユーザー名に空白や制御文字は使えません")
    return name


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise AgentError(f"パスワードは{MIN_PASSWORD}文字以上にしてください")
    return password


def check_role(role: str | None) -> str:
    if role not in ROLES:
        raise AgentError(f"役割は {' / '.join(ROLES)} のどれかです")
    return role


def _row_to_agent(row: Any) -> Agent:
    m = row._mapping
    role = m.get("role") or "agent"
    return Agent(
        m["username"], m["display_name"], m["status"], m["last_seen"], bool(m["disabled"]), role
    )


class AgentDirectory:
    """Accounts and availability, on the handoff database."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def add(
        self,
        username: str,
        password: str,
        display_name: str | None = None,
        now: datetime | None = None,
        role: str = "agent",
    ) -> Agent:
        name = check_username(username)
        check_role(role)
        shown = " ".join((display_name or name).split())[:64] or name
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(agents_table).values(
                        username=name,
                        display_name=shown,
                        password_hash=_hasher.hash(check_password(password)),
                        status="away",
                        last_seen=None,
                        created_at=now_utc(now),
                        disabled=False,
                        role=role,
                    )
                )
        except IntegrityError:
            raise AgentError(f"ユーザー {name} はすでに登録されています") from None
        return self.require(name)

    def set_password(self, username: str, password: str) -> None:
        self._update(username, password_hash=_hasher.hash(check_password(password)))

    def set_role(self, username: str, role: str) -> None:
        self._update(username, role=check_role(role))

    def set_disabled(self, username: str, disabled: bool) -> None:
        self._update(username, disabled=disabled, status="away")

    def get(self, username: str) -> Agent | None:
        with self.engine.begin() as conn:
            row = conn.execute(
                select(agents_table).where(agents_table.c.username == username)
            ).first()
        return _row_to_agent(row) if row else None

    def require(self, username: str) -> Agent:
        agent = self.get(username)
        if agent is None:
            raise AgentError(f"ユーザー {username} は登録されていません")
        return agent

    def list(self) -> list[Agent]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(agents_table).order_by(agents_table.c.username)).all()
        return [_row_to_agent(r) for r in rows]

    def verify(self, username: str, password: str) -> Agent | None:
        """The agent if the password is right and the account enabled, else None."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(agents_table).where(agents_table.c.username == (username or "").strip())
            ).first()
        stored = row._mapping["password_hash"] if row else _DUMMY_HASH
        try:
            _hasher.verify(stored, password or "")
        except (VerificationError, InvalidHashError):
            return None
        if row is None or row._mapping["disabled"]:
            return None
        if _hasher.check_needs_rehash(stored):
            self._update(row._mapping["username"], password_hash=_hasher.hash(password))
        return _row_to_agent(row)

    def set_status(self, username: str, status: str, now: datetime | None = None) -> None:
        if status not in STATUSES:
            raise AgentError(f"status must be one of {STATUSES}")
        self._update(username, status=status, last_seen=now_utc(now))

    def touch(self, username: str, now: datetime | None = None) -> None:
        """The console is open: refresh ``last_seen``."""
        self._update(username, last_seen=now_utc(now))

    def available_count(self, now: datetime | None = None) -> int:
        at = now_utc(now)
        t = agents_table.c
        with self.engine.begin() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(agents_table)
                    .where(
                        t.status == "available",
                        t.disabled.is_(False),
                        t.last_seen >= at - SEEN_WINDOW,
                    )
                ).scalar_one()
            )

    def _update(self, username: str, **values: Any) -> None:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(agents_table).where(agents_table.c.username == username).values(**values)
            )
        if res.rowcount == 0:
            raise AgentError(f"ユーザー {username} は登録されていません")
