"""Widget sessions that belong to someone: the server issues the session id and a
token (HMAC-SHA256 of the id under CHAT_SESSION_SECRET); a socket joins a session
only by presenting both, and may send only into sessions it joined.

Ids start with ``ws-`` so that the REST channel can refuse them: a REST client
cannot write into (or read the agent's replies of) a widget conversation. The
secret must be the same on every server behind a load balancer; unset, each
process makes its own (fine for one server: sessions then end with a restart,
the widget simply gets a new one).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from functools import lru_cache
from typing import Any, Optional, Tuple

logger = logging.getLogger(__name__)

PREFIX = "ws-"
ENV_VAR = "CHAT_SESSION_SECRET"


@lru_cache(maxsize=1)
def _secret() -> bytes:
    value = os.environ.get(ENV_VAR, "")
    if value:
        return value.encode("utf-8")
    logger.info("%s unset: widget sessions are valid for this server process only", ENV_VAR)
    return secrets.token_bytes(32)


def sign(session_id: str, secret: Optional[bytes] = None) -> str:
    mac = hmac.new(secret or _secret(), session_id.encode("utf-8"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode("ascii").rstrip("=")


def new_session(secret: Optional[bytes] = None) -> Tuple[str, str]:
    session_id = PREFIX + secrets.token_hex(16)
    return session_id, sign(session_id, secret)


def verified(session_id: Any, token: Any, secret: Optional[bytes] = None) -> bool:
    if not isinstance(session_id, str) or not isinstance(token, str) or not session_id.startswith(PREFIX):
        return False
    return hmac.compare_digest(sign(session_id, secret), token)


def is_widget_session(sender_id: Any) -> bool:
    return isinstance(sender_id, str) and sender_id.startswith(PREFIX)
