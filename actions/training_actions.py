"""Training mode in the action server: carrying out the router's training decisions
(assistant/training/) on the trainee store (same database as the tickets)."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.content.model import Content
from assistant.routing import Decision, Route
from assistant.training import quiz
from assistant.training import replies as training_replies

from . import outcomes, services
from .common import send, user_text


def carry_out(
    decision: Decision, dispatcher: CollectingDispatcher, tracker: Tracker, content: Content
) -> None:
    """On the turn's content revision: the quiz asks only its (enabled) terms."""
    sender = tracker.sender_id
    t = services.trainer(content)
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
        out = [training_replies.category_list(quiz.categories(content.glossary))]
    else:  # Route.WEAK_TERMS
        out = t.weak(sender)
    for reply in out:
        send(dispatcher, reply)
    outcomes.training_answers(tracker, [reply.payload for reply in out])


def record_gaps(sender: str, queries: list[str]) -> None:
    """Words a trainee asked about that the glossary lacks (for its maintainers)."""
    t = services.trainer()
    for q in queries:
        t.store.record_gap(t.trainee(sender), q)
