"""「〇〇とは?」 and 「AとBの違いは?」."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from assistant import question, replies
from assistant.matcher import Match

from .common import glossary, matcher, send, term_matches, turn_outcome, user_text

MAX_TERMS_PER_ANSWER = 3
# 「オペレーターと話したい」 names a glossary term, so the classifier may call it a
# definition question; it asks for a person (action_handoff makes the ticket).
HAND_OFF = [FollowupAction("action_handoff")]


class ActionDefineTerm(Action):
    def name(self) -> Text:
        return "action_define_term"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text = user_text(tracker)
        matches = term_matches(tracker)
        if _asks_for_person(text, matches):
            return HAND_OFF
        if question.wants_comparison(text, matches):
            return compare(dispatcher, tracker, question.comparison_subjects(text, matches))
        subjects = question.definition_subjects(text, matches)
        if not subjects and question.is_lookup_word(text):
            subjects = [question.Subject(text, None)]  # a bare unknown word: 「BPO」
        return define(dispatcher, tracker, subjects)


class ActionCompareTerms(Action):
    def name(self) -> Text:
        return "action_compare_terms"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[Text, Any]
    ) -> List[Dict[Text, Any]]:
        text, matches = user_text(tracker), term_matches(tracker)
        if _asks_for_person(text, matches):
            return HAND_OFF  # 「オペレーターと話をさせて」 looks like 「AとBの…」
        subjects = question.comparison_subjects(text, matches)
        if len(subjects) < 2:
            # Nothing to compare (「ロープレって何をするの?」): answer it as a definition question.
            return define(dispatcher, tracker, question.definition_subjects(text, matches))
        return compare(dispatcher, tracker, subjects)


def glossary_answer(
    dispatcher: CollectingDispatcher, tracker: Tracker, require_known_term: bool = False
) -> Optional[List[Dict[Text, Any]]]:
    """Answer from the glossary when the message is a glossary question whatever
    intent the classifier picked: it names glossary terms, or asks 「〇〇って何?」.
    With require_known_term, an unknown word counts only when its meaning is asked
    (「NPSとは?」), not for any 「〇〇について」.
    Returns None (nothing sent) when it is not such a question."""
    text = user_text(tracker)
    matches = term_matches(tracker)
    if _asks_for_person(text, matches):
        return HAND_OFF
    if question.wants_comparison(text, matches):
        return compare(dispatcher, tracker, question.comparison_subjects(text, matches))
    subjects = question.definition_subjects(text, matches)
    known = any(s.term for s in subjects)
    asked = question.has_question_marker(text) and bool(subjects)
    if known and (asked or not require_known_term):
        return define(dispatcher, tracker, subjects)
    if asked and (not require_known_term or question.asks_meaning(text)):
        return define(dispatcher, tracker, subjects)
    return None


def _asks_for_person(text: str, matches: List[Match]) -> bool:
    return question.requests_person(text, matches, glossary().people)


def define(
    dispatcher: CollectingDispatcher, tracker: Tracker, subjects: List[question.Subject]
) -> List[Dict[Text, Any]]:
    """Answer each subject (definition or unknown + suggestions); fallback if none."""
    if not subjects:
        send(dispatcher, replies.fallback())
        return turn_outcome(dispatcher, tracker, failed=True)
    subjects = subjects[:MAX_TERMS_PER_ANSWER]
    for subject in subjects:
        send(dispatcher, answer_for(subject))
    known = [s.term for s in subjects if s.term]
    unknown = [s.query for s in subjects if not s.term]
    return turn_outcome(dispatcher, tracker, failed=not known) + [
        SlotSet("term", known[-1] if known else None),
        SlotSet("unknown_query", unknown[-1] if unknown else None),
    ]


def compare(
    dispatcher: CollectingDispatcher, tracker: Tracker, subjects: List[question.Subject]
) -> List[Dict[Text, Any]]:
    known = [s for s in subjects if s.term]
    if len(known) >= 2 and len(known) == len(subjects):
        a, b = (glossary().get(s.term) for s in known[:2])
        send(dispatcher, replies.comparison(a, b))
        return turn_outcome(dispatcher, tracker, failed=False)
    # Only what the glossary has is defined; the rest is reported unknown.
    return define(dispatcher, tracker, subjects[:2])


def answer_for(subject: question.Subject) -> replies.Reply:
    if subject.term:
        return replies.definition(glossary().get(subject.term))
    return replies.unknown_term(subject.query, matcher().suggest(subject.query))
