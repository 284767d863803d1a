"""Handoff to a person: ticket, business hours, contact form, follow-up messages
(the request itself is routed: actions/route.py)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from assistant.conversation import (
    CONTACT,
    FAILED_TURNS,
    FOLLOWUP,
    HANDOFF_FORM,
    HANDOFF_OFFERED,
    HANDOFF_REASON,
    HANDOFF_TICKET,
    NEEDS_CONTACT,
    RESET_AFTER_HANDOFF,
    TERM,
    UNKNOWN_QUERY,
    handoff_reason,
)
from assistant.handoff import replies as handoff_replies
from assistant.handoff.contact import parse_contact
from assistant.handoff.service import HandoffRequest
from assistant.handoff.ticket_cap import TicketCapReached

from . import outcomes, services
from .common import send, user_text


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _client_key(tracker: Tracker) -> str | None:
    """The channel's keyed hash of the client address (channels/console_doors.py)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    key = metadata.get("client_key") if isinstance(metadata, dict) else None
    return key if isinstance(key, str) and 0 < len(key) <= 64 else None


def start_handoff(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]]:
    """Creates (or reuses) the sender's open ticket, says what happens next and starts
    handoff_form, which takes every message until the handoff ends."""
    try:
        opened = services.handoff().open(
            HandoffRequest(
                sender_id=tracker.sender_id,
                channel=tracker.get_latest_input_channel() or "unknown",
                reason=handoff_reason(
                    bool(tracker.get_slot(HANDOFF_OFFERED)), tracker.get_slot(HANDOFF_REASON)
                ),
                text=user_text(tracker).strip(),
                term=tracker.get_slot(TERM) or tracker.get_slot(UNKNOWN_QUERY),
                events=tracker.events,
                client_key=_client_key(tracker),
            )
        )
    except TicketCapReached as refused:  # one client opening ticket after ticket: wait
        send(dispatcher, handoff_replies.tickets_limited(refused.retry_after))
        return [SlotSet(HANDOFF_OFFERED, False)]
    ticket = opened.ticket
    if opened.created:
        outcomes.handoff_requested(tracker, ticket.id, ticket.reason)
    now = _now()
    hours = services.hours()
    within = hours.is_open(now)
    send(
        dispatcher,
        handoff_replies.handoff_started(
            ticket.id,
            within,
            hours.describe_hours(),
            hours.describe_next_opening(now),
            agents_available=services.agents().available_count(now),
            queue_position=services.store().queue_position(ticket.id),
        ),
    )
    return [
        SlotSet(HANDOFF_TICKET, ticket.id),
        SlotSet(NEEDS_CONTACT, not within and not ticket.contact),
        SlotSet(HANDOFF_OFFERED, False),
        SlotSet(FAILED_TURNS, 0.0),
        FollowupAction(HANDOFF_FORM),
    ]


class ValidateHandoffForm(FormValidationAction):
    """While a person is on the case, every message goes to the ticket."""

    def name(self) -> str:
        return "validate_handoff_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if tracker.get_slot(NEEDS_CONTACT):
            return domain_slots
        return [s for s in domain_slots if s != CONTACT]

    async def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        ticket_id = _ticket_of(tracker)
        intent = tracker.latest_message.get("intent", {}).get("name")
        if intent in ("decline_contact", "deny"):
            send(dispatcher, handoff_replies.contact_declined(ticket_id))
            return {CONTACT: "declined", NEEDS_CONTACT: False}
        contact = parse_contact(user_text(tracker))
        if contact is None:
            _append(ticket_id, tracker)
            send(dispatcher, handoff_replies.contact_invalid())
            return {CONTACT: None}
        services.store().set_contact(ticket_id, contact.value, contact.kind)
        send(dispatcher, handoff_replies.contact_saved(contact.display(), ticket_id))
        return {CONTACT: contact.value, NEEDS_CONTACT: False}

    async def validate_followup(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        ticket_id = _ticket_of(tracker)
        outcomes.plain_turn(tracker, "followup")
        if tracker.latest_message.get("intent", {}).get("name") == "back_to_bot":
            # 「ボットに戻る」: fill the slot so the form ends; the ticket stays with staff.
            send(dispatcher, handoff_replies.back_to_bot(ticket_id))
            return {FOLLOWUP: "back_to_bot", HANDOFF_TICKET: None}
        if not _append(ticket_id, tracker):
            # Staff closed the ticket: fill the slot so the form ends.
            send(dispatcher, handoff_replies.ticket_closed(ticket_id))
            return {FOLLOWUP: "closed", HANDOFF_TICKET: None}
        send(dispatcher, handoff_replies.followup_received(ticket_id))
        return {FOLLOWUP: None}


def _ticket_of(tracker: Tracker) -> str:
    """The handoff's ticket id: the contact and follow-up forms run only while one is set."""
    return str(tracker.get_slot(HANDOFF_TICKET) or "")


def _append(ticket_id: str | None, tracker: Tracker) -> bool:
    """Store the user's message on the ticket; False if the ticket is gone or closed."""
    if not ticket_id:
        return False
    return services.handoff().append_if_open(ticket_id, _full_text(tracker)) is not None


def _full_text(tracker: Tracker) -> str:
    """The message as the user sent it: the NLU's copy is cut at 1,000 characters."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return event.get("text") or ""
    return tracker.latest_message.get("text") or ""


class ActionAskContact(Action):
    def name(self) -> str:
        return "action_ask_contact"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        send(dispatcher, handoff_replies.ask_contact())
        return []


class ActionAskFollowup(Action):
    """The form 'asks' for the next message by saying nothing: the handoff reply said it all."""

    def name(self) -> str:
        return "action_ask_followup"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return []


class ActionBackToBot(Action):
    """「ボットに戻る」 during a handoff (after the form is deactivated)."""

    def name(self) -> str:
        return "action_back_to_bot"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        send(dispatcher, handoff_replies.back_to_bot(tracker.get_slot(HANDOFF_TICKET)))
        return reset_handoff()


class ActionHandoffClosed(Action):
    def name(self) -> str:
        return "action_handoff_closed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        return reset_handoff()


def reset_handoff() -> list[dict[str, Any]]:
    return [SlotSet(slot, value) for slot, value in RESET_AFTER_HANDOFF]
