"""The one action for every message: asks assistant/routing.py what to do and does it.

action_route, and under their rules' names action_handoff (request_human) and
action_affirm (はい). No decision is made here: `execute` only turns the turn's
routing.Decision into replies and slot events (the handoff itself is
actions/handoff_actions.start_handoff).
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant import replies
from assistant.content.model import Content
from assistant.conversation import (
    FAILED_TURNS,
    HANDOFF_OFFERED,
    HANDOFF_REASON,
    HANDOFF_TICKET,
    TERM,
    UNKNOWN_QUERY,
)
from assistant.handoff import replies as handoff_replies
from assistant.question import Subject
from assistant.routing import TRAINING_ROUTES, Decision, Route

from . import outcomes
from .common import send
from .handoff_actions import reset_handoff, start_handoff
from .training_actions import carry_out as carry_out_training
from .training_actions import record_gaps
from .turn import Turn, read

Events = list[dict[str, Any]]


class ActionRoute(Action):
    def name(self) -> str:
        return "action_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        turn = read(tracker)
        outcomes.turn(turn, tracker)
        return execute(turn, dispatcher, tracker)


class ActionHandoff(ActionRoute):
    """An explicit request for a person (rule: request_human). The router decides
    (「すーぱーばいざーの意味」 is a definition, not a request); a handoff creates (or
    reuses) the sender's open ticket and tells the user what happens next."""

    def name(self) -> str:
        return "action_handoff"


class ActionAffirm(ActionRoute):
    """はい (rule: affirm): the router accepts a pending offer of a person (handoff),
    otherwise acknowledges it."""

    def name(self) -> str:
        return "action_affirm"


class ActionCoreFallback(Action):
    """RulePolicy found no rule for this turn (config.yml core_fallback_action_name).
    Same reply and payload as the NLU fallback; the turn is reverted, as Rasa's
    default does, so it does not steer later predictions."""

    def name(self) -> str:
        return "action_core_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Events:
        send(dispatcher, replies.fallback())
        outcomes.plain_turn(tracker, "fallback", "core")
        return [UserUtteranceReverted()]


def execute(turn: Turn, dispatcher: CollectingDispatcher, tracker: Tracker) -> Events:
    """Carry out the router's decision."""
    decision = turn.decision
    route = decision.route
    content = turn.content
    events: Events = []
    if route in TRAINING_ROUTES:
        carry_out_training(decision, dispatcher, tracker, content)
        return [SlotSet(FAILED_TURNS, 0.0), SlotSet(HANDOFF_OFFERED, False)]
    if route in (Route.DEFINITION, Route.UNKNOWN_TERM):
        for subject in decision.subjects:
            send(dispatcher, _answer_for(subject, content))
        known = decision.known_terms
        unknown = [s.query for s in decision.subjects if not s.term]
        if unknown and decision.failed_turns is not None and turn.facts.training_mode:
            record_gaps(tracker.sender_id, unknown)
        events += [
            SlotSet(TERM, known[-1] if known else None),
            SlotSet(UNKNOWN_QUERY, unknown[-1] if unknown else None),
        ]
    elif route == Route.COMPARISON:
        a, b = (content.glossary.get(s.term or "") for s in decision.subjects[:2])
        if a is not None and b is not None:
            send(dispatcher, replies.comparison(a, b))
    elif route == Route.FAQ and (decision.faq_id or "") not in content.faqs:
        send(dispatcher, replies.fallback())  # an FAQ the model knows but the editors disabled
    elif route == Route.FAQ:
        send(dispatcher, replies.faq(content.faqs[decision.faq_id or ""]))
    elif route == Route.HANDOFF:
        return start_handoff(dispatcher, tracker)
    elif route == Route.OFFER_HUMAN:
        reason = decision.reason or "feedback"
        send(dispatcher, handoff_replies.offer_human(reason))
        return [SlotSet(HANDOFF_OFFERED, True), SlotSet(HANDOFF_REASON, reason)]
    elif route == Route.DECLINE_OFFER:
        send(dispatcher, handoff_replies.offer_declined())
        return [SlotSet(HANDOFF_OFFERED, False), SlotSet(FAILED_TURNS, 0.0)]
    elif route == Route.SMALL_TALK:
        kind = decision.small_talk or "ack"
        send(
            dispatcher,
            handoff_replies.acknowledged() if kind == "ack" else replies.small_talk(kind),
        )
        return []
    elif route == Route.OUT_OF_SCOPE:
        send(dispatcher, replies.out_of_scope())
        return []
    elif route == Route.BACK_TO_BOT:
        send(dispatcher, handoff_replies.back_to_bot(tracker.get_slot(HANDOFF_TICKET)))
        return reset_handoff()
    elif route == Route.FOLLOWUP:
        return []  # the handoff form (or the live-chat gate) stores the message
    else:  # Route.FALLBACK
        if decision.reason == "empty":
            send(dispatcher, replies.empty_input())
        else:
            send(dispatcher, replies.fallback(_candidates(decision, content)))
    for extra in decision.also:
        # 「ACWとは?あとSVって何?」: the later questions' answers follow the first.
        _send_answer(extra, dispatcher, content)
    if decision.failed_turns is not None:
        events += [
            SlotSet(FAILED_TURNS, float(decision.failed_turns)),
            SlotSet(HANDOFF_OFFERED, decision.offer_human),
        ]
    if decision.offer_human:
        send(dispatcher, handoff_replies.offer_human("fallback"))
        events.append(SlotSet(HANDOFF_REASON, "fallback"))
    return events


def _send_answer(decision: Decision, dispatcher: CollectingDispatcher, content: Content) -> None:
    """An answer that changes no slot: a definition, an FAQ or a comparison."""
    if decision.route == Route.DEFINITION:
        for subject in decision.subjects:
            send(dispatcher, _answer_for(subject, content))
    elif (
        decision.route == Route.FAQ
        and decision.faq_id is not None
        and decision.faq_id in content.faqs
    ):
        send(dispatcher, replies.faq(content.faqs[decision.faq_id]))
    elif decision.route == Route.COMPARISON:
        a, b = (content.glossary.get(s.term or "") for s in decision.subjects[:2])
        if a is not None and b is not None:
            send(dispatcher, replies.comparison(a, b))


def _candidates(decision: Decision, content: Content) -> list[tuple[str, str, str]]:
    """The router's "did you mean" as (kind, key, title) for the reply's buttons."""
    entries = content.faqs
    out = []
    for kind, key in decision.candidates:
        if kind == "faq" and key in entries:
            out.append((kind, key, entries[key].title))
        elif kind == "term" and content.glossary.get(key) is not None:
            out.append((kind, key, key))
    return out


def _answer_for(subject: Subject, content: Content) -> replies.Reply:
    term = content.glossary.get(subject.term) if subject.term else None
    if term is not None:
        return replies.definition(term)
    return replies.unknown_term(subject.query, content.matcher.suggest(subject.query))
