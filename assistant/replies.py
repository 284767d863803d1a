"""Builds what the bot says: Japanese text plus the JSON payload channels render.

Every reply carries `payload["kind"]` (the response contract, assistant/contract.py) and
`payload["text"]`, the same text as the message, so a client that renders the
payload can replace the plain bubble instead of showing both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from .contract import payload
from .faq import FaqEntry
from .glossary import Term

NUMBERS = "①②③④⑤"
HUMAN_BUTTON = {"title": "オペレーターに相談", "payload": "/request_human"}
MAX_ECHO = 30  # never echo more than this much of what the user typed
# Tags, and any stray angle bracket, in what is quoted back: a client that renders the
# reply as HTML must never get the user's markup (<script>…) back from the bot.
_MARKUP = re.compile(r"<[^<>]*>|[<>]")


@dataclass
class Reply:
    text: str
    payload: dict
    buttons: list[dict] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.payload.setdefault("text", self.text)


def _echo(query: str) -> str:
    """What the user typed, to quote back: one line, no markup, at most MAX_ECHO characters."""
    query = " ".join(_MARKUP.sub(" ", query).split()) or "…"
    return query if len(query) <= MAX_ECHO else query[:MAX_ECHO] + "…"


def _definition_lines(term: Term) -> list[str]:
    if len(term.definitions) == 1:
        return [term.definitions[0].text]
    return [f"{NUMBERS[i]} {d.text}" for i, d in enumerate(term.definitions)]


def definition(term: Term) -> Reply:
    lines = [f"【{term.term}】"]
    if term.reading != term.term:
        lines[0] += f"({term.reading})"
    lines += _definition_lines(term)
    if term.aliases:
        lines.append("別名: " + "、".join(term.aliases))
    if term.related:
        lines.append("関連用語: " + "、".join(term.related))
    text = "\n".join(lines)
    return Reply(
        text,
        payload(
            "definition",
            text,
            term=term.term,
            reading=term.reading,
            definitions=[d.text for d in term.definitions],
            aliases=list(term.aliases),
            related=list(term.related),
            category=term.category,
            source=term.definitions[0].source,
            sources=list(term.sources),
        ),
    )


def comparison(a: Term, b: Term) -> Reply:
    lines = [f"「{a.term}」と「{b.term}」の違いを、用語集の定義で比べます。"]
    for t in (a, b):
        lines.append(f"\n【{t.term}】")
        lines += _definition_lines(t)
    text = "\n".join(lines)
    items = [
        {"term": t.term, "reading": t.reading, "definitions": [d.text for d in t.definitions]}
        for t in (a, b)
    ]
    return Reply(text, payload("comparison", text, terms=[a.term, b.term], items=items))


def unknown_term(query: str, suggestions: list[str]) -> Reply:
    shown = _echo(query)
    lines = [f"「{shown}」は用語集に登録されていないため、お答えできません。"]
    if suggestions:
        lines.append("もしかして: " + "、".join(f"「{s}」" for s in suggestions) + "?")
    lines.append("担当者(オペレーター)にお問い合わせいただくこともできます。")
    buttons = [{"title": s, "payload": f"{s}とは?"} for s in suggestions]
    buttons.append(HUMAN_BUTTON)
    text = "\n".join(lines)
    return Reply(
        text, payload("unknown_term", text, query=shown, suggestions=list(suggestions)), buttons
    )


def faq(entry: FaqEntry) -> Reply:
    lines = [entry.answer]
    if entry.as_of:
        lines.append(f"({entry.as_of})")
    if entry.url:
        lines.append(f"出典: {entry.url}")
    text = "\n".join(lines)
    return Reply(
        text,
        payload(
            "faq",
            text,
            id=entry.id,
            title=entry.title,
            url=entry.url,
            as_of=entry.as_of,
            source=entry.source,
        ),
    )


def _simple(kind: str, text: str, buttons: list[dict] | None = None, **fields: object) -> Reply:
    return Reply(text, payload(kind, text, **fields), list(buttons or []))


def fallback(candidates: Sequence[tuple[str, str, str]] = ()) -> Reply:
    """Nothing to answer. With `candidates` ((kind, key, title): kind "faq" with the FAQ id,
    or "term" with the headword), "did you mean" buttons that answer when clicked."""
    if not candidates:
        return _simple(
            "fallback",
            "すみません、ご質問をうまく理解できませんでした。別の言い方で聞き直していただけますか?\n"
            "例: 「ACWとは?」「インバウンドとアウトバウンドの違いは?」",
            [HUMAN_BUTTON],
        )
    lines = ["すみません、ご質問をうまく理解できませんでした。もしかして、次のことでしょうか?"]
    lines += [f"・{title}" for _, _, title in candidates]
    text = "\n".join(lines)
    buttons = [
        {"title": title, "payload": f"{key}とは?" if kind == "term" else f"{title}について教えて"}
        for kind, key, title in candidates
    ]
    buttons.append(HUMAN_BUTTON)
    shown = [
        {"kind": kind, ("term" if kind == "term" else "id"): key, "title": title}
        for kind, key, title in candidates
    ]
    return Reply(text, payload("fallback", text, candidates=shown), buttons)


def out_of_scope() -> Reply:
    return _simple(
        "out_of_scope",
        "申し訳ありません。このアシスタントはコンタクトセンターの用語とよくあるご質問にお答えしています。"
        "用語の意味は「〇〇とは?」のようにお尋ねください。",
    )


def empty_input() -> Reply:
    return _simple(
        "fallback",
        "メッセージが空のようです。知りたい用語やご質問を入力してください(例: 「ACWとは?」)。",
        reason="empty",
    )


def reset() -> Reply:
    """After Rasa's /restart, /session_start or /back (which answer nothing themselves)."""
    return _simple(
        "reset", "会話をリセットしました。知りたい用語やご質問をどうぞ(例: 「ACWとは?」)。"
    )


def no_reply() -> Reply:
    """The bot produced no answer at all: never leave the user with an empty reply."""
    return _simple(
        "fallback",
        "すみません、うまくお答えできませんでした。もう一度お試しいただくか、言い方を変えてお尋ねください。",
        [HUMAN_BUTTON],
        reason="no_reply",
    )


# Small talk (these were canned utter_* responses in domain.yml; same text).
SMALL_TALK_TEXT = {
    "greet": "こんにちは。コンタクトセンター用語・FAQアシスタントです。"
    "用語の意味(例: 「ACWとは?」)や、よくあるご質問にお答えします。",
    "thanks": "どういたしまして。ほかにも知りたい用語があれば、いつでもお尋ねください。",
    "goodbye": "ご利用ありがとうございました。またいつでもお声がけください。",
    "feedback_thanks": "フィードバックありがとうございます。",
}


def small_talk(kind: str) -> Reply:
    """greet / thanks / goodbye / feedback_thanks."""
    return _simple(kind, SMALL_TALK_TEXT[kind])
