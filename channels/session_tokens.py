"""Widget sessions that belong to someone: the server issues the session id and a
token (HMAC-SHA256 of the id under CHAT_SESSION_SECRET); a socket joins a session
only by presenting both, and may send only into sessions it joined.

Ids start with ``ws-`` so that the REST channel can refuse them: a REST client
cannot write into (or read the agent's replies of) a widget conversation. The
secret must be the same on every server behind a load balancer. Unset, one is made once and kept
in ``var/chat_session_secret`` (mode 600, not in git), so a restarted server keeps
its widgets' sessions.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from assistant.settings import get_settings

logger = logging.getLogger(__name__)

PREFIX = "ws-"
ENV_VAR = "CHAT_SESSION_SECRET"


SECRET_FILE = Path(__file__).resolve().parents[1] / "var" / "chat_session_secret"


@lru_cache(maxsize=1)
def _secret() -> bytes:
    value = get_settings().chat_session_secret
    if value:
        return value.encode("utf-8")
    return _local_secret(SECRET_FILE)


def _local_secret(path: Path) -> bytes:
    """This machine's secret, made on first use (O_EXCL: two servers starting at once
    agree on one)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):  # the other process may still be writing it
            data = path.read_bytes()
            if len(data) >= 32:
                return data
            time.sleep(0.01)
        raise RuntimeError(f"{path} is not a usable secret: delete it or set {ENV_VAR}") from None
    with os.fdopen(fd, "wb") as f:
        f.write(secrets.token_bytes(32))
    logger.info("%s unset: widget session secret kept in %s", ENV_VAR, path)
    return path.read_bytes()


# -- lifetime and rotation -------------------------------------------------------
# A token is "<issued at, unix seconds>.<HMAC of id and that time>": it is good for
# CHAT_SESSION_TTL_HOURS (default 7 days) after it was issued, and a widget that
# rejoins with one older than CHAT_SESSION_ROTATE_MINUTES (default 60) gets a fresh
# one for the same session. A leaked pair therefore reads a session for at most the
# lifetime, and only while nobody rejoins with it. Tokens of the old form (no time)
# are refused: the widget simply gets a new session.
TTL_ENV_VAR, ROTATE_ENV_VAR = "CHAT_SESSION_TTL_HOURS", "CHAT_SESSION_ROTATE_MINUTES"
MAX_TOKEN = 128


def ttl_seconds() -> float:
    return get_settings().chat_session_ttl_hours * 3600


def rotate_seconds() -> float:
    return get_settings().chat_session_rotate_minutes * 60


def sign(session_id: str, secret: bytes | None = None, issued: int | None = None) -> str:
    issued = int(time.time()) if issued is None else int(issued)
    message = f"{session_id}|{issued}".encode()
    mac = hmac.new(secret or _secret(), message, hashlib.sha256).digest()
    return f"{issued}." + base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def new_session(secret: bytes | None = None) -> tuple[str, str]:
    session_id = PREFIX + secrets.token_hex(16)
    return session_id, sign(session_id, secret)


def _issued(token: str) -> int | None:
    head = token.split(".", 1)[0]
    return int(head) if head.isascii() and head.isdigit() and len(head) <= 12 else None


def verified(
    session_id: Any, token: Any, secret: bytes | None = None, now: float | None = None
) -> bool:
    if (
        not isinstance(session_id, str)
        or not isinstance(token, str)
        or not session_id.startswith(PREFIX)
    ):
        return False
    issued = _issued(token) if len(token) <= MAX_TOKEN else None
    if issued is None:
        return False
    age = (time.time() if now is None else now) - issued
    if age < -300 or age > ttl_seconds():  # a little clock skew between servers is fine
        return False
    return hmac.compare_digest(sign(session_id, secret, issued), token)


def refreshed(
    session_id: str, token: str, secret: bytes | None = None, now: float | None = None
) -> str:
    """The token to hand back for a verified pair: a new one once it is old enough."""
    issued = _issued(token) or 0
    current = time.time() if now is None else now
    if current - issued >= rotate_seconds():
        return sign(session_id, secret, int(current))
    return token


def is_widget_session(sender_id: Any) -> bool:
    return isinstance(sender_id, str) and sender_id.startswith(PREFIX)
