"""FAQ answers from the ResponseSelector, with its own confidence checked."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import replies
from assistant.faq import FaqEntry
from assistant.normalize import key_form

from .common import faq_entries, glossary, send, term_matches, turn_outcome
from .glossary_actions import glossary_answer

# FallbackClassifier only sees the intent score; a confident `faq` intent with an
# unsure choice among answers must still ask to rephrase.
MIN_ANSWER_CONFIDENCE = 0.5


class ActionAnswerFaq(Action):
    def name(self) -> Text:
        return "action_answer_faq"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        selected = (
            tracker.latest_message.get("response_selector", {}).get("faq", {}).get("response", {})
        )
        key = selected.get("intent_response_key") or ""
        entry = faq_entries().get(key.split("/", 1)[-1])
        confident = entry is not None and (selected.get("confidence") or 0.0) >= MIN_ANSWER_CONFIDENCE
        matches = term_matches(tracker)
        if not confident or (matches and not any(_topic_mentions(entry, m.term) for m in matches)):
            # Unsure, or 「SVはどんな役割?」 retrieved an FAQ about something else:
            # answer the glossary question if it is one, else ask to rephrase.
            events = glossary_answer(dispatcher, tracker)
            if events is not None:
                return events
            if not confident:
                send(dispatcher, replies.fallback())
                return turn_outcome(dispatcher, tracker, failed=True)
        send(dispatcher, replies.faq(entry))
        return turn_outcome(dispatcher, tracker, failed=False)


def _topic_mentions(entry: FaqEntry, headword: str) -> bool:
    """Whether the FAQ topic (title, example questions) is about this glossary term."""
    term = glossary().get(headword)
    topic = key_form(" ".join((entry.title, *entry.questions)))
    return any(key_form(name) in topic for name in term.names if key_form(name))
