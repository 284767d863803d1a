"""The conversation's state as the engine keeps it, spelled once: slot names, what
the end of a handoff resets, which messages are not "the question", and the text
stored for an empty message. Actions, channels and the runtime all read it here
(no Rasa import: the engine may change)."""

from __future__ import annotations

from typing import Any

# Slots (domain.yml)
TERM = "term"
UNKNOWN_QUERY = "unknown_query"
FAILED_TURNS = "failed_turns"
HANDOFF_OFFERED = "handoff_offered"
HANDOFF_REASON = "handoff_reason"
HANDOFF_TICKET = "handoff_ticket"
NEEDS_CONTACT = "needs_contact"
CONTACT = "contact"
FOLLOWUP = "followup"
REQUESTED_SLOT = "requested_slot"  # the form's own slot (Rasa's name)

HANDOFF_FORM = "handoff_form"

# What the end of a handoff resets, wherever it ends (「ボットに戻る」, staff closed the
# ticket, an agent handed back). requested_slot is in it because the live chat ends
# the form itself (ActiveLoop(None)); when Rasa deactivated the form it is None already.
RESET_AFTER_HANDOFF: tuple[tuple[str, Any], ...] = (
    (HANDOFF_TICKET, None),
    (NEEDS_CONTACT, None),
    (CONTACT, None),
    (FOLLOWUP, None),
    (REQUESTED_SLOT, None),
    (HANDOFF_OFFERED, False),
    (FAILED_TURNS, 0.0),
)

# Messages that trigger or steer a handoff are not "the question" staff need.
NOT_A_QUESTION = frozenset(
    {"request_human", "affirm", "deny", "feedback_negative", "decline_contact", "back_to_bot"}
)

# Why a ticket was opened: asked for a person, offered after failed turns, or after
# negative feedback.
HANDOFF_REASONS = ("explicit", "fallback", "feedback")

EMPTY_MESSAGE = "(空のメッセージ)"


def handoff_reason(offered: bool, offered_reason: Any) -> str:
    """The ticket's reason: the pending offer's, else "explicit" (never an unknown one)."""
    reason = offered_reason if offered else None
    return reason if reason in HANDOFF_REASONS else "explicit"


def ticket_text(text: str | None) -> str:
    """What a customer message adds to a ticket: an empty one is still shown."""
    return text or EMPTY_MESSAGE


def should_notify(webhook_url: str | None) -> bool:
    """A new ticket is announced when a webhook is configured."""
    return bool(webhook_url)
