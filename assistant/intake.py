"""What happens to a customer message before the bot sees it. No Rasa, no I/O.

* Size: a message is kept up to a configured number of characters; the rest is
  cut and a note says so (a 99 MB message used to be stored whole and made every
  later turn of that conversation slow).
* Rate: a sliding-window limit per conversation and per client address; clients
  on loopback or a trusted network are not limited (the load balancer, the
  benchmark and the evaluation run there; behind a trusted proxy the real client
  comes from X-Forwarded-For).
* Commands: Rasa's built-in ``/restart``, ``/session_start`` and ``/back`` would end
  a handoff silently; they are recognised here so the channels can refuse them.
"""

from __future__ import annotations

import ipaddress
import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .settings import Settings, get_settings

DEFAULT_MAX_CHARS = 5000
CUT_NOTE = "…(長すぎるため {kept:,}文字目以降の{cut:,}文字を省略しました)"
_RESET_COMMAND = re.compile(r"^\s*/(restart|session_start|back)\s*($|[{@])")


def cap_message(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> tuple[str, int]:
    """(text to keep, number of characters cut)."""
    if len(text) <= max_chars:
        return text, 0
    cut = len(text) - max_chars
    return text[:max_chars] + CUT_NOTE.format(kept=max_chars, cut=cut), cut


def is_reset_command(text: str) -> bool:
    """``/restart``, ``/session_start`` or ``/back`` (with or without entities)."""
    return bool(_RESET_COMMAND.match(text or ""))


@dataclass
class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds per key."""

    limit: int
    window: float
    _hits: dict[str, deque[float]] = field(default_factory=dict)
    _pruned_at: float = 0.0

    def hit(self, key: str, now: float | None = None) -> float:
        """Record an event; 0 if allowed, else seconds until one would be allowed
        (a refused event is not recorded)."""
        at = time.monotonic() if now is None else now
        hits = self._hits.setdefault(key, deque())
        while hits and hits[0] <= at - self.window:
            hits.popleft()
        if len(hits) >= self.limit:
            return max(0.001, hits[0] + self.window - at)
        hits.append(at)
        # Forget keys idle for a whole window, once a window (or at once past 50,000):
        # one entry per conversation would otherwise stay for the life of the process.
        if at - self._pruned_at >= self.window or len(self._hits) > 50_000:
            self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > at - self.window}
            self._pruned_at = at
        return 0.0


@dataclass
class IntakeSettings:
    max_chars: int = DEFAULT_MAX_CHARS
    per_sender_per_minute: int = 30
    per_client_per_minute: int = 120
    trusted: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> IntakeSettings:
        """CHAT_MAX_MESSAGE_CHARS, CHAT_RATE_PER_*, CHAT_TRUSTED_PROXIES (a typo in a
        network fails at start, not silently): assistant/settings.py."""
        s = get_settings() if environ is None else Settings.from_env(environ)
        return cls(
            max_chars=s.chat_max_message_chars,
            per_sender_per_minute=s.chat_rate_per_sender,
            per_client_per_minute=s.chat_rate_per_client,
            trusted=s.chat_trusted_proxies,
        )


def is_trusted(address: str, trusted: Iterable[str]) -> bool:
    """Loopback, or inside one of the trusted networks (e.g. the load balancer)."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return False
    return ip.is_loopback or any(ip in ipaddress.ip_network(n, strict=False) for n in trusted)


def client_address(peer: str, forwarded_for: str | None, trusted: Iterable[str]) -> str:
    """The real client: X-Forwarded-For counts only when the peer is a trusted proxy;
    the right-most address not itself trusted is the client."""
    trusted = tuple(trusted)
    if not forwarded_for or not is_trusted(peer, trusted):
        return peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if not is_trusted(hop, trusted):
            return hop
    return peer


class RateLimits:
    """Per-conversation and per-address message limits of one server process."""

    def __init__(self, settings: IntakeSettings):
        self.settings = settings
        self.senders = SlidingWindow(settings.per_sender_per_minute, 60.0)
        self.clients = SlidingWindow(settings.per_client_per_minute, 60.0)

    def check(self, sender: str, client: str, now: float | None = None) -> float:
        """0 if the message may go on, else seconds to wait. ``client`` is the real
        address (see client_address); loopback and trusted networks are not limited."""
        if is_trusted(client, self.settings.trusted):
            return 0.0
        return self.senders.hit(sender, now) or self.clients.hit(client, now)
