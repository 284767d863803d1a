"""Opening a handoff and adding to it: the one path every process takes.

The action server (a request for a person), the Rasa process when the action
server is down, and the live chat all open tickets and store customer messages
here, so the question staff see, the reason, the transcript, the webhook and the
empty-message text are decided once (assistant/conversation.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..conversation import NOT_A_QUESTION, should_notify, ticket_text
from ..transcript import last_user_question, transcript_from_events
from .notify import WebhookNotifier
from .ticket_cap import TicketCap, TicketCapReached
from .tickets import Ticket, TicketNotFound, TicketStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandoffRequest:
    """A customer asks for a person. ``events``: the conversation so far as plain
    dicts (Rasa's tracker events); ``text``: this message, stored on the sender's
    ticket if one is open already."""

    sender_id: str
    channel: str
    reason: str
    text: str
    term: str | None = None
    events: Sequence[Mapping[str, Any]] = field(default_factory=tuple)
    client_key: str | None = None  # the channel's keyed hash of the client address


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    created: bool  # False: the sender's open ticket, with this message appended


class HandoffService:
    """``suggest``: close glossary terms for the question (the action server has the
    matcher; the Rasa process does not). ``notifier``: built on first need."""

    def __init__(
        self,
        store: TicketStore,
        webhook_url: str = "",
        notifier: Callable[[], WebhookNotifier] | None = None,
        suggest: Callable[[str], list[Any]] | None = None,
        cap: TicketCap | None = None,
    ):
        self.store = store
        self.cap = cap
        self.notify = should_notify(webhook_url)
        self._notifier = notifier
        self._suggest = suggest

    def open(self, request: HandoffRequest) -> Opened:
        """The sender's open ticket (this message appended), or a new one; raises
        TicketCapReached when this client or sender opened too many lately."""
        ticket = self.store.open_for_sender(request.sender_id)
        if ticket is not None:
            self.append(ticket.id, request.text)
            return Opened(ticket, created=False)
        if self.cap is not None:
            wait = self.cap.retry_after(request.sender_id, request.client_key)
            if wait:
                raise TicketCapReached(wait)
        asked = last_user_question(request.events, NOT_A_QUESTION)
        ticket = self.store.create(
            sender_id=request.sender_id,
            channel=request.channel,
            reason=request.reason,
            last_question=asked,
            term=request.term,
            candidates=self._suggest(asked) if asked and self._suggest else [],
            transcript=transcript_from_events(request.events),
            notify=self.notify,
        )
        if self.cap is not None:
            self.cap.record(ticket.id, request.sender_id, request.client_key)
        if self.notify and self._notifier is not None:
            try:
                self._notifier().notify_async(ticket.id)
            except Exception:  # stored as pending: delivered later
                logger.exception("webhook for %s", ticket.id)
        return Opened(ticket, created=True)

    def append(self, ticket_id: str, text: str | None) -> dict[str, Any]:
        """Store a customer message (also on a closed ticket: never drop user text)."""
        return self.store.append_message(ticket_id, ticket_text(text))

    def open_ticket(self, ticket_id: str | None, sender_id: str | None = None) -> Ticket | None:
        """The ticket if still open; else (given ``sender_id``) the sender's open one."""
        if ticket_id:
            try:
                ticket = self.store.get(ticket_id)
                if ticket.status == "open":
                    return ticket
            except TicketNotFound:
                pass
        return self.store.open_for_sender(sender_id) if sender_id else None

    def append_if_open(
        self, ticket_id: str | None, text: str | None, sender_id: str | None = None
    ) -> Ticket | None:
        """Store a follow-up on the open ticket; None if staff closed it."""
        ticket = self.open_ticket(ticket_id, sender_id)
        if ticket is not None:
            self.append(ticket.id, text)
        return ticket
