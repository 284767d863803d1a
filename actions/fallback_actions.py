"""Low confidence and out-of-scope replies."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from assistant import replies

from .common import send, turn_outcome, user_text
from .faq_actions import answer_by_text
from .glossary_actions import glossary_answer


class ActionFallback(Action):
    """Low intent confidence. A glossary question is still answered from the
    glossary, and an FAQ question phrased through its answer's facts from the FAQ:
    the classifier was unsure about the phrasing, not the subject."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        if not text.strip():
            send(dispatcher, replies.empty_input())
            return turn_outcome(dispatcher, tracker, failed=True)
        events = answer_by_text(dispatcher, tracker)
        if events is not None:
            return events
        send(dispatcher, replies.fallback())
        return turn_outcome(dispatcher, tracker, failed=True)


class ActionCoreFallback(Action):
    """RulePolicy found no rule for this turn (config.yml core_fallback_action_name).
    Same reply and payload as the NLU fallback; the turn is reverted, as Rasa's
    default does, so it does not steer later predictions."""

    def name(self) -> Text:
        return "action_core_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        send(dispatcher, replies.fallback())
        return [UserUtteranceReverted()]


class ActionOutOfScope(Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        # 「いんばうんどってなにするの?」 can look off-topic to the classifier; a question
        # about a named glossary term is answered, anything else is out of scope.
        events = glossary_answer(dispatcher, tracker, require_known_term=True)
        if events is not None:
            return events
        send(dispatcher, replies.out_of_scope())
        return []
