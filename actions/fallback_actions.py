"""Low confidence and out-of-scope replies."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import question, replies

from .common import send, term_matches, turn_outcome, user_text
from .glossary_actions import compare, define


class ActionFallback(Action):
    """Low intent confidence. A message that names glossary terms, or asks
    「〇〇って何?」 about a word, is still answered from the glossary: the classifier
    was unsure about the phrasing, not about what the user wants to know."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        if not text.strip():
            send(dispatcher, replies.empty_input())
            return turn_outcome(dispatcher, tracker, failed=True)
        matches = term_matches(tracker)
        if question.wants_comparison(text, matches):
            return compare(dispatcher, tracker, question.comparison_subjects(text, matches))
        subjects = question.definition_subjects(text, matches)
        if any(s.term for s in subjects) or question.has_question_marker(text):
            return define(dispatcher, tracker, subjects)
        send(dispatcher, replies.fallback())
        return turn_outcome(dispatcher, tracker, failed=True)


class ActionOutOfScope(Action):
    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        send(dispatcher, replies.out_of_scope())
        return []
