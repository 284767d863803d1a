"""A quiz session over the store: start, the next question (Leitner-weighted, not
repeating a term within the session), an answer (feedback, then the next question or
the summary). The random source is seeded per session and question number, so a
session is reproducible."""

from __future__ import annotations

import random
import zlib

from ..glossary import Glossary
from ..replies import Reply
from . import replies, schedule
from .answers import match_answer
from .quiz import Question, make_question, pick_kind
from .store import TrainingStore

DEFAULT_QUESTIONS = 10


def _rng(seed: int, number: int) -> random.Random:
    return random.Random(seed * 1000 + number)


def seed_for(sender: str, session_id: int) -> int:
    return zlib.crc32(f"{sender}:{session_id}".encode()) & 0x7FFFFFFF  # fits INTEGER


class Trainer:
    """Quizzes over one glossary: the action server builds one per turn on that turn's
    content revision (actions/services.trainer), so a term added, fixed or disabled in
    the content studio is asked (or no longer asked) from the next turn, without a
    restart. The store keeps the progress across revisions: a pending question whose term
    was disabled meanwhile is withdrawn (not graded, not counted in the total), and
    weak-term lists name enabled terms only."""

    def __init__(self, store: TrainingStore, glossary: Glossary, total: int = DEFAULT_QUESTIONS):
        self.store = store
        self.glossary = glossary
        self.total = total

    def _enabled(self, terms: list[str]) -> list[str]:
        return [t for t in terms if self.glossary.get(t) is not None]

    def trainee(self, sender: str) -> str:
        state = self.store.state(sender)
        return state.trainee if state is not None else sender

    def active(self, sender: str) -> tuple[bool, bool]:
        """(in training mode, a question pending)."""
        state = self.store.state(sender)
        if state is None:
            return False, False
        return state.active, bool(state.active and state.pending)

    def start(
        self, sender: str, category: str | None = None, questions: int | None = None
    ) -> list[Reply]:
        trainee = self.trainee(sender)
        total = questions or self.total
        if category is not None and not any(t.category == category for t in self.glossary):
            category = None
        session_id = self.store.start_session(trainee, total, 0, category)
        self.store.set_seed(session_id, seed_for(sender, session_id))
        self.store.set_state(sender, active=True, session_id=session_id, pending=None)
        return [replies.started(category, total), *self._next(sender, session_id)]

    def stop(self, sender: str) -> list[Reply]:
        state = self.store.state(sender)
        if state is not None and state.session_id is not None:
            s = self.store.session(state.session_id)
            if s is not None and s.finished is None:
                self.store.finish_session(s.id)
        self.store.set_state(sender, active=False, pending=None)
        return [replies.stopped(None, None)]

    def _next(self, sender: str, session_id: int) -> list[Reply]:
        s = self.store.session(session_id)
        assert s is not None
        trainee = self.trainee(sender)
        # Only the terms of this revision (a disabled term is not in the glossary).
        terms = [t.term for t in self.glossary if s.category in (None, t.category)]
        if s.asked >= s.total or not terms:  # done, or nothing left to ask (all disabled)
            # The total is what was asked and graded: withdrawn questions are not asked
            # (answer()), and a quiz whose terms all left ends with fewer.
            self.store.finish_session(session_id, total=s.asked if s.asked < s.total else None)
            self.store.set_state(sender, pending=None)
            weak = self._enabled(self.store.weak_terms(trainee))
            return [replies.summary(s.correct, s.asked, weak)]
        number = s.asked + 1
        rng = _rng(s.seed, number)
        # No term twice in a session while others remain (terms asked, then disabled, do
        # not count: the remaining ones are the enabled terms not asked yet).
        asked = set(s.asked_terms) & set(terms)
        exclude = asked if len(asked) < len(terms) else set()
        headword = schedule.pick_term(terms, self.store.boxes(trainee), rng, exclude)
        assert headword is not None
        term = self.glossary.get(headword)
        assert term is not None
        q = make_question(self.glossary, headword, pick_kind(term, self.glossary, rng), rng)
        qid = f"{session_id}-{len(s.asked_terms) + 1}"  # unique: a withdrawn number is reused
        self.store.mark_asked(session_id, headword)
        self.store.set_state(sender, pending={"id": qid, "number": number, **q.to_dict()})
        return [replies.question(q, number, s.total, qid, s.category)]

    def answer(self, sender: str, text: str) -> list[Reply]:
        state = self.store.state(sender)
        if state is None or not state.pending or state.session_id is None:
            return [replies.no_question()]
        q = Question.from_dict(state.pending)
        s = self.store.session(state.session_id)
        assert s is not None
        if self.glossary.get(q.term) is None:
            # Its term was disabled in the content studio after it was asked: not graded
            # (its definition is no longer what the bot teaches) and not counted: another
            # question takes its number, the quiz still has its total of answerable ones.
            self.store.withdraw(s.id)
            return [replies.withdrawn(q, s.total, s.category), *self._next(sender, s.id)]
        chosen = match_answer(q, text, self.glossary)
        correct = chosen == q.answer
        trainee = state.trainee
        self.store.record_answer(trainee, state.session_id, q.term, q.kind, correct, text)
        s = self.store.session(state.session_id)
        assert s is not None
        number = int(state.pending.get("number") or s.asked)
        out = [replies.feedback(q, chosen, number, s.total, s.correct)]
        return out + self._next(sender, state.session_id)

    def weak(self, sender: str) -> list[Reply]:
        trainee = self.trainee(sender)
        boxes = self.store.boxes(trainee)
        wrong = self.store.wrong_counts(trainee)
        weak = self._enabled(schedule.weak(boxes, wrong))
        return [replies.weak_terms([(t, wrong[t], boxes[t]) for t in weak])]

    def set_name(self, sender: str, name: str) -> list[Reply]:
        """Progress from now on under `name` (another device, another day: same record)."""
        self.store.set_state(sender, trainee=name)
        return [replies.trainee_name(name, len(self.store.sessions_of(name)))]
