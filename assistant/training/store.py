"""Trainee progress in SQL, in the same database as the handoff tickets (HANDOFF_DB_URL:
SQLite by default, PostgreSQL supported): the mode and pending question per sender,
every answer, every session's score, per-term mastery (Leitner box) and the words
trainees asked about that the glossary lacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Integer,
    String,
    Table,
    Text,
    case,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from ..handoff.db import create_schema, make_engine, reading
from ..handoff.schema import UTCDateTime, metadata, now_utc
from . import schedule

trainees = Table(
    "training_trainees",
    metadata,
    Column("sender", String(200), primary_key=True),
    Column("trainee", String(200), nullable=False),
    Column("active", Boolean, nullable=False, default=False),
    Column("session_id", Integer, nullable=True),
    Column("pending", JSON, nullable=True),
    Column("updated", UTCDateTime, nullable=False),
)
sessions = Table(
    "training_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trainee", String(200), nullable=False, index=True),
    Column("category", String(100), nullable=True),
    Column("total", Integer, nullable=False),
    Column("asked", Integer, nullable=False, default=0),
    Column("correct", Integer, nullable=False, default=0),
    Column("seed", Integer, nullable=False),
    Column("asked_terms", JSON, nullable=False),
    Column("started", UTCDateTime, nullable=False),
    Column("finished", UTCDateTime, nullable=True),
)
answers = Table(
    "training_answers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trainee", String(200), nullable=False, index=True),
    Column("session_id", Integer, nullable=False),
    Column("term", String(200), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("correct", Boolean, nullable=False),
    Column("answer", Text, nullable=False),
    Column("time", UTCDateTime, nullable=False),
)
mastery = Table(
    "training_mastery",
    metadata,
    Column("trainee", String(200), primary_key=True),
    Column("term", String(200), primary_key=True),
    Column("box", Integer, nullable=False),
    Column("right", Integer, nullable=False, default=0),
    Column("wrong", Integer, nullable=False, default=0),
    Column("updated", UTCDateTime, nullable=False),
)
gaps = Table(
    "training_glossary_gaps",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trainee", String(200), nullable=False),
    Column("query", String(200), nullable=False),
    Column("time", UTCDateTime, nullable=False),
)


@dataclass(frozen=True)
class TraineeState:
    sender: str
    trainee: str
    active: bool
    session_id: int | None
    pending: dict[str, Any] | None


@dataclass(frozen=True)
class Session:
    id: int
    trainee: str
    category: str | None
    total: int
    asked: int
    correct: int
    seed: int
    asked_terms: tuple[str, ...]
    finished: datetime | None


class TrainingStore:
    def __init__(self, url_or_engine: str | Engine) -> None:
        self.engine = (
            make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
        )
        create_schema(self.engine)  # with every other table, under one lock (PostgreSQL)

    # --- mode and pending question -------------------------------------------------
    def state(self, sender: str) -> TraineeState | None:
        with reading(self.engine) as conn:
            row = conn.execute(select(trainees).where(trainees.c.sender == sender)).first()
        if row is None:
            return None
        return TraineeState(row.sender, row.trainee, bool(row.active), row.session_id, row.pending)

    def set_state(self, sender: str, **values: Any) -> TraineeState:
        values["updated"] = now_utc()
        with self.engine.begin() as conn:
            found = conn.execute(
                select(trainees.c.sender).where(trainees.c.sender == sender)
            ).first()
            if found is None:
                values.setdefault("trainee", sender)
                values.setdefault("active", False)
                conn.execute(insert(trainees).values(sender=sender, **values))
            else:
                conn.execute(update(trainees).where(trainees.c.sender == sender).values(**values))
        state = self.state(sender)
        assert state is not None
        return state

    # --- sessions ------------------------------------------------------------------
    def start_session(self, trainee: str, total: int, seed: int, category: str | None) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(sessions).values(
                    trainee=trainee,
                    category=category,
                    total=total,
                    asked=0,
                    correct=0,
                    seed=seed,
                    asked_terms=[],
                    started=now_utc(),
                )
            )
            return int(result.inserted_primary_key[0])

    def set_seed(self, session_id: int, seed: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == session_id).values(seed=seed))

    def session(self, session_id: int) -> Session | None:
        with reading(self.engine) as conn:
            r = conn.execute(select(sessions).where(sessions.c.id == session_id)).first()
        if r is None:
            return None
        return Session(
            r.id,
            r.trainee,
            r.category,
            r.total,
            r.asked,
            r.correct,
            r.seed,
            tuple(r.asked_terms or ()),
            r.finished,
        )

    def mark_asked(self, session_id: int, term: str) -> None:
        s = self.session(session_id)
        assert s is not None
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id)
                .values(asked=s.asked + 1, asked_terms=[*s.asked_terms, term])
            )

    def withdraw(self, session_id: int) -> None:
        """The pending question's term left the glossary before it was answered: it no
        longer counts as asked (the term stays in ``asked_terms``: it was shown)."""
        with self.engine.begin() as conn:
            conn.execute(
                update(sessions)
                .where(sessions.c.id == session_id, sessions.c.asked > 0)
                .values(asked=sessions.c.asked - 1)
            )

    def finish_session(self, session_id: int, total: int | None = None) -> None:
        """Mark the session finished; ``total`` = the questions it really had, when it
        ended before the planned number (its category lost every term)."""
        values: dict[str, Any] = {"finished": now_utc()}
        if total is not None:
            values["total"] = total
        with self.engine.begin() as conn:
            conn.execute(update(sessions).where(sessions.c.id == session_id).values(**values))

    def sessions_of(self, trainee: str) -> list[Session]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(sessions.c.id).where(sessions.c.trainee == trainee).order_by(sessions.c.id)
            ).all()
        return [s for s in (self.session(r.id) for r in rows) if s is not None]

    # --- answers and mastery -------------------------------------------------------
    def record_answer(
        self, trainee: str, session_id: int, term: str, kind: str, correct: bool, answer: str
    ) -> int:
        """Store the answer, count it in the session, move the term's box; the new box."""
        now = now_utc()
        with self.engine.begin() as conn:
            conn.execute(
                insert(answers).values(
                    trainee=trainee,
                    session_id=session_id,
                    term=term,
                    kind=kind,
                    correct=correct,
                    answer=answer[:500],
                    time=now,
                )
            )
            if correct:
                conn.execute(
                    update(sessions)
                    .where(sessions.c.id == session_id)
                    .values(correct=sessions.c.correct + 1)
                )
            row = conn.execute(
                select(mastery).where(mastery.c.trainee == trainee, mastery.c.term == term)
            ).first()
            if row is None:
                box = schedule.next_box(schedule.NEW_BOX, correct)
                conn.execute(
                    insert(mastery).values(
                        trainee=trainee,
                        term=term,
                        box=box,
                        right=int(correct),
                        wrong=int(not correct),
                        updated=now,
                    )
                )
            else:
                box = schedule.next_box(row.box, correct)
                conn.execute(
                    update(mastery)
                    .where(mastery.c.trainee == trainee, mastery.c.term == term)
                    .values(
                        box=box,
                        right=row.right + int(correct),
                        wrong=row.wrong + int(not correct),
                        updated=now,
                    )
                )
        return box

    def boxes(self, trainee: str) -> dict[str, int]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(mastery.c.term, mastery.c.box).where(mastery.c.trainee == trainee)
            ).all()
        return {r.term: r.box for r in rows}

    def wrong_counts(self, trainee: str) -> dict[str, int]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(mastery.c.term, mastery.c.wrong).where(mastery.c.trainee == trainee)
            ).all()
        return {r.term: r.wrong for r in rows}

    def weak_terms(self, trainee: str) -> list[str]:
        return schedule.weak(self.boxes(trainee), self.wrong_counts(trainee))

    def answers_of(self, trainee: str) -> list[dict[str, Any]]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(answers).where(answers.c.trainee == trainee).order_by(answers.c.id)
            ).all()
        return [dict(r._mapping) for r in rows]

    def hardest_terms(self, limit: int = 10) -> list[tuple[str, int, int]]:
        """(term, wrong, answered) over every trainee, most often missed first."""
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(
                    answers.c.term,
                    func.sum(case((answers.c.correct, 1), else_=0)).label("right"),
                    func.count().label("n"),
                ).group_by(answers.c.term)
            ).all()
        table = [(r.term, int(r.n) - int(r.right or 0), int(r.n)) for r in rows]
        table = [t for t in table if t[1] > 0]
        return sorted(table, key=lambda t: (-t[1] / t[2], -t[1], t[0]))[:limit]

    def trainee_names(self) -> list[str]:
        with reading(self.engine) as conn:
            rows = conn.execute(select(sessions.c.trainee).distinct()).all()
        return sorted(r.trainee for r in rows)

    # --- glossary gaps --------------------------------------------------------------
    def record_gap(self, trainee: str, query: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(gaps).values(trainee=trainee, query=query[:200], time=now_utc()))

    def glossary_gaps(self) -> list[tuple[str, int]]:
        with reading(self.engine) as conn:
            rows = conn.execute(
                select(gaps.c.query, func.count().label("n"))
                .group_by(gaps.c.query)
                .order_by(func.count().desc(), gaps.c.query)
            ).all()
        return [(r.query, int(r.n)) for r in rows]
