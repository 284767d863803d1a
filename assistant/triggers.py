"""When the bot offers a person on its own (implicit handoff)."""

from __future__ import annotations

FAILURES_BEFORE_OFFER = 2  # two failed turns in a row (fallback or unknown term)


def after_turn(failures_so_far: int, failed: bool) -> tuple[int, bool]:
    """Return (new consecutive-failure count, whether to offer a human now)."""
    if not failed:
        return 0, False
    count = failures_so_far + 1
    if count >= FAILURES_BEFORE_OFFER:
        return 0, True
    return count, False
