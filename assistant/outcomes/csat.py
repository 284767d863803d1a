"""CSAT once per conversation, across every server (docs/analytics.md).

The widget's satisfaction question is logged at most once as ``asked`` and once as
``answered`` per conversation, however often the event is replayed (a reconnect, a
second tab) and whichever server behind the load balancer receives it. The claim is a
row keyed by (conversation, decision) in the handoff database: the first insert wins,
every later one hits the primary key and is refused. Nothing is kept in memory, so
nothing is forgotten after many conversations and a restart changes nothing.

The outcome row itself goes through the outcome log's queue (log.py, written about a
second later); the claim is what makes it once. Claims are purged and forgotten with
the outcome rows (assistant/retention/).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, String, Table, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ..handoff.db import create_schema
from ..handoff.schema import UTCDateTime, metadata

DECISIONS = ("asked", "answered")

csat_claims_table = Table(
    "analytics_csat_once",
    metadata,
    Column("conversation", String(128), primary_key=True),
    Column("decision", String(16), primary_key=True),  # asked | answered
    Column("at", UTCDateTime, nullable=False),
)


class CsatClaims:
    """``claim`` is True for the first asked / answered of a conversation, else False."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        create_schema(engine)

    def claim(self, conversation: str, decision: str, at: datetime) -> bool:
        if decision not in DECISIONS:
            raise ValueError(f"CSAT decision {decision!r} is not one of {DECISIONS}")
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(csat_claims_table),
                    {"conversation": conversation, "decision": decision, "at": at},
                )
        except IntegrityError:
            return False
        return True
