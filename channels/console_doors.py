"""The agent console's doors (issue 16, item 6): who the client is, when cookies
are Secure, and where Argon2 runs.

* The client address honours ``X-Forwarded-For`` only from a trusted proxy
  (CHAT_TRUSTED_PROXIES or loopback, as the customer channels: channels/intake.py),
  so behind the balancer each agent has their own log-in counter.
* Cookies get ``Secure`` when the request came over HTTPS: directly, or per
  ``X-Forwarded-Proto: https`` from a trusted proxy.
* Password hashing (Argon2, ~50 ms of CPU and 64 MiB each) runs on its own small
  pool — CONSOLE_HASH_WORKERS threads (default 1) and at most CONSOLE_HASH_QUEUE
  waiting (default 4); beyond that a log-in is refused at once (429 busy). The
  default thread pool, which the live chat's database calls use, never waits
  for an attacker's log-ins.
* Both customer channels put ``client_key`` (a keyed hash of the address) in a
  message's metadata, for the cap on new tickets per client.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import lru_cache
from typing import Any

from sanic.request import Request

from assistant.intake import is_trusted
from assistant.settings import get_settings

from . import session_tokens
from .intake import intake

CLIENT_KEY = "client_key"


class HashPoolBusy(Exception):
    """Too many log-ins are being hashed: refuse this one now."""


class HashPool:
    def __init__(self, workers: int, queue: int):
        self.capacity = workers + queue
        self.busy = 0
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="console-hash")

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        if self.busy >= self.capacity:
            raise HashPoolBusy()
        self.busy += 1  # the event loop is single-threaded: no lock needed
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)
        finally:
            self.busy -= 1


@lru_cache(maxsize=1)
def hash_pool() -> HashPool:
    s = get_settings()  # CONSOLE_HASH_WORKERS 1..16, CONSOLE_HASH_QUEUE 0..256
    return HashPool(s.console_hash_workers, s.console_hash_queue)


def client(request: Request) -> str:
    """The real client address (X-Forwarded-For only from a trusted proxy)."""
    return intake().client(request.ip or "unknown", request.headers.get("x-forwarded-for"))


def https(request: Request) -> bool:
    if request.scheme == "https":
        return True
    proto: str | None = request.headers.get("x-forwarded-proto")
    if not proto or not is_trusted(request.ip or "", intake().settings.trusted):
        return False
    return proto.split(",")[0].strip().lower() == "https"


def client_key(address: str) -> str | None:
    """A keyed hash of a client address for the ticket cap (assistant/handoff/ticket_cap.py):
    it tells clients apart without storing their address. None for loopback and trusted
    networks (the balancer, the benchmark, the evaluation), which are not capped."""
    if not address or is_trusted(address, intake().settings.trusted):
        return None
    mac = hmac.new(session_tokens._secret(), b"client|" + address.encode("utf-8"), hashlib.sha256)
    return "c-" + mac.hexdigest()[:24]


def with_client_key(metadata: dict, address: str) -> dict:
    """The message's metadata with the channel's own client key (never the client's)."""
    out = {k: v for k, v in metadata.items() if k != CLIENT_KEY}
    key = client_key(address)
    if key:
        out[CLIENT_KEY] = key
    return out
