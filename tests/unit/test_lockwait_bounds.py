"""rasa_runtime/lockwait.py where Rasa's own tests found it behaving differently from
stock Rasa: a message queued behind a hung turn gave up never (stock: a LockError once
the holder's ticket expires), and TICKET_LOCK_LIFETIME=0 stopped start-up (stock reads
0 as "the default"). The lock store is Rasa's in-memory one; the patched `lock` is
called as a function, so Rasa's class stays unpatched for the other tests."""

from __future__ import annotations

import asyncio
import logging
import time

import pytest
import rasa.core.lock_store as rasa_lock_store
from rasa.core.lock_store import InMemoryLockStore, LockError

from rasa_runtime import lockwait


async def hung_turn(store, conversation, started: asyncio.Event, release: asyncio.Event):
    async with lockwait.lock(store, conversation, lock_lifetime=0.3):
        started.set()
        await release.wait()  # e.g. an action call that never returns


async def next_message(store, conversation) -> float:
    begun = time.monotonic()
    async with lockwait.lock(store, conversation, lock_lifetime=0.3):
        return time.monotonic() - begun


def test_a_message_behind_a_hung_turn_gives_up_with_a_clear_error(monkeypatch, caplog):
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "0.5")
    store = InMemoryLockStore()

    async def scenario():
        started, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hung_turn(store, "c1", started, release))
        await started.wait()
        begun = time.monotonic()
        with pytest.raises(LockError) as error:
            await next_message(store, "c1")
        waited = time.monotonic() - begun
        # the hung turn (renewed past its 0.3 s lifetime) still holds, alone
        assert [t.number for t in store.get_lock("c1").tickets] == [0]
        release.set()
        await holder
        return waited, error.value

    with caplog.at_level(logging.ERROR, logger="rasa_runtime.lockwait"):
        waited, error = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert 0.5 <= waited < 1.5
    assert "c1" in str(error) and "LOCK_WAIT_SECONDS" in str(error)
    assert any("LOCK_WAIT_SECONDS" in r.getMessage() for r in caplog.records)
    assert store.get_lock("c1") is None  # nothing left behind


def test_messages_queued_behind_a_hung_turn_do_not_pile_up(monkeypatch):
    """Five messages behind a hung turn all give up about LOCK_WAIT_SECONDS after
    they came; once the turn ends, the next message is served at once."""
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "0.4")
    store = InMemoryLockStore()

    async def scenario():
        started, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hung_turn(store, "c2", started, release))
        await started.wait()
        results = await asyncio.gather(
            *(next_message(store, "c2") for _ in range(5)), return_exceptions=True
        )
        assert all(isinstance(r, LockError) for r in results), results
        assert len(store.get_lock("c2").tickets) == 1  # only the hung turn's
        release.set()
        await holder
        return await next_message(store, "c2")

    waited = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert waited < 0.2


def test_a_slow_turn_within_the_bound_is_waited_for(monkeypatch):
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "2")
    store = InMemoryLockStore()

    async def scenario():
        started, release = asyncio.Event(), asyncio.Event()
        holder = asyncio.create_task(hung_turn(store, "c3", started, release))
        await started.wait()
        asyncio.get_running_loop().call_later(0.5, release.set)
        waited = await next_message(store, "c3")
        await holder
        return waited

    waited = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert 0.4 < waited < 1.0


@pytest.mark.parametrize("raw", ["0", "", "0.0"])
def test_lock_lifetime_zero_means_the_default_as_in_rasa(monkeypatch, raw):
    monkeypatch.delenv("TICKET_LOCK_LIFETIME", raising=False)
    ours_default = lockwait.lifetime_seconds()
    rasa_default = rasa_lock_store._get_lock_lifetime()
    monkeypatch.setenv("TICKET_LOCK_LIFETIME", raw)
    assert lockwait.lifetime_seconds() == ours_default == lockwait.DEFAULT_LIFETIME
    if raw == "0":  # Rasa reads it with int(): "" or "0.0" would stop Rasa itself
        assert rasa_lock_store._get_lock_lifetime() == rasa_default


def test_settings_are_checked_at_start(monkeypatch):
    for name, bad in [
        ("LOCK_WAIT_SECONDS", "0"),
        ("LOCK_WAIT_SECONDS", "-1"),
        ("TICKET_LOCK_LIFETIME", "-1"),
        ("LOCK_RETRY_SECONDS", "0"),
    ]:
        monkeypatch.setenv(name, bad)
        with pytest.raises(ValueError, match=name):
            lockwait.lifetime_seconds(), lockwait.retry_seconds(), lockwait.wait_seconds()
        monkeypatch.delenv(name)
    assert lockwait.wait_seconds() == 60.0
