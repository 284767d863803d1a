"""The tracker store fails loudly: no turn is acknowledged unsaved.

Rasa 3.6 wraps every tracker store in `FailSafeTrackerStore`, which on an error logs and
*saves to an in-memory store instead* (and `retrieve` returns None, i.e. a fresh,
empty conversation). With the database down a customer got a normal reply that was
stored nowhere, the next server knew nothing of it, and the conversation's history was
silently replaced. Here every error is logged and re-raised: the turn fails, the REST
channel answers 503 (retryable, channels/exactly_once.py) and socket.io sends nothing
but the "try again" notice, and the client retries with the same message id.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


class TrackerStoreUnavailable(RuntimeError):
    """The tracker store could not read or write a conversation."""


def apply() -> None:
    from rasa_runtime import rasa_version

    rasa_version.check("rasa_runtime.loud_store")
    from rasa.core.tracker_store import FailSafeTrackerStore

    if getattr(FailSafeTrackerStore, "_loud", False):
        return

    def failed(op: str, sender: str | None, exc: Exception) -> TrackerStoreUnavailable:
        logger.error("tracker store %s failed for %s: %s: %s", op, sender, type(exc).__name__, exc)
        return TrackerStoreUnavailable(f"tracker store {op} failed: {type(exc).__name__}")

    async def retrieve(self: Any, sender_id: str) -> Any:
        try:
            return await self._tracker_store.retrieve(sender_id)
        except Exception as exc:
            raise failed("retrieve", sender_id, exc) from exc

    async def retrieve_full_tracker(self: Any, sender_id: str) -> Any:
        try:
            return await self._tracker_store.retrieve_full_tracker(sender_id)
        except Exception as exc:
            raise failed("retrieve", sender_id, exc) from exc

    async def save(self: Any, tracker: Any) -> None:
        try:
            await self._tracker_store.save(tracker)
        except Exception as exc:
            raise failed("save", tracker.sender_id, exc) from exc

    async def keys(self: Any) -> Any:
        try:
            return await self._tracker_store.keys()
        except Exception as exc:
            raise failed("keys", None, exc) from exc

    # the patch itself: mypy's method-assign is what this module is for
    FailSafeTrackerStore.retrieve = retrieve  # type: ignore[method-assign]
    FailSafeTrackerStore.retrieve_full_tracker = retrieve_full_tracker  # type: ignore[method-assign]
    FailSafeTrackerStore.save = save  # type: ignore[method-assign]
    FailSafeTrackerStore.keys = keys  # type: ignore[method-assign]
    FailSafeTrackerStore._loud = True  # type: ignore[attr-defined]
