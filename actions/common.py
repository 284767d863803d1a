"""What every action needs: the user's text, the terms in it, and a way to send a Reply."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from assistant.content.model import Content
from assistant.matcher import Match
from assistant.normalize import clean_user_text
from assistant.replies import Reply

from . import services


def user_text(tracker: Tracker) -> str:
    return clean_user_text(tracker.latest_message.get("text") or "")


def term_matches(tracker: Tracker, content: Content | None = None) -> list[Match]:
    """Terms the NLU component found; the plain matcher if the message bypassed NLU."""
    raw_text = tracker.latest_message.get("text") or ""
    content = content or services.content()
    glossary = content.glossary
    found = [
        Match(e["value"], e["start"], e["end"], raw_text[e["start"] : e["end"]], "nlu")
        for e in tracker.latest_message.get("entities", [])
        if e.get("entity") == "term" and glossary.get(e.get("value", "")) and "start" in e
    ]
    return found or content.matcher.find(user_text(tracker))


def send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    kwargs: dict[str, Any] = {"text": reply.text, "json_message": reply.payload}
    if reply.buttons:
        kwargs["buttons"] = reply.buttons
    dispatcher.utter_message(**kwargs)
