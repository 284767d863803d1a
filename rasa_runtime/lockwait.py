"""Rasa's conversation lock store, fixed for bursts and for several servers.

Rasa 3.6 serialises the messages of one conversation with a ticket lock
(`rasa.core.lock_store`). Three problems, measured with 20 messages sent at once
into one conversation (README, Scale-out):

* **1 second per message.** A waiting message sleeps `wait_time_in_seconds`
  (1 s, hard-wired in `Agent.handle_message`) between looks at the lock, so 20
  messages that each need ~0.1 s are served at about one per second. Here a waiter
  is woken at once when a message of the same conversation finishes in this
  process, and otherwise looks again every LOCK_RETRY_SECONDS (default 0.02 s:
  the lock is released by another server).
* **Races between servers.** The Redis lock store reads the lock, changes it in
  Python and writes it back: two servers issuing a ticket at the same moment get
  the same number (both process the conversation at once: one tracker save
  overwrites the other's events), and a waiter saving the lock can drop a ticket
  another server just issued. Here every change is one optimistic Redis
  transaction (WATCH / MULTI / EXEC, retried on conflict).
* **A dead server blocks its conversations for a minute.** A server killed while
  processing leaves its ticket behind until it expires (TICKET_LOCK_LIFETIME,
  default 60 s); waiting tickets expire the same way, even when a burst is merely
  slow, and then the waiters never get the lock. Here a live process renews its
  own tickets (waiting and holding) every third of the lifetime, so the lifetime
  can be short (TICKET_LOCK_LIFETIME, default here 10 s): only a dead process's
  tickets run out.

Because a live process renews its tickets, a turn that hangs (an action call that never
returns) would hold its conversation for good. A message waits at most
LOCK_WAIT_SECONDS (default 60 s, about what stock Rasa's 60 s ticket lifetime gives it)
and then fails with Rasa's `LockError`, logged as an error naming the conversation and
the wait: later messages do not pile up silently behind the hung one.
TICKET_LOCK_LIFETIME=0 means "the default", as in Rasa (`int(...) or 60`).

`apply()` is called by `python -m rasa_runtime` before Rasa starts.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, Callable
from contextlib import asynccontextmanager
from typing import Any

from assistant.settings import get_settings

logger = logging.getLogger(__name__)

RETRY_ENV = "LOCK_RETRY_SECONDS"
LIFETIME_ENV = "TICKET_LOCK_LIFETIME"  # Rasa's own variable
WAIT_ENV = "LOCK_WAIT_SECONDS"
DEFAULT_RETRY = 0.02
DEFAULT_LIFETIME = 10.0
DEFAULT_WAIT = 60.0

# What a change of a lock asks the store to do with it afterwards.
KEEP, SAVE, DELETE = "keep", "save", "delete"


# Read, checked and documented in assistant/settings.py (a bad value: SettingsError).
def retry_seconds() -> float:
    return get_settings().lock_retry_seconds


def lifetime_seconds() -> float:
    """TICKET_LOCK_LIFETIME; unset or 0 is the default, as Rasa reads it."""
    return get_settings().lock_lifetime()


def wait_seconds() -> float:
    return get_settings().lock_wait_seconds


class Releases:
    """Wakes the waiters of a conversation in this process (this event loop) when a
    ticket of that conversation is given back here."""

    def __init__(self) -> None:
        # (event loop, conversation) → [asyncio.Event, number of waiters]
        self._events: dict[tuple[int, str], list[Any]] = {}

    @staticmethod
    def _key(conversation_id: str) -> tuple[int, str] | None:
        try:
            return id(asyncio.get_running_loop()), conversation_id
        except RuntimeError:  # not called from a coroutine: nobody here to wake
            return None

    async def wait(self, conversation_id: str, timeout: float) -> None:
        key = (id(asyncio.get_running_loop()), conversation_id)  # a coroutine: in a loop
        entry = self._events.get(key)
        if entry is None:
            entry = self._events[key] = [asyncio.Event(), 0]
        entry[1] += 1
        try:
            await asyncio.wait_for(entry[0].wait(), timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            entry[1] -= 1
            if entry[1] == 0 and self._events.get(key) is entry:
                del self._events[key]

    def notify(self, conversation_id: str) -> None:
        key = self._key(conversation_id)
        entry = self._events.pop(key, None) if key else None
        if entry is not None:
            entry[0].set()


RELEASES = Releases()

Change = Callable[[Any], tuple[Any, str, Any]]  # lock or None → (result, KEEP/SAVE/DELETE, lock)


def _modify_plain(store: Any, conversation_id: str, change: Change) -> Any:
    """Stores whose calls cannot interleave (in memory, one event loop)."""
    result, action, lock = change(store.get_lock(conversation_id))
    if action == SAVE:
        store.save_lock(lock)
    elif action == DELETE:
        store.delete_lock(conversation_id)
    return result


def _modify_redis(store: Any, conversation_id: str, change: Change) -> Any:
    """Read, change and write the lock as one transaction: if another server wrote
    it in between, EXEC fails and the change is made again on the new value."""
    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import LockError
    from redis.exceptions import WatchError

    key = store.key_prefix + conversation_id
    with store.red.pipeline() as pipe:
        for _ in range(1000):
            try:
                pipe.watch(key)
                raw = pipe.get(key)
                lock = TicketLock.from_dict(json.loads(raw)) if raw else None
                result, action, lock = change(lock)
                if action == KEEP:
                    pipe.unwatch()
                    return result
                pipe.multi()
                if action == SAVE:
                    pipe.set(key, lock.dumps())
                else:
                    pipe.delete(key)
                pipe.execute()
                return result
            except WatchError:
                continue
    raise LockError(f"lock for conversation '{conversation_id}' kept changing")


def _modify(store: Any, conversation_id: str, change: Change) -> Any:
    from rasa.core.lock_store import RedisLockStore

    if isinstance(store, RedisLockStore):
        return _modify_redis(store, conversation_id, change)
    return _modify_plain(store, conversation_id, change)


# -- the lock operations, each one change ------------------------------------------


def issue_ticket(store: Any, conversation_id: str, lock_lifetime: float) -> int:
    from rasa.core.lock import TicketLock
    from rasa.core.lock_store import LockError

    def change(lock: Any) -> tuple[Any, str, Any]:
        lock = lock or TicketLock(conversation_id)
        return lock.issue_ticket(lock_lifetime), SAVE, lock

    try:
        ticket: int = _modify(store, conversation_id, change)
        return ticket
    except LockError:
        raise
    except Exception as e:  # as Rasa's LockStore.issue_ticket: any store error is a LockError
        raise LockError(f"Error while acquiring lock. Error:\n{e}") from e


def renew_ticket(store: Any, conversation_id: str, ticket: int, lock_lifetime: float) -> bool:
    """Push the expiry of our own ticket forward; False if it is gone."""

    def change(lock: Any) -> tuple[Any, str, Any]:
        if lock is None:
            return False, KEEP, lock
        for t in lock.tickets:
            if t.number == ticket:
                t.expires = time.time() + lock_lifetime
                return True, SAVE, lock
        return False, KEEP, lock

    renewed: bool = _modify(store, conversation_id, change)
    return renewed


def finish(store: Any, conversation_id: str, ticket: int) -> None:
    """Give our ticket back; the lock goes when nobody else holds a ticket."""

    def change(lock: Any) -> tuple[Any, str, Any]:
        if lock is None:
            return None, KEEP, lock
        lock.remove_ticket_for(ticket)  # also drops expired tickets
        return None, (SAVE if lock.is_someone_waiting() else DELETE), lock

    _modify(store, conversation_id, change)
    RELEASES.notify(conversation_id)


def drop_expired(store: Any, conversation_id: str) -> None:
    """Remove expired tickets (a dead server's), writing only if there were any."""

    def change(lock: Any) -> tuple[Any, str, Any]:
        if lock is None:
            return None, KEEP, lock
        before = len(lock.tickets)
        lock.remove_expired_tickets()
        return None, (SAVE if len(lock.tickets) != before else KEEP), lock

    _modify(store, conversation_id, change)


async def acquire(
    store: Any, conversation_id: str, ticket: int, wait_time_in_seconds: float
) -> Any:
    """Wait until `ticket` is the one served. Woken at once by a release in this
    process, else looks again every min(wait_time_in_seconds, LOCK_RETRY_SECONDS);
    gives up with LockError after LOCK_WAIT_SECONDS."""
    from rasa.core.lock_store import LockError

    poll = min(wait_time_in_seconds, retry_seconds())
    limit = wait_seconds()
    deadline = time.monotonic() + limit
    while True:
        lock = store.get_lock(conversation_id)
        if not lock:  # every ticket, ours too, expired or was removed
            raise LockError(f"Could not acquire lock for conversation_id '{conversation_id}'.")
        if not lock.is_locked(ticket):
            return lock
        left = deadline - time.monotonic()
        if left <= 0:
            ahead = ticket - (lock.now_serving or 0)
            message = (
                f"Could not acquire lock for conversation_id '{conversation_id}': waited "
                f"{limit:g} s ({WAIT_ENV}) behind {ahead} message(s) still being processed "
                f"(ticket {lock.now_serving} holds it); this message is dropped"
            )
            logger.error(message)
            raise LockError(message)
        await RELEASES.wait(conversation_id, min(poll, left))
        drop_expired(store, conversation_id)


async def _keep_renewed(store: Any, conversation_id: str, ticket: int, lifetime: float) -> None:
    while True:
        await asyncio.sleep(lifetime / 3)
        try:
            if not renew_ticket(store, conversation_id, ticket, lifetime):
                logger.warning(
                    "lock ticket %s of conversation %s expired before renewal",
                    ticket,
                    conversation_id,
                )
                return
        except Exception as e:  # noqa: BLE001 any store error (Redis down for a moment): the next round tries again
            logger.warning("could not renew lock ticket of conversation %s: %s", conversation_id, e)


@asynccontextmanager
async def lock(
    self: Any,
    conversation_id: str,
    lock_lifetime: float | None = None,
    wait_time_in_seconds: float = 1,
) -> AsyncGenerator[Any, None]:
    """LockStore.lock with the three fixes above (same signature and errors)."""
    lifetime = lifetime_seconds() if lock_lifetime is None else lock_lifetime
    ticket = issue_ticket(self, conversation_id, lifetime)
    renewer = asyncio.get_running_loop().create_task(
        _keep_renewed(self, conversation_id, ticket, lifetime)
    )
    try:
        yield await acquire(self, conversation_id, ticket, wait_time_in_seconds)
    finally:
        renewer.cancel()
        finish(self, conversation_id, ticket)


def apply() -> None:
    from rasa.core.lock_store import LockStore

    from rasa_runtime import rasa_version

    rasa_version.check("rasa_runtime.lockwait")
    if getattr(LockStore, "_cc_lockwait", False):
        return
    lifetime_seconds(), retry_seconds(), wait_seconds()  # a bad value fails at start
    # the patch itself: mypy's method-assign is what this module is for
    LockStore.lock = lock  # type: ignore[method-assign]
    LockStore.issue_ticket = (  # type: ignore[method-assign]
        lambda self, conversation_id, lock_lifetime=None: issue_ticket(
            self, conversation_id, lifetime_seconds() if lock_lifetime is None else lock_lifetime
        )
    )
    LockStore.cleanup = (  # type: ignore[method-assign]
        lambda self, conversation_id, ticket_number: finish(self, conversation_id, ticket_number)
    )
    LockStore.update_lock = (  # type: ignore[method-assign]
        lambda self, conversation_id: drop_expired(self, conversation_id)
    )
    LockStore._cc_lockwait = True  # type: ignore[attr-defined]
