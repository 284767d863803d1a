"""rasa_runtime/lockwait.py: Rasa's conversation lock store with a short wait,
atomic Redis updates and renewed tickets. Stock Rasa 3.6 serves 20 messages sent
at once into one conversation at about one per second (each waiter sleeps 1 s
between looks at the lock): the first test takes ~19 s there and fails."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from rasa.core.lock_store import InMemoryLockStore, RedisLockStore

from rasa_runtime import lockwait

HOLD = 0.03  # seconds a message keeps the lock (NLU + policies + action call, roughly)


@pytest.fixture(autouse=True, scope="module")
def patched():
    lockwait.apply()  # what `python -m rasa_runtime` does before Rasa starts


class Overlap:
    """Counts messages inside the lock at once (must never exceed 1)."""

    def __init__(self):
        self.inside = 0
        self.most = 0
        self.served = []
        self._guard = threading.Lock()

    def enter(self, n):
        with self._guard:
            self.inside += 1
            self.most = max(self.most, self.inside)
            self.served.append(n)

    def leave(self):
        with self._guard:
            self.inside -= 1


async def burst(store, conversation, count, overlap, first=0, hold=HOLD):
    async def one(n):
        async with store.lock(conversation):  # Agent.handle_message's call: default wait
            overlap.enter(n)
            await asyncio.sleep(hold)
            overlap.leave()

    await asyncio.gather(*(one(first + n) for n in range(count)))


def test_twenty_messages_in_one_conversation_are_served_back_to_back():
    store, overlap = InMemoryLockStore(), Overlap()
    started = time.monotonic()
    asyncio.run(asyncio.wait_for(burst(store, "c1", 20, overlap), timeout=5))
    took = time.monotonic() - started
    assert sorted(overlap.served) == list(range(20)) and overlap.most == 1
    assert took < 20 * HOLD + 1.0, f"20 messages took {took:.2f}s"
    assert store.get_lock("c1") is None  # nothing left behind


def test_two_servers_share_a_redis_lock_without_races(redis_port):
    """Two processes' lock stores on one Redis, 10 messages each into the same
    conversation at once: all served, one at a time, quickly."""
    conversation = f"c-{uuid.uuid4().hex}"
    overlap, errors = Overlap(), []

    def server(first):
        store = RedisLockStore(host="127.0.0.1", port=redis_port, db=1)
        try:
            asyncio.run(
                asyncio.wait_for(burst(store, conversation, 10, overlap, first), timeout=20)
            )
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(repr(e))

    started = time.monotonic()
    threads = [threading.Thread(target=server, args=(first,)) for first in (0, 100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    took = time.monotonic() - started
    assert not errors
    assert sorted(overlap.served) == list(range(10)) + list(range(100, 110))
    assert overlap.most == 1, "two servers processed the conversation at the same time"
    assert took < 20 * HOLD + 3.0, f"20 messages over two servers took {took:.2f}s"
    assert RedisLockStore(host="127.0.0.1", port=redis_port, db=1).get_lock(conversation) is None


def test_a_dead_servers_ticket_blocks_only_until_its_lifetime(redis_port):
    store = RedisLockStore(host="127.0.0.1", port=redis_port, db=1)
    conversation = f"c-{uuid.uuid4().hex}"
    store.issue_ticket(conversation, 1.0)  # a server that died holding the lock (never renewed)

    async def next_message():
        started = time.monotonic()
        async with store.lock(conversation, lock_lifetime=1.0):
            return time.monotonic() - started

    waited = asyncio.run(asyncio.wait_for(next_message(), timeout=10))
    assert 0.8 < waited < 2.0


def test_a_live_holder_keeps_its_lock_past_the_lifetime(redis_port):
    """A turn longer than the lifetime (slow action server) is not cut short: the
    holder renews its ticket, so the next message still waits for it."""
    store = RedisLockStore(host="127.0.0.1", port=redis_port, db=1)
    conversation = f"c-{uuid.uuid4().hex}"
    overlap = Overlap()

    async def both():
        async def slow():
            async with store.lock(conversation, lock_lifetime=0.6):
                overlap.enter("slow")
                await asyncio.sleep(2.0)
                overlap.leave()

        async def next_one():
            await asyncio.sleep(0.1)
            async with store.lock(conversation, lock_lifetime=0.6):
                overlap.enter("next")
                overlap.leave()

        await asyncio.gather(slow(), next_one())

    asyncio.run(asyncio.wait_for(both(), timeout=10))
    assert overlap.served == ["slow", "next"] and overlap.most == 1


def test_settings_are_checked(monkeypatch):
    monkeypatch.setenv("LOCK_RETRY_SECONDS", "0")
    with pytest.raises(ValueError):
        lockwait.retry_seconds()
    monkeypatch.setenv("TICKET_LOCK_LIFETIME", "-1")
    with pytest.raises(ValueError):
        lockwait.lifetime_seconds()
    monkeypatch.delenv("TICKET_LOCK_LIFETIME")
    monkeypatch.delenv("LOCK_RETRY_SECONDS")
    assert lockwait.lifetime_seconds() == 10.0 and lockwait.retry_seconds() == 0.02
