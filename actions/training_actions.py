"""Training mode in the action server: the trainee store (same database as the
tickets) and carrying out the router's training decisions (assistant/training/)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.routing import Decision, Route
from assistant.training import quiz
from assistant.training import replies as training_replies
from assistant.training.session import Trainer
from assistant.training.store import TrainingStore

from . import handoff_services as services
from .common import glossary, send, user_text


def trainer() -> Trainer:
    """The trainer on the ticket store's engine (follows it when tests replace the store)."""
    return _trainer(services.store().engine, glossary())


@lru_cache(maxsize=2)
def _trainer(engine: Any, content: Any) -> Trainer:
    return Trainer(TrainingStore(engine), content)


def state(sender: str) -> tuple[bool, bool]:
    """(in training mode, a question pending) for this conversation."""
    return trainer().active(sender)


def carry_out(decision: Decision, dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    sender = tracker.sender_id
    t = trainer()
    route = decision.route
    if route == Route.START_TRAINING:
        out = t.start(sender, decision.category, decision.questions)
    elif route == Route.STOP_TRAINING:
        out = t.stop(sender)
    elif route == Route.QUIZ_ANSWER:
        out = t.answer(sender, user_text(tracker))
    elif route == Route.TRAINEE_NAME:
        out = t.set_name(sender, decision.name or sender)
    elif route == Route.CATEGORY_LIST:
        out = [training_replies.category_list(quiz.categories(glossary()))]
    else:  # Route.WEAK_TERMS
        out = t.weak(sender)
    for reply in out:
        send(dispatcher, reply)


def record_gaps(sender: str, queries: List[str]) -> None:
    """Words a trainee asked about that the glossary lacks (for its maintainers)."""
    t = trainer()
    for q in queries:
        t.store.record_gap(t.trainee(sender), q)
