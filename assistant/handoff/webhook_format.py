"""What a webhook says about a new ticket: the JSON payload or Slack's text (no I/O).
Delivery, retries and the worker thread are notify.py's; the staff CLI uses the labels."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any

from .contact import display_phone
from .schema import JST
from .tickets import Ticket

FORMATS = ("json", "slack")
EVENT_CREATED = "handoff.ticket_created"

REASON_LABELS = {
    "explicit": "お客様がオペレーターを希望",
    "fallback": "ボットが回答できず",
    "feedback": "回答が役に立たなかった",
}
ROLE_LABELS = {"user": "お客様", "bot": "ボット"}
CONTACT_KIND_LABELS = {"email": "メール", "phone": "電話"}

# Slack shows ~4,000 characters comfortably; the full ticket is in the JSON
# format and the CLI.
_SLACK_MAX_CHARS = 3500
_SLACK_MAX_TURNS = 20
_SLACK_MAX_LINE = 300


def build_payload(ticket: Ticket, fmt: str = "json") -> dict[str, Any]:
    if fmt == "json":
        return {"event": EVENT_CREATED, "ticket": ticket.to_dict()}
    if fmt == "slack":
        return {"text": _slack_text(ticket)}
    raise ValueError(f"unknown webhook format {fmt!r}; use one of {FORMATS}")


def contact_label(ticket: Ticket) -> str:
    if not ticket.contact:
        return "なし"
    value = display_phone(ticket.contact) if ticket.contact_kind == "phone" else ticket.contact
    kind = CONTACT_KIND_LABELS.get(ticket.contact_kind or "", ticket.contact_kind or "")
    return f"{value} ({kind})" if kind else value


def format_jst(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Datetime or ISO string -> Japan time text; unparsable strings as is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            return value
        value = parsed
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(JST).strftime(fmt)


def _slack_escape(text: str) -> str:
    # Slack's only required escapes; also keeps user HTML inert.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _one_line(text: Any, limit: int = _SLACK_MAX_LINE) -> str:
    s = _CONTROL_RE.sub("\ufffd", " ".join(str(text).split()))
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _slack_text(t: Ticket) -> str:
    reason = REASON_LABELS.get(t.reason, t.reason)
    head = [
        f"*有人対応の依頼* {t.id}",
        f"理由: {reason} ({t.reason})",
        f"受付: {format_jst(t.created_at)} JST / チャネル: {t.channel} / 送信者: {t.sender_id}",
        f"最後の質問: {_one_line(t.last_question)}",
    ]
    if t.term or t.candidates:
        head.append(f"用語: {t.term or '-'} / 候補: {', '.join(t.candidates) or '-'}")
    head.append(f"連絡先: {contact_label(t)}")

    turns = t.transcript[-_SLACK_MAX_TURNS:]
    body = ["会話履歴:"]
    if len(t.transcript) > len(turns):
        body.append(f"> (前の{len(t.transcript) - len(turns)}件は省略)")
    for turn in turns:
        role = ROLE_LABELS.get(str(turn.get("role")), str(turn.get("role")))
        when = format_jst(turn.get("time"), "%H:%M")
        body.append(f"> {when} {role}: {_one_line(turn.get('text', ''))}".replace(">  ", "> "))
    if not turns:
        body.append("> (なし)")
    if t.messages:
        body.append("追加メッセージ:")
        body += [f"> {format_jst(m['time'], '%H:%M')} {_one_line(m['text'])}" for m in t.messages]

    text = _slack_escape("\n".join(head + body))
    # The quote marks we added above were escaped too; restore them.
    text = text.replace("\n&gt; ", "\n> ")
    if len(text) > _SLACK_MAX_CHARS:
        text = (
            text[:_SLACK_MAX_CHARS] + f"\n…(続きは `python -m assistant.handoff.cli show {t.id}`)"
        )
    return text
