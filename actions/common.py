"""What every action needs: the loaded content, the router's input from the tracker,
and a way to send a Reply."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import routing
from assistant.conversation import FAILED_TURNS, HANDOFF_FORM, HANDOFF_OFFERED
from assistant.faq import FaqEntry, load_faq
from assistant.faq_retrieval import FaqRetriever
from assistant.glossary import Glossary, load_glossary
from assistant.matcher import Match, TermMatcher
from assistant.normalize import clean_user_text
from assistant.replies import Reply


@lru_cache(maxsize=1)
def glossary() -> Glossary:
    return load_glossary()


@lru_cache(maxsize=1)
def matcher() -> TermMatcher:
    return TermMatcher(glossary())


@lru_cache(maxsize=1)
def faq_entries() -> Dict[str, FaqEntry]:
    return load_faq()


@lru_cache(maxsize=1)
def knowledge() -> routing.Knowledge:
    return routing.knowledge(glossary(), faq_entries(), FaqRetriever(faq_entries()))


def clear_caches() -> None:
    """Forget the loaded content (tests; a new glossary file)."""
    for f in (glossary, matcher, faq_entries, knowledge):
        f.cache_clear()


def user_text(tracker: Tracker) -> str:
    return clean_user_text(tracker.latest_message.get("text") or "")


def term_matches(tracker: Tracker) -> List[Match]:
    """Terms the NLU component found; the plain matcher if the message bypassed NLU."""
    raw_text = tracker.latest_message.get("text") or ""
    found = [
        Match(e["value"], e["start"], e["end"], raw_text[e["start"]:e["end"]], "nlu")
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "term" and glossary().get(e.get("value", "")) and "start" in e
    ]
    return found or matcher().find(user_text(tracker))


def routing_input(tracker: Tracker) -> routing.RoutingInput:
    """The router's view of this turn: NLU result, text, term matches, conversation state."""
    from .training_actions import state  # training_actions imports this module

    training_mode, quiz_pending = state(tracker.sender_id)
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


def decide(tracker: Tracker) -> routing.Decision:
    return routing.decide(routing_input(tracker), knowledge())


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    kwargs: Dict[str, Any] = {"text": reply.text, "json_message": reply.payload}
    if reply.buttons:
        kwargs["buttons"] = reply.buttons
    dispatcher.utter_message(**kwargs)
