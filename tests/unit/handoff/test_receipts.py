"""assistant/receipts.py on SQLite and a real PostgreSQL: claim outcomes, leases,
expiry, other senders, release; message id validation (table)."""

from __future__ import annotations

import pytest

from assistant.handoff.db import make_engine
from assistant.receipts import LEASE_SECONDS, ReceiptStore, message_id_problem, ttl_hours


@pytest.fixture
def receipts(db_url):
    engine = make_engine(db_url)
    yield ReceiptStore(engine, ttl_hours=1)
    engine.dispose()


def test_claim_outcomes(receipts):
    t = 1_000_000.0
    assert receipts.claim("m1", "alice", "rest", now=t).outcome == "new"
    assert receipts.claim("m1", "alice", "rest", now=t + 1).outcome == "busy"
    assert receipts.claim("m1", "bob", "rest", now=t + 1).outcome == "other_sender"
    receipts.finish("m1", [{"text": "答え"}])
    done = receipts.claim("m1", "alice", "rest", now=t + 2)
    assert done.outcome == "done" and done.reply == [{"text": "答え"}]
    assert receipts.claim("m1", "bob", "rest", now=t + 2).outcome == "other_sender"
    # after the expiry (1 h) the id is new again, for anyone
    assert receipts.claim("m1", "bob", "rest", now=t + 3601).outcome == "new"


def test_a_lease_that_ran_out_is_taken_over_once(receipts):
    t = 2_000_000.0
    assert receipts.claim("m2", "alice", "rest", now=t).outcome == "new"
    later = t + LEASE_SECONDS + 1
    assert receipts.claim("m2", "alice", "rest", now=later).outcome == "takeover"
    assert receipts.claim("m2", "alice", "rest", now=later).outcome == "busy"  # the new lease


def test_renewed_leases_are_not_taken_over(receipts):
    import time

    assert receipts.claim("m3", "alice", "socketio").outcome == "new"
    receipts.renew("m3", now=time.time() + LEASE_SECONDS)
    assert (
        receipts.claim("m3", "alice", "socketio", now=time.time() + LEASE_SECONDS + 1).outcome
        == "busy"
    )


def test_release_lets_the_retry_process(receipts):
    assert receipts.claim("m4", "alice", "rest").outcome == "new"
    receipts.release("m4")
    assert receipts.claim("m4", "alice", "rest").outcome == "new"
    receipts.finish("m4", [])
    receipts.release("m4")  # a done receipt is never released
    assert receipts.claim("m4", "alice", "rest").outcome == "done"


@pytest.mark.parametrize(
    "value,ok",
    [
        ("0b9a5c1e-2f57-4a0e-9a55-1b2b7f8a9c10", True),
        ("a", True),
        ("A.b_c:d-1", True),
        ("x" * 128, True),
        ("x" * 129, False),
        ("", False),
        ("-start", False),
        ("has space", False),
        ("日本語", False),
        ("a\n", False),
        (None, False),
        (12, False),
        (["a"], False),
        ("a%b", False),
        ('a"b', False),
    ],
)
def test_message_ids(value, ok):
    assert (message_id_problem(value) is None) is ok


@pytest.mark.parametrize(
    "raw,hours",
    [("", 24.0), ("1", 1.0), ("0.5", 0.5), ("0", None), ("-1", None), ("x", None), ("2161", None)],
)
def test_ttl_setting(raw, hours):
    if hours is None:
        with pytest.raises(ValueError, match="MESSAGE_ID_TTL_HOURS"):
            ttl_hours({"MESSAGE_ID_TTL_HOURS": raw})
    else:
        assert ttl_hours({"MESSAGE_ID_TTL_HOURS": raw}) == hours
