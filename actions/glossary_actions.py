"""「〇〇とは?」 and 「AとBの違いは?」."""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from assistant import question, replies

from .common import glossary, matcher, send, term_matches, turn_outcome, user_text

MAX_TERMS_PER_ANSWER = 3


class ActionDefineTerm(Action):
    def name(self) -> Text:
        return "action_define_term"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        subjects = question.definition_subjects(text, term_matches(tracker))
        if not subjects and question.is_lookup_word(text):
            subjects = [question.Subject(text, None)]  # a bare unknown word: 「ラーメン」
        if not subjects:
            send(dispatcher, replies.fallback())
            return turn_outcome(dispatcher, tracker, failed=True)
        subjects = subjects[:MAX_TERMS_PER_ANSWER]
        for subject in subjects:
            send(dispatcher, answer_for(subject))
        events = turn_outcome(dispatcher, tracker, failed=not any(s.term for s in subjects))
        known = [s.term for s in subjects if s.term]
        unknown = [s.query for s in subjects if not s.term]
        return events + [SlotSet("term", known[-1] if known else None),
                         SlotSet("unknown_query", unknown[-1] if unknown else None)]


class ActionCompareTerms(Action):
    def name(self) -> Text:
        return "action_compare_terms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        subjects = question.comparison_subjects(text, term_matches(tracker))
        known = [s for s in subjects if s.term]
        unknown = [s for s in subjects if not s.term]
        if len(known) >= 2 and not unknown:
            a, b = (glossary().get(s.term) for s in known[:2])
            send(dispatcher, replies.comparison(a, b))
        elif not subjects:
            send(dispatcher, replies.fallback())
            return turn_outcome(dispatcher, tracker, failed=True)
        else:
            # Only what the glossary has is defined; the rest is reported unknown.
            for s in subjects[:2]:
                send(dispatcher, answer_for(s))
        return turn_outcome(dispatcher, tracker, failed=not known)


def answer_for(subject: question.Subject) -> replies.Reply:
    if subject.term:
        return replies.definition(glossary().get(subject.term))
    return replies.unknown_term(subject.query, matcher().suggest(subject.query))
