"""What every action needs: the loaded content and a way to send a Reply."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from assistant.faq import FaqEntry, load_faq
from assistant.handoff import replies as handoff_replies
from assistant.handoff.triggers import after_turn
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


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    kwargs: Dict[str, Any] = {"text": reply.text, "json_message": reply.payload}
    if reply.buttons:
        kwargs["buttons"] = reply.buttons
    dispatcher.utter_message(**kwargs)


def turn_outcome(dispatcher: CollectingDispatcher, tracker: Tracker, failed: bool) -> List[Dict[str, Any]]:
    """Slot events after an answer; offers a person after repeated failures."""
    count, offer = after_turn(int(tracker.get_slot("failed_turns") or 0), failed)
    events = [SlotSet("failed_turns", float(count)), SlotSet("handoff_offered", offer)]
    if offer:
        send(dispatcher, handoff_replies.offer_human("fallback"))
        events.append(SlotSet("handoff_reason", "fallback"))
    return events
