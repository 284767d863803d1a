"""FAQ answers from the ResponseSelector, with its own confidence checked; when it is
unsure, from the words the question shares with an FAQ's text (assistant/faq_retrieval.py)."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant import replies
from assistant.faq import FaqEntry
from assistant.faq_retrieval import FaqRetriever
from assistant.normalize import key_form

from .common import faq_entries, glossary, send, term_matches, turn_outcome, user_text
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
        if not confident:
            # Unsure: a glossary question, else an FAQ found by the words of its answer
            # (「物品管理や配送状況を一元管理できる会社は?」), else an unknown word, else rephrase.
            events = answer_by_text(dispatcher, tracker)
            if events is not None:
                return events
            send(dispatcher, replies.fallback())
            return turn_outcome(dispatcher, tracker, failed=True)
        if matches and not any(_topic_mentions(entry, m.term) for m in matches):
            # 「SVはどんな役割?」 retrieved an FAQ about something else: answer the
            # glossary question if it is one.
            events = glossary_answer(dispatcher, tracker)
            if events is not None:
                return events
        send(dispatcher, replies.faq(entry))
        return turn_outcome(dispatcher, tracker, failed=False)


@lru_cache(maxsize=1)
def faq_retriever() -> FaqRetriever:
    return FaqRetriever(faq_entries())


def answer_by_text(
    dispatcher: CollectingDispatcher, tracker: Tracker
) -> Optional[List[Dict[Text, Any]]]:
    """For a turn the classifiers were unsure of: a glossary question about a known term
    (or asking what a word means), else the FAQ whose text clearly matches a message that
    names no glossary term (「SVの仕事内容を知りたい」 is about SV, whatever FAQ shares its
    words), else an unknown word. None (nothing sent) when it is none of these."""
    events = glossary_answer(dispatcher, tracker, require_known_term=True)
    if events is not None:
        return events
    hit = None if term_matches(tracker) else faq_retriever().best(user_text(tracker))
    if hit is not None:
        send(dispatcher, replies.faq(faq_entries()[hit.id]))
        return turn_outcome(dispatcher, tracker, failed=False)
    return glossary_answer(dispatcher, tracker)


def _topic_mentions(entry: FaqEntry, headword: str) -> bool:
    """Whether the FAQ topic (title, example questions) is about this glossary term."""
    term = glossary().get(headword)
    topic = key_form(" ".join((entry.title, *entry.questions)))
    return any(key_form(name) in topic for name in term.names if key_form(name))
