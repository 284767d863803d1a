"""The turn's facts, read once: the router's input (NLU result, text, term matches,
conversation and training state) and its decision (assistant/routing.py)."""

from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker

from assistant import routing
from assistant.content import preview
from assistant.content.model import Content
from assistant.conversation import FAILED_TURNS, HANDOFF_FORM, HANDOFF_OFFERED

from . import services
from .common import term_matches, user_text


@dataclass(frozen=True)
class Turn:
    facts: routing.RoutingInput
    decision: routing.Decision
    content: Content  # the revision of the content this turn was decided on


def read(tracker: Tracker) -> Turn:
    content = services.content()  # once: a content change mid-turn does not mix revisions
    facts = routing_input(tracker, content)
    return Turn(facts, routing.decide(facts, content.knowledge), content)


def routing_input(tracker: Tracker, content: Content | None = None) -> routing.RoutingInput:
    """The router's view of this turn: NLU result, text, term matches, conversation state."""
    training_mode, quiz_pending = services.trainer(content).active(tracker.sender_id)
    return preview.routing_input(
        tracker.latest_message,
        user_text(tracker),
        term_matches(tracker, content),
        handoff_active=tracker.active_loop.get("name") == HANDOFF_FORM
        if tracker.active_loop
        else False,
        agent_owns=False,  # the live-chat gate keeps such messages from Rasa (channels/live.py)
        offer_pending=bool(tracker.get_slot(HANDOFF_OFFERED)),
        failed_turns=int(tracker.get_slot(FAILED_TURNS) or 0),
        training_mode=training_mode,
        quiz_pending=quiz_pending,
    )
