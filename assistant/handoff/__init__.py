"""Handoff to human operators: escalation tickets, business hours, contact
parsing and webhook notification. Knows nothing of Rasa; actions call it.

Typical use from a bot action::

    store = store_from_env()
    notifier = notifier_from_env(store); notifier.start()
    ticket = store.create(sender_id, channel, "explicit", question, term,
                          candidates, transcript, notify=notifier.enabled)
    notifier.notify_async(ticket.id)   # returns at once
"""

from .contact import Contact, display_phone, parse_contact
from .delivery import DeliveryQueue
from .hours import BusinessHours, HoursConfigError, load_hours
from .notify import WebhookNotifier, build_payload, deliver
from .settings import HandoffSettings, hours_from_env, notifier_from_env, store_from_env
from .tickets import Ticket, TicketNotFound, TicketStore

__all__ = [
    "BusinessHours",
    "Contact",
    "DeliveryQueue",
    "HandoffSettings",
    "HoursConfigError",
    "Ticket",
    "TicketNotFound",
    "TicketStore",
    "WebhookNotifier",
    "build_payload",
    "deliver",
    "display_phone",
    "hours_from_env",
    "load_hours",
    "notifier_from_env",
    "parse_contact",
    "store_from_env",
]
