"""CSAT once per conversation (assistant/outcomes/csat.py, channels/live.py): the claim is
a row in the handoff database, so a replayed answer is refused however many other
conversations answered since (the old in-memory set was cleared at 50,000 entries) and
whichever server receives it. On SQLite and PostgreSQL (conftest.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select

from assistant.handoff.db import make_engine
from assistant.handoff.tickets import TicketStore
from assistant.outcomes.csat import CsatClaims, csat_claims_table
from assistant.outcomes.log import OutcomeStore
from channels.live import LiveChat

T0 = datetime(2026, 12, 5, 10, 0, tzinfo=timezone.utc)
OLD_CAP = 50_000  # the in-memory set this replaced was cleared past this many entries


@pytest.mark.parametrize(
    "claims, expected",
    [
        ([("c1", "answered")], [True]),
        ([("c1", "answered"), ("c1", "answered")], [True, False]),
        ([("c1", "asked"), ("c1", "answered"), ("c1", "asked")], [True, True, False]),
        ([("c1", "answered"), ("c2", "answered"), ("c1", "answered")], [True, True, False]),
    ],
)
def test_once_of_each_per_conversation(engine, claims, expected):
    csat = CsatClaims(engine)
    assert [csat.claim(conv, decision, T0) for conv, decision in claims] == expected


def test_an_unknown_decision_is_refused(engine):
    with pytest.raises(ValueError):
        CsatClaims(engine).claim("c1", "maybe", T0)


def test_a_second_server_refuses_what_the_first_took(db_url):
    one, two = make_engine(db_url), make_engine(db_url)  # two processes' engines
    try:
        assert CsatClaims(one).claim("c1", "answered", T0)
        assert not CsatClaims(two).claim("c1", "answered", T0)
        assert CsatClaims(two).claim("c2", "answered", T0)
        assert not CsatClaims(one).claim("c2", "answered", T0)
    finally:
        one.dispose()
        two.dispose()


def test_still_refused_after_more_than_the_old_cap_of_other_answers(engine):
    csat = CsatClaims(engine)
    assert csat.claim("first", "answered", T0)
    # the others in one statement (a claim per transaction is 50 s on a SQLite file),
    # then more through the code under test
    with engine.begin() as conn:
        conn.execute(
            insert(csat_claims_table),
            [
                {"conversation": f"other-{i}", "decision": "answered", "at": T0}
                for i in range(OLD_CAP + 1)
            ],
        )
    for i in range(3):
        assert csat.claim(f"later-{i}", "answered", T0)
    assert not csat.claim("first", "answered", T0)
    with engine.connect() as conn:
        count = select(func.count()).select_from(csat_claims_table)
        assert conn.execute(count).scalar_one() >= OLD_CAP + 5


def test_live_chat_logs_one_answer_from_two_servers(db_url):
    """Two LiveChat objects (two Rasa servers) on one database, the same answer replayed
    on both: one `answered` outcome row, one `asked`."""
    stores = [TicketStore(db_url), TicketStore(db_url)]
    lives = [LiveChat(s) for s in stores]

    async def run() -> list[bool]:
        return [
            await lives[0].record_csat("cust-1", "socketio", None),
            await lives[1].record_csat("cust-1", "socketio", None),
            await lives[0].record_csat("cust-1", "socketio", 5),
            await lives[1].record_csat("cust-1", "socketio", 4),
            await lives[0].record_csat("cust-1", "socketio", 1),
        ]

    try:
        assert asyncio.run(run()) == [True, False, True, False, False]
        for live in lives:
            live.outcomes.stop()
        rows = OutcomeStore(stores[0].engine).rows("2000-01-01", "2999-12-31", ["csat"])
        assert sorted((r.decision, r.value) for r in rows) == [("answered", 5.0), ("asked", None)]
    finally:
        for s in stores:
            s.dispose()
