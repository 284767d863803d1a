"""Counts of live things a process registers for memory diagnosis (docs/memory.md).

A module that keeps a table of open things (the agent console's event streams:
channels/live.py) registers a function that counts them; the memory snapshot handler
(rasa_runtime/memory.py: gauges, on SIGUSR1 with MEMTRACE_DIR) writes the counts beside
glibc's and pymalloc's figures, so `scripts/soak.py` sees whether a table returns to
zero after the traffic. Read only through that signal, never through an endpoint.
"""

from __future__ import annotations

from collections.abc import Callable

_COUNTS: dict[str, Callable[[], int]] = {}


def add_gauge(name: str, read: Callable[[], int]) -> None:
    """Register (or replace) the count `name`."""
    _COUNTS[name] = read


def remove_gauge(name: str) -> None:
    _COUNTS.pop(name, None)


def read_counts() -> dict[str, int]:
    """Every registered count; one whose function fails is left out (a diagnosis
    must not fail the server)."""
    out = {}
    for name, read in list(_COUNTS.items()):
        try:
            out[name] = int(read())
        except Exception:  # noqa: BLE001 — see above
            continue
    return out
