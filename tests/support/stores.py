"""Every row of every table of a database as text, to search a customer's data in
all of it (not only where we expect it): SQLite or PostgreSQL, any schema."""

from __future__ import annotations

import json

from sqlalchemy import MetaData, create_engine, select


def dump(url: str) -> dict[str, list[str]]:
    engine = create_engine(url, future=True)
    try:
        meta = MetaData()
        meta.reflect(engine)
        out: dict[str, list[str]] = {}
        with engine.connect() as conn:
            for table in meta.sorted_tables:
                out[table.name] = [
                    " | ".join("" if v is None else str(v) for v in row)
                    for row in conn.execute(select(table)).all()
                ]
        return out
    finally:
        engine.dispose()


def forms(text: str) -> set[str]:
    """The text as stored: raw, and as JSON escapes it (Rasa writes ensure_ascii JSON)."""
    return {text, json.dumps(text)[1:-1], json.dumps(text, ensure_ascii=False)[1:-1]}


def where(text: str, *urls: str) -> list[str]:
    """``table: row`` for every row in the databases that holds ``text`` in any form."""
    hits = []
    for url in urls:
        for table, rows in dump(url).items():
            hits += [f"{table}: {row[:200]}" for row in rows if any(f in row for f in forms(text))]
    return hits
