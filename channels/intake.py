"""Size cap and rate limits for both customer channels (policy in assistant/intake.py).

Settings come from env (CHAT_MAX_MESSAGE_CHARS, CHAT_RATE_PER_SENDER,
CHAT_RATE_PER_CLIENT, CHAT_TRUSTED_PROXIES); see README, Hardening. Limits are
per server process: behind the load balancer each server counts its own share.
"""

from __future__ import annotations

import math
from functools import lru_cache

from assistant.intake import IntakeSettings, RateLimits, cap_message, client_address


class Intake:
    def __init__(self, settings: IntakeSettings):
        self.settings = settings
        self.limits = RateLimits(settings)

    def cap(self, text: str) -> str:
        return cap_message(text, self.settings.max_chars)[0]

    def client(self, peer: str, forwarded_for: str | None) -> str:
        return client_address(peer, forwarded_for, self.settings.trusted)

    def wait(self, sender: str, client: str) -> int:
        """0 = go on; else whole seconds the client should wait."""
        return math.ceil(self.limits.check(sender, client))


@lru_cache(maxsize=1)
def intake() -> Intake:
    return Intake(IntakeSettings.from_env())
