"""X-Line-Signature: base64 of HMAC-SHA256 over the raw request body, keyed with the
channel secret (https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac


def sign(secret: str, body: bytes) -> str:
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(secret: str, body: bytes, signature: str | None) -> bool:
    """True only for the exact signature of these bytes (constant-time compare)."""
    if not secret or not signature or not isinstance(signature, str):
        return False
    try:
        given = signature.strip().encode("ascii")
    except UnicodeEncodeError:
        return False
    return hmac.compare_digest(sign(secret, body).encode("ascii"), given)
