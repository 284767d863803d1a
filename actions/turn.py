"""The turn's facts, read once: the router's input (NLU result, text, term matches,
conversation and training state) and its decision (assistant/routing.py)."""
from __future__ import annotations

from dataclasses import dataclass

from rasa_sdk import Tracker

from assistant import routing
from assistant.conversation import FAILED_TURNS, HANDOFF_FORM, HANDOFF_OFFERED

from . import services
from .common import term_matches, user_text


@dataclass(frozen=True)
class Turn:
    facts: routing.RoutingInput
    decision: routing.Decision


def read(tracker: Tracker) -> Turn:
    facts = routing_input(tracker)
    return Turn(facts, routing.decide(facts, services.knowledge()))


def routing_input(tracker: Tracker) -> routing.RoutingInput:
    """The router's view of this turn: NLU result, text, term matches, conversation state."""
    training_mode, quiz_pending = services.trainer().active(tracker.sender_id)
    latest = tracker.latest_message
    intent = latest.get("intent") or {}
    faq = (latest.get("response_selector") or {}).get("faq", {}) or {}
    selected = faq.get("response", {}) or {}
    ranking = faq.get("ranking") or []
    key = (selected.get("intent_response_key") or "").split("/", 1)[-1] or None
    return routing.RoutingInput(
        text=user_text(tracker),
        intent=intent.get("name"),
        intent_confidence=float(intent.get("confidence") or 0.0),
        intent_ranking=tuple(
            (r.get("name"), float(r.get("confidence") or 0.0)) for r in latest.get("intent_ranking") or []
        ),
        faq_id=key,
        faq_confidence=float(selected.get("confidence") or 0.0),
        faq_runner_up=float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0,
        matches=tuple(term_matches(tracker)),
        handoff_active=tracker.active_loop.get("name") == HANDOFF_FORM if tracker.active_loop else False,
        agent_owns=False,  # the live-chat gate keeps such messages from Rasa (channels/live.py)
        offer_pending=bool(tracker.get_slot(HANDOFF_OFFERED)),
        failed_turns=int(tracker.get_slot(FAILED_TURNS) or 0),
        training_mode=training_mode,
        quiz_pending=quiz_pending,
    )
