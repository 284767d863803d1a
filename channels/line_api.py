"""A small async client of LINE's Messaging API on Rasa's own aiohttp.

Why not line-bot-sdk: no release installs beside Rasa 3.6.21 (3.x needs pydantic 2
and aiohttp ≥ 3.10; Rasa pins pydantic < 1.10.10 and aiohttp < 3.10), and we need
only four endpoints (docs/line.md).

* ``reply``: one call per reply token. A 5xx or a timeout is retried with the same
  token (a token is single-use, so a retry can never deliver twice). A 400 after
  such an ambiguous attempt means the first one most likely went through:
  the outcome is ``ambiguous`` and the caller must NOT push the same messages.
* ``push``: ``X-Line-Retry-Key`` on the first attempt and every retry of it; 409
  = LINE already accepted it (success). 429: the monthly quota (no retry; the
  caller reports it) or the rate limit (retried after ``Retry-After`` or a back-off).
* ``loading``: the "…" animation while a turn takes time (1:1 chats only).
* ``quota``: the month's push quota and its use.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import aiohttp

logger = logging.getLogger(__name__)

DEFAULT_BASE = "https://api.line.me"
QUOTA_MARKER = "monthly limit"  # LINE's 429 body: "You have reached your monthly limit."


@dataclass
class Result:
    status: int | None  # None: no HTTP answer (timeout, connection error)
    body: Any = None
    attempts: int = 1
    ambiguous: bool = False  # it may or may not have been delivered

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def already_accepted(self) -> bool:  # push retried with a key LINE has seen
        return self.status == 409

    @property
    def quota_exhausted(self) -> bool:
        return (
            self.status == 429 and QUOTA_MARKER in str((self.body or {}).get("message", "")).lower()
        )

    @property
    def invalid_token(self) -> bool:
        return (
            self.status == 400
            and "reply token" in str((self.body or {}).get("message", "")).lower()
        )


class LineApi:
    def __init__(
        self,
        access_token: str,
        base_url: str = DEFAULT_BASE,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
    ):
        self.access_token = access_token
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.attempts = attempts
        self.backoff = backoff
        self._session: aiohttp.ClientSession | None = None

    async def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=self.timeout, headers={"Authorization": f"Bearer {self.access_token}"}
            )
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def _once(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        session = await self._client()
        try:
            async with session.request(
                method, self.base_url + path, json=body, headers=headers or {}
            ) as r:
                try:
                    data = await r.json(content_type=None)
                except ValueError:
                    data = {"message": (await r.text())[:200]}
                retry_after = r.headers.get("Retry-After")
                result = Result(r.status, data if data is not None else {})
                if retry_after:
                    result.body = {
                        **(result.body if isinstance(result.body, dict) else {}),
                        "_retry_after": retry_after,
                    }
                return result
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            logger.warning("LINE %s %s: %s", method, path, type(e).__name__)
            return Result(None, {"message": type(e).__name__})

    async def _retrying(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
    ) -> Result:
        """Retries on 5xx, timeouts and a rate-limit 429; `ambiguous` if an attempt
        without an answer (or with a 5xx) may have been carried out."""
        ambiguous = False
        result = Result(None)
        for attempt in range(1, self.attempts + 1):
            result = await self._once(method, path, body, headers)
            result.attempts = attempt
            if result.status is None or result.status >= 500:
                ambiguous = True
            elif result.status == 429 and not result.quota_exhausted:
                pass  # rate limit: nothing was done, try again
            else:
                break
            if attempt < self.attempts:
                await asyncio.sleep(self._wait(result, attempt))
        result.ambiguous = ambiguous and not result.ok
        return result

    def _wait(self, result: Result, attempt: int) -> float:
        raw = (result.body or {}).get("_retry_after") if isinstance(result.body, dict) else None
        try:
            return min(30.0, max(0.0, float(raw))) if raw else self.backoff * 2.0 ** (attempt - 1)
        except ValueError:
            return self.backoff * 2.0 ** (attempt - 1)

    async def reply(self, reply_token: str, messages: list[dict[str, Any]]) -> Result:
        return await self._retrying(
            "POST", "/v2/bot/message/reply", {"replyToken": reply_token, "messages": messages}
        )

    async def push(self, to: str, messages: list[dict[str, Any]], retry_key: str) -> Result:
        result = await self._retrying(
            "POST",
            "/v2/bot/message/push",
            {"to": to, "messages": messages},
            {"X-Line-Retry-Key": retry_key},
        )
        if result.already_accepted:
            result.ambiguous = False
        return result

    async def loading(self, chat_id: str, seconds: int = 5) -> Result:
        seconds = min(60, max(5, (seconds + 4) // 5 * 5))  # 5..60, a multiple of 5
        return await self._once(
            "POST", "/v2/bot/chat/loading/start", {"chatId": chat_id, "loadingSeconds": seconds}
        )

    async def quota(self) -> dict[str, Any]:
        """{"type": "limited"|"none", "value": n or None, "used": n}
        (None fields if unreachable)."""
        limit = await self._once("GET", "/v2/bot/message/quota", None)
        used = await self._once("GET", "/v2/bot/message/quota/consumption", None)
        body = limit.body if limit.ok and isinstance(limit.body, dict) else {}
        return {
            "type": body.get("type"),
            "value": body.get("value"),
            "used": used.body.get("totalUsage")
            if used.ok and isinstance(used.body, dict)
            else None,
        }
