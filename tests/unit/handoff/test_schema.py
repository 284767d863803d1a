"""One schema object for the whole handoff database: every table (tickets, live chat,
content, inbox, outcomes, training, LINE) is on ``schema.metadata``, created and migrated by
the same helper (db.create_schema, under one lock on PostgreSQL)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timezone

from sqlalchemy import MetaData, Table, inspect

from assistant.handoff import schema
from assistant.handoff import tables as handoff_tables
from assistant.handoff.db import create_schema, make_engine
from assistant.handoff.tickets import TICKET_COLUMNS, Ticket


def test_every_handoff_table_is_on_the_one_metadata():
    assert handoff_tables.metadatas() == [schema.metadata]
    declared = handoff_tables.tables()
    assert {"handoff_tickets", "training_trainees", "line_users"} <= set(declared)
    assert all(table.metadata is schema.metadata for table in declared.values())


def test_create_schema_adds_a_later_column_to_an_old_training_table(db_url):
    """An old database lacks a nullable column added later: the migration that covers the
    ticket tables adds it to the training tables too (they had a MetaData of their own)."""
    handoff_tables.metadatas()  # the table modules, imported
    old = MetaData()
    trainees = schema.metadata.tables["training_trainees"]
    Table(trainees.name, old, *[c.copy() for c in trainees.columns if c.name != "pending"])
    engine = make_engine(db_url)
    try:
        old.create_all(engine)
        with engine.connect() as conn:
            assert "pending" not in {c["name"] for c in inspect(conn).get_columns(trainees.name)}
        create_schema(engine)
        with engine.connect() as conn:
            assert "pending" in {c["name"] for c in inspect(conn).get_columns(trainees.name)}
    finally:
        engine.dispose()


def test_the_ticket_fields_are_declared_once():
    """The Ticket dataclass is the list: every field but the messages is a ticket column,
    and the webhook's JSON carries exactly the fields, in their order."""
    names = [f.name for f in fields(Ticket)]
    assert list(TICKET_COLUMNS) == [n for n in names if n != "messages"]
    assert set(TICKET_COLUMNS) <= set(schema.tickets_table.c.keys())
    at = datetime(2026, 12, 5, 1, 2, 3, tzinfo=timezone.utc)
    ticket = Ticket(
        "ESC-20261205-0001", "u1", "rest", at, "explicit", "質問", None, ["ACW"],
        [{"role": "user", "text": "質問"}], None, None, "open", None,
        messages=[{"id": 1, "text": "追記"}], claimed_at=at,
    )  # fmt: skip
    out = ticket.to_dict()
    assert list(out) == names
    assert out["created_at"] == out["claimed_at"] == "2026-12-05T01:02:03+00:00"
    assert out["closed_at"] is None and out["candidates"] == ["ACW"]
    assert (
        out["transcript"] == ticket.transcript and out["transcript"][0] is not ticket.transcript[0]
    )
    assert out["messages"] == ticket.messages and out["messages"][0] is not ticket.messages[0]
