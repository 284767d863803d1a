"""Masking at every door (rules: assistant/privacy; docs/privacy.md).

Customer text is masked before a ``UserMessage`` reaches the takeover gate or
Rasa, so the NLU, the tracker, tickets, transcripts, the webhook, logs and the
agent console only ever see the masked text:

* REST: ``mask_rest_text`` in the channel's ``_extract_message`` (Rasa's REST
  channel logs the raw text when a turn fails: it is masked by then), and
  ``guard`` around the message handler;
* socket.io: ``guard`` around the message handler (text and metadata);
* agent console: ``mask_agent_text`` on what an agent sends.

Phone numbers and e-mail addresses are masked too when PRIVACY_MASK_CONTACTS is
on (default), except in the handoff's contact step, which asked for them.
The first time a conversation's text had card data, a マイナンバー or a bank
account masked, the customer gets a ``privacy_notice`` after the bot's reply.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Awaitable, Callable
from functools import lru_cache
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.shared.core.events import BotUttered

from assistant.conversation import CONTACT, HANDOFF_FORM, REQUESTED_SLOT
from assistant.privacy import Masked, PrivacySettings, mask
from assistant.privacy.notice import KIND as NOTICE_KIND
from assistant.privacy.notice import privacy_notice

from .live import _send, live_chat

logger = logging.getLogger(__name__)

MAX_METADATA_DEPTH = 6
# What _extract_message masked in this request (the guard runs in the same task).
_masked_here: contextvars.ContextVar[Masked | None] = contextvars.ContextVar(
    "masked_here", default=None
)


@lru_cache(maxsize=1)
def settings() -> PrivacySettings:
    return PrivacySettings.from_env()


def mask_rest_text(text: str) -> str:
    """Card data, マイナンバー and accounts out of a REST body's text (contacts wait
    for the guard, which knows whether this is the contact step)."""
    result = mask(text, mask_contacts=False)
    _masked_here.set(result if result.findings else None)
    return result.text


def mask_agent_text(text: Any) -> Any:
    """An agent's message: the same rules, contacts kept (an agent gives call-back numbers)."""
    return mask(text, mask_contacts=False).text if isinstance(text, str) else text


def _mask_value(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return mask(value, mask_contacts=settings().mask_contacts).text
    if depth >= MAX_METADATA_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: _mask_value(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask_value(v, depth + 1) for v in value]
    return value


async def _tracker(sender_id: str) -> Any:
    agent = live_chat()._rasa_agent()
    return await agent.tracker_store.retrieve(sender_id) if agent is not None else None


async def _in_contact_step(sender_id: str) -> bool:
    tracker = await _tracker(sender_id)
    return (
        tracker is not None
        and tracker.active_loop_name == HANDOFF_FORM
        and tracker.get_slot(REQUESTED_SLOT) == CONTACT
    )


async def _noticed(sender_id: str) -> bool:
    tracker = await _tracker(sender_id)
    if tracker is None:
        return False
    for event in tracker.events:
        if (
            isinstance(event, BotUttered)
            and ((event.data or {}).get("custom") or {}).get("kind") == NOTICE_KIND
        ):
            return True
    return False


async def mask_message(message: UserMessage) -> Masked:
    """Mask the message's text and metadata in place; what was found (text only)."""
    earlier = _masked_here.get()
    _masked_here.set(None)
    text = message.text or ""
    result = mask(text, mask_contacts=False)
    if settings().mask_contacts:
        with_contacts = mask(result.text, mask_contacts=True)
        if with_contacts.findings and not await _in_contact_step(message.sender_id):
            result = Masked(with_contacts.text, result.findings + with_contacts.findings)
    if earlier is not None:
        result = Masked(result.text, earlier.findings + result.findings)
    message.text = result.text
    if message.metadata:
        message.metadata = _mask_value(message.metadata)
    return result


def guard(
    on_new_message: Callable[[UserMessage], Awaitable[Any]],
) -> Callable[[UserMessage], Awaitable[Any]]:
    """The channel's handler with masking first and the notice after the reply."""

    async def guarded(message: UserMessage) -> Any:
        result = await mask_message(message)
        if result.findings:
            logger.info(
                "privacy: masked %s in a message of %s",
                ",".join(sorted(result.kinds)),
                message.sender_id,
            )
        out = await on_new_message(message)
        if result.sensitive:
            await _notify_once(message, result)
        return out

    return guarded


async def _notify_once(message: UserMessage, result: Masked) -> None:
    try:
        if await _noticed(message.sender_id):
            return
        reply = privacy_notice(result.text, result.kinds)
        await _send(message.output_channel, message.sender_id, reply)
        await live_chat().append_tracker(
            message.sender_id, [BotUttered(reply.text, {"custom": reply.payload})]
        )
    except Exception:  # the turn itself is done and stored: a lost notice is no error
        logger.exception("privacy: notice not sent")
