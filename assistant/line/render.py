"""The bot's replies for one turn → LINE message objects, within LINE's limits (pure).

Input: what Rasa's CollectingOutputChannel collected — dicts with ``text`` (and
``buttons``) or ``custom`` (the response contract's payload, assistant/contract.py).

* A definition or comparison becomes a Flex bubble; its text is the ``altText``
  (what notifications and old clients show). Other payloads add nothing: their
  ``text`` already came as a text message.
* Buttons of the turn (もしかして, はい/いいえ, quiz options, 研修モード…) become the
  quick reply of the **last** message (LINE hides a quick reply once a newer
  message arrives), at most 13, labels at most 20 characters, postback data at
  most 300. A postback shows the button's title as the customer's message and
  sends its payload to the bot.
* At most 5 messages a call: when a turn has more, adjacent texts are merged
  (shortest pair first); texts longer than 5,000 characters as LINE counts them
  (UTF-16 code units) are split, at a line break where possible, never inside a
  character or grapheme.
* `plan` splits the messages between the free reply (first 5) and pushes (the
  rest, or all of them when the reply token is gone).

Limits: https://developers.line.biz/en/reference/messaging-api/ (see docs/line.md).
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import regex

MAX_MESSAGES = 5
MAX_TEXT_UNITS = 5000
MAX_QUICK_REPLIES = 13
MAX_LABEL = 20  # grapheme clusters
MAX_DATA = 300  # postback data and displayText
MAX_ALT_TEXT = 1500
MAX_FLEX_BYTES = 30_000  # a bubble's JSON
FLEX_KINDS = ("definition", "comparison")
ELLIPSIS = "…"
_SURROGATE = re.compile("[\ud800-\udfff]")
_RETRY_NAMESPACE = uuid.UUID("6f1c2b8e-4c1d-4e0a-9a53-1f7d2b8c0e11")


def clean(text: str) -> str:
    """Surrogate code points (not encodable: LINE would refuse the call) → U+FFFD."""
    return _SURROGATE.sub("\ufffd", text)


def utf16_len(text: str) -> int:
    """Characters as LINE counts a text message: UTF-16 code units (👋 is 2)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def graphemes(text: str) -> list[str]:
    return list(regex.findall(r"\X", text))


def cut_graphemes(text: str, limit: int) -> str:
    """At most ``limit`` grapheme clusters (labels are counted so), with … if cut."""
    parts = graphemes(text)
    if len(parts) <= limit:
        return text
    return "".join(parts[: limit - 1]) + ELLIPSIS


def cut_units(text: str, limit: int) -> str:
    """At most ``limit`` UTF-16 units, whole graphemes, with … if cut."""
    if utf16_len(text) <= limit:
        return text
    out, used = [], 1
    for g in graphemes(text):
        used += utf16_len(g)
        if used > limit:
            break
        out.append(g)
    return "".join(out) + ELLIPSIS


def split_text(text: str, limit: int = MAX_TEXT_UNITS) -> list[str]:
    """Chunks of at most ``limit`` UTF-16 units, cut between graphemes, at the last
    line break of a chunk when it is in the chunk's second half."""
    chunks: list[str] = []
    rest = graphemes(text)
    while rest:
        used, n = 0, 0
        for g in rest:
            if used + utf16_len(g) > limit:
                break
            used += utf16_len(g)
            n += 1
        n = max(n, 1)
        if n < len(rest):
            breaks = [i for i in range(n // 2, n) if rest[i] == "\n"]
            if breaks:
                n = breaks[-1] + 1
        chunk = "".join(rest[:n]).rstrip("\n")
        if chunk:
            chunks.append(chunk)
        rest = rest[n:]
    return chunks


def quick_reply(buttons: list[dict[str, Any]]) -> dict[str, Any] | None:
    items, seen = [], set()
    for b in buttons:
        title, data = b.get("title"), b.get("payload")
        if not isinstance(title, str) or not isinstance(data, str) or not title.strip() or not data:
            continue
        if data in seen or utf16_len(data) > MAX_DATA:
            continue
        seen.add(data)
        items.append(
            {
                "type": "action",
                "action": {
                    "type": "postback",
                    "label": cut_graphemes(clean(title).strip(), MAX_LABEL),
                    "data": data,
                    "displayText": cut_units(clean(title).strip(), MAX_DATA),
                },
            }
        )
        if len(items) == MAX_QUICK_REPLIES:
            break
    return {"items": items} if items else None


def _text_box(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "text", "text": clean(text) or " ", "wrap": True, **style}


def flex(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A Flex bubble for a definition or comparison payload (None for other kinds,
    or when the bubble would be over LINE's size limit: the text is sent instead)."""
    kind = payload.get("kind")
    body: list[dict[str, Any]] = []
    if kind == "definition":
        body.append(_text_box(payload["term"], weight="bold", size="xl"))
        if payload.get("reading") and payload["reading"] != payload["term"]:
            body.append(_text_box(payload["reading"], size="sm", color="#888888"))
        body.append({"type": "separator", "margin": "md"})
        defs = payload.get("definitions") or []
        numbered = len(defs) > 1
        for i, d in enumerate(defs):
            body.append(_text_box(f"{i + 1}. {d}" if numbered else d, margin="md"))
        if payload.get("aliases"):
            body.append(
                _text_box(
                    "別名: " + "、".join(payload["aliases"]),
                    size="sm",
                    color="#555555",
                    margin="md",
                )
            )
        if payload.get("related"):
            body.append(
                _text_box("関連用語: " + "、".join(payload["related"]), size="sm", color="#555555")
            )
        if payload.get("source"):
            body.append(
                _text_box(
                    "出典: " + str(payload["source"]), size="xs", color="#999999", margin="md"
                )
            )
    elif kind == "comparison":
        body.append(
            _text_box("「" + "」と「".join(payload["terms"]) + "」の違い", weight="bold", size="lg")
        )
        for item in payload.get("items") or []:
            body.append({"type": "separator", "margin": "md"})
            body.append(_text_box(item["term"], weight="bold", margin="md"))
            for d in item.get("definitions") or []:
                body.append(_text_box(d, size="sm"))
    else:
        return None
    contents = {"type": "bubble", "body": {"type": "box", "layout": "vertical", "contents": body}}
    if len(json.dumps(contents, ensure_ascii=False).encode("utf-8")) > MAX_FLEX_BYTES:
        return None
    alt = cut_units(clean(payload.get("text") or payload.get("term") or "用語の説明"), MAX_ALT_TEXT)
    return {"type": "flex", "altText": alt, "contents": contents}


def _merge_to_fit(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge adjacent texts (shortest pair first) until at most MAX_MESSAGES items."""
    items = list(items)
    while len(items) > MAX_MESSAGES:
        pairs = [
            (utf16_len(items[i]["text"]) + utf16_len(items[i + 1]["text"]), i)
            for i in range(len(items) - 1)
            if items[i]["type"] == "text" and items[i + 1]["type"] == "text"
        ]
        if not pairs:
            break
        _, i = min(pairs)
        items[i : i + 2] = [
            {"type": "text", "text": items[i]["text"] + "\n\n" + items[i + 1]["text"]}
        ]
    return items


def render(outputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """LINE message objects for a turn's outputs (may be more than 5: see `plan`)."""
    items: list[dict[str, Any]] = []
    buttons: list[dict[str, Any]] = []
    for out in outputs:
        text = out.get("text")
        if isinstance(text, str) and text.strip():
            items.append({"type": "text", "text": clean(text)})
            buttons += [b for b in out.get("buttons") or [] if isinstance(b, dict)]
        custom = out.get("custom")
        if isinstance(custom, dict) and custom.get("kind") in FLEX_KINDS:
            bubble = flex(custom)
            if bubble is None:
                continue
            if (
                items
                and items[-1]["type"] == "text"
                and items[-1]["text"] == clean(custom.get("text") or "")
            ):
                items[-1] = bubble  # the card replaces its own text; the text is its altText
            else:
                items.append(bubble)
    items = _merge_to_fit(items)
    messages: list[dict[str, Any]] = []
    for item in items:
        if item["type"] == "text":
            messages += [{"type": "text", "text": t} for t in split_text(item["text"])]
        else:
            messages.append(item)
    qr = quick_reply(buttons)
    if qr and messages:
        messages[-1] = {**messages[-1], "quickReply": qr}
    return messages


def text_messages(text: str, buttons: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One reply that is only text (and buttons), e.g. an agent's message."""
    return render([{"text": text, "buttons": buttons or []}])


@dataclass
class Plan:
    reply: list[dict[str, Any]] = field(default_factory=list)
    pushes: list[list[dict[str, Any]]] = field(default_factory=list)


def plan(messages: list[dict[str, Any]], can_reply: bool) -> Plan:
    """Free reply first (one call, ≤ 5 messages); what does not fit, or everything
    when the reply token is gone, in pushes of ≤ 5."""
    rest = messages
    out = Plan()
    if can_reply and messages:
        out.reply, rest = messages[:MAX_MESSAGES], messages[MAX_MESSAGES:]
    out.pushes = [rest[i : i + MAX_MESSAGES] for i in range(0, len(rest), MAX_MESSAGES)]
    return out


def retry_key(scope: str, n: int = 0) -> str:
    """X-Line-Retry-Key of the n-th push for ``scope`` (a webhook event id, an agent
    message id): the same push retried — by us or after a restart — has the same key,
    so LINE accepts it once (409 for the repeats)."""
    return str(uuid.uuid5(_RETRY_NAMESPACE, f"{scope}:{n}"))
