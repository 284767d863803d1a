"""When the action server cannot answer, Rasa still does: a clear reply, and the
handoff request or follow-up recorded on the ticket by the Rasa process itself.

Rasa 3.6 turns a failed custom action call (connection refused, timeout, 5xx, a
refused token) into an exception that the processor logs and drops: the user
got `[]` in 0.1 s, 「オペレーターと話したい」 created no ticket, a message during a
handoff was missing from the ticket. `apply()` wraps `RemoteAction.run`:

* success, and the action server's own rejections (400 → ActionExecutionRejection,
  which drives forms), are unchanged;
* an invalid response (it fails Rasa's response schema) is a bug in our action
  server, not an outage: logged as such (error, with the validation message and
  traceback); the user still gets the reply below;
* any other failure logs the cause and returns, instead of nothing, a bot message
  in the response contract (text + `{"kind": "service_unavailable", "text": …,
  "ticket": …}`), once per user turn even when a form makes several calls;
* a handoff request (action_handoff, or はい to a pending offer) creates the
  ticket (or reuses the sender's open one) through `assistant.handoff`, reason
  "explicit" unless the offer said otherwise, and remembers it in `handoff_ticket`;
* during a handoff (handoff_form active, or `handoff_ticket` set) the message is
  appended to the ticket; a form's validation accepts no slot unvalidated and
  keeps asking for the same one, so the handoff goes on once the action server
  is back.

Tickets are written off the event loop (SQLite or PostgreSQL, HANDOFF_DB_URL as for
the action server); the webhook for a new ticket goes out from here too (the
action server's notifier retries it on start as for any pending ticket).
"""

from __future__ import annotations

import asyncio
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Rasa is imported where used: importing this module stays cheap
    from rasa.shared.core.trackers import DialogueStateTracker

    from assistant.handoff.notify import WebhookNotifier
    from assistant.handoff.service import HandoffService
    from assistant.handoff.tickets import TicketStore

from assistant.conversation import (
    HANDOFF_FORM,
    HANDOFF_OFFERED,
    HANDOFF_REASON,
    HANDOFF_TICKET,
    TERM,
    UNKNOWN_QUERY,
    handoff_reason,
)

logger = logging.getLogger("rasa_runtime.unavailable")

KIND = "service_unavailable"
TEXT = "ただいまシステムに接続できません。しばらくしてからもう一度お試しください。"
HANDOFF_ACTIONS = {"action_handoff"}


def reply_text(ticket_id: str | None = None, appended: bool = False) -> str:
    if not ticket_id:
        return TEXT
    if appended:
        return f"{TEXT}\nメッセージは担当者に伝えました(受付番号 {ticket_id})。"
    return f"{TEXT}\n担当者へのご依頼は受付番号 {ticket_id} で承りました。"


def payload(text: str, ticket_id: str | None) -> dict[str, Any]:
    return {"kind": KIND, "text": text, "ticket": ticket_id}


# --------------------------------------------------------------------------
# Tickets (assistant.handoff, as the action server uses it)


@lru_cache(maxsize=1)
def _store() -> TicketStore:
    from assistant.handoff.settings import HandoffSettings
    from assistant.handoff.tickets import TicketStore

    return TicketStore(HandoffSettings.from_env().db_url)


@lru_cache(maxsize=1)
def _notifier() -> WebhookNotifier:
    from assistant.handoff.settings import notifier_from_env

    return notifier_from_env(_store())


def _service() -> HandoffService:
    from assistant.handoff.service import HandoffService
    from assistant.handoff.settings import HandoffSettings

    webhook_url = ""
    try:
        webhook_url = HandoffSettings.from_env().webhook_url
    except Exception:  # a bad webhook setting must not lose the ticket
        logger.exception("handoff settings")
    return HandoffService(_store(), webhook_url, _notifier)


def record_handoff(state: dict[str, Any]) -> tuple[str | None, bool]:
    """Write what the action server would have written. Returns (ticket id, appended).
    Runs in a worker thread; `state` is plain data taken from the tracker."""
    from assistant.handoff.service import HandoffRequest

    service = _service()
    if state["active"]:
        ticket = service.append_if_open(state["ticket"], state["text"], state["sender_id"])
        # None: staff closed it, nothing to append to
        return (ticket.id, True) if ticket is not None else (None, False)
    if not state["requested"]:
        return None, False
    opened = service.open(
        HandoffRequest(
            sender_id=state["sender_id"],
            channel=state["channel"],
            reason=state["reason"],
            text=state["text"],
            term=state["term"],
            events=state["events"],
        )
    )
    return opened.ticket.id, False


# --------------------------------------------------------------------------
# What to answer


def _events_this_turn(tracker: DialogueStateTracker) -> list:
    from rasa.shared.core.events import UserUttered

    events = list(tracker.events)
    for i in range(len(events) - 1, -1, -1):
        if isinstance(events[i], UserUttered):
            return events[i + 1 :]
    return events


def _already_told(tracker: DialogueStateTracker) -> bool:
    from rasa.shared.core.events import BotUttered

    return any(
        isinstance(e, BotUttered) and ((e.data or {}).get("custom") or {}).get("kind") == KIND
        for e in _events_this_turn(tracker)
    )


def _unvalidated_slots(action_name: str, tracker: DialogueStateTracker) -> list[str]:
    """Slots a form's validation action was asked to check (set after the form's
    ActionExecuted in the temporary tracker Rasa builds for it)."""
    from rasa.shared.core.constants import REQUESTED_SLOT
    from rasa.shared.core.events import ActionExecuted, SlotSet

    form = action_name[len("validate_") :]
    slots: list[str] = []
    for event in reversed(list(tracker.events)):
        if isinstance(event, ActionExecuted) and event.action_name == form:
            break
        if isinstance(event, SlotSet) and event.key != REQUESTED_SLOT and event.key not in slots:
            slots.append(event.key)
    return slots


def _handoff_state(action_name: str, tracker: DialogueStateTracker) -> dict[str, Any]:
    from rasa.shared.core.trackers import EventVerbosity

    latest = tracker.latest_message
    active = tracker.active_loop_name == HANDOFF_FORM or bool(tracker.get_slot(HANDOFF_TICKET))
    offered = bool(tracker.get_slot(HANDOFF_OFFERED))
    requested = action_name in HANDOFF_ACTIONS or (action_name == "action_affirm" and offered)
    reason = handoff_reason(offered, tracker.get_slot(HANDOFF_REASON))
    state: dict[str, Any] = {
        "sender_id": tracker.sender_id,
        "text": (latest.text if latest is not None else "") or "",
        "active": active,
        "requested": requested,
        "ticket": tracker.get_slot(HANDOFF_TICKET),
        "reason": reason,
        "term": tracker.get_slot(TERM) or tracker.get_slot(UNKNOWN_QUERY),
        "channel": tracker.get_latest_input_channel() or "unknown",
        "events": [],
    }
    if requested and not active:
        state["events"] = tracker.current_state(EventVerbosity.ALL)["events"]
    return state


async def unavailable_events(action_name: str, tracker: DialogueStateTracker) -> list:
    """Events to return in place of the failed call's."""
    from rasa.core.actions.action import create_bot_utterance
    from rasa.shared.core.events import SlotSet

    events: list = []
    if action_name.startswith("validate_"):
        # Accept nothing the validator has not seen, and ask for the same slot again:
        # the form's required slots may be dynamic (validate_handoff_form drops
        # `contact` inside business hours), so Rasa alone would pick the wrong one.
        from rasa.shared.core.constants import REQUESTED_SLOT

        events += [SlotSet(slot, None) for slot in _unvalidated_slots(action_name, tracker)]
        requested = tracker.get_slot(REQUESTED_SLOT)
        if requested:
            events.append(SlotSet(REQUESTED_SLOT, requested))
    if _already_told(tracker):
        return events

    ticket_id, appended = None, False
    state = _handoff_state(action_name, tracker)
    if state["active"] or state["requested"]:
        try:
            loop = asyncio.get_running_loop()
            ticket_id, appended = await loop.run_in_executor(None, record_handoff, state)
        except Exception:  # the reply must still go out
            logger.exception("could not record the handoff for %s", tracker.sender_id)
    if ticket_id and not appended and not state["active"]:
        events += [SlotSet(HANDOFF_TICKET, ticket_id), SlotSet(HANDOFF_OFFERED, False)]

    text = reply_text(ticket_id, appended)
    events.insert(0, create_bot_utterance({"text": text, "custom": payload(text, ticket_id)}))
    return events


# --------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    cause = exc.__cause__ or exc.__context__
    parts = [f"{type(exc).__name__}: {exc}"]
    if cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        status = getattr(cause, "status", None)
        if status in (401, 403):
            parts.append(
                "the action server refused the token: is ACTION_SERVER_TOKEN the same for both?"
            )
    return " / ".join(parts)


def apply() -> None:
    import jsonschema
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    from rasa_runtime import auth, rasa_version

    rasa_version.check("rasa_runtime.unavailable")
    original = RemoteAction.run
    if getattr(original, "_unavailable_guard", False):
        return

    async def run(self: Any, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> Any:
        auth.add_token_to_endpoint(self.action_endpoint)
        try:
            return await original(self, output_channel, nlg, tracker, domain)
        except ActionExecutionRejection:
            raise
        except Exception as exc:  # whatever failed, the user gets an answer
            if self.action_endpoint is None:
                raise  # no action server configured at all: Rasa's own error
            if isinstance(exc, jsonschema.ValidationError):
                # Not an outage: our action server answered something Rasa cannot use.
                logger.exception(
                    "BUG: custom action %r returned an invalid response (%s) from %s; "
                    "answering %r instead",
                    self.name(),
                    exc.message,
                    self.action_endpoint.url,
                    KIND,
                )
                return await unavailable_events(self.name(), tracker)
            logger.error(
                "custom action %r failed (%s) at %s; answering %r instead",
                self.name(),
                _describe(exc),
                self.action_endpoint.url,
                KIND,
            )
            return await unavailable_events(self.name(), tracker)

    run._unavailable_guard = True  # type: ignore[attr-defined]
    RemoteAction.run = run  # type: ignore[method-assign]  # the patch itself
