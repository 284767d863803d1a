"""Every table of the handoff database, whichever module declares it.

Tables are declared next to the code that uses them (handoff/schema.py, outcomes/,
training/, …), all on the one ``schema.metadata``. ``HANDOFF_TABLE_MODULES`` names every
module that declares one; ``metadatas()`` imports them all, so ``db.create_schema`` creates
(and ``db.add_missing_columns`` migrates) every table whichever server or tool opens the
database first, and the retention registry (assistant/retention/registry.py) is checked
against all of them. tests/unit/handoff/test_schema.py fails when a module declares a
table on a MetaData of its own. tests/unit/handoff/test_retention.py fails when a module under
assistant/ declares a Table without being listed here (or in ``TRACKER_TABLE_MODULES``).
"""

from __future__ import annotations

import importlib

from sqlalchemy import MetaData, Table

HANDOFF_TABLE_MODULES = (
    "assistant.content.store",
    "assistant.handoff.schema",
    "assistant.inbox.store",
    "assistant.line.store",
    "assistant.outcomes.csat",
    "assistant.outcomes.log",
    "assistant.outcomes.rollup",
    "assistant.training.store",
)
# Tables kept in Rasa's tracker store (same database as its ``events``).
TRACKER_TABLE_MODULES = ("assistant.receipts",)


def metadatas(modules: tuple[str, ...] = HANDOFF_TABLE_MODULES) -> list[MetaData]:
    """The MetaData objects of the modules' tables (imported here), each once."""
    found: list[MetaData] = []
    for name in modules:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, MetaData) and all(value is not m for m in found):
                found.append(value)
    return found


def tables(modules: tuple[str, ...] = HANDOFF_TABLE_MODULES) -> dict[str, Table]:
    """Every table the modules declare, by name."""
    return {t.name: t for meta in metadatas(modules) for t in meta.sorted_tables}
