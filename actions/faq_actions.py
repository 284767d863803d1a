"""FAQ answers from the ResponseSelector, with its own confidence checked."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import replies

from .common import faq_entries, send, turn_outcome

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
        if entry is None or (selected.get("confidence") or 0.0) < MIN_ANSWER_CONFIDENCE:
            send(dispatcher, replies.fallback())
            return turn_outcome(dispatcher, tracker, failed=True)
        send(dispatcher, replies.faq(entry))
        return turn_outcome(dispatcher, tracker, failed=False)
