"""Typed (or button) answers matched to a question's options with the matcher's
normalisation (assistant.normalize.key_form: width, case, kana, long vowel, middle dot)
and the glossary's readings and aliases: 「あふたーこーるわーく」「ACW」 and 「2」 all count."""

from __future__ import annotations

import re

from ..glossary import Glossary
from ..normalize import key_form
from .quiz import Question

_NUMBER = re.compile(r"^\s*(?:[(（]?([1-9１-９①-⑨])[)）.．]?)\s*(?:番|ばん)?\s*(?:です|で)?\s*$")
_CIRCLED = "①②③④⑤⑥⑦⑧⑨"


_PUNCT = "「」『』。、!！?？ 　"


def _key(text: str) -> str:
    return key_form(text.strip(_PUNCT))


def _number(text: str) -> int | None:
    m = _NUMBER.match(text)
    if not m:
        return None
    ch = m.group(1)
    if ch in _CIRCLED:
        return _CIRCLED.index(ch)
    return int(key_form(ch)) - 1


def _names(question: Question, i: int, glossary: Glossary) -> list[str]:
    names = [question.options[i]]
    if i < len(question.option_terms):
        term = glossary.get(question.option_terms[i])
        if term is not None and question.kind != "term_to_definition":
            names += [*term.names, term.reading]
    return [k for k in (_key(n) for n in names) if k]


def match_answer(question: Question, text: str, glossary: Glossary) -> int | None:
    """The option the text chooses (index), or None when it names none or several."""
    n = _number(text)
    if n is not None:
        return n if 0 <= n < len(question.options) else None
    typed = _key(text)
    if not typed:
        return None
    exact = [i for i in range(len(question.options)) if typed in _names(question, i, glossary)]
    if len(exact) == 1:
        return exact[0]
    # 「答えはアフターコールワークです」: exactly one option's name inside the text
    inside = [
        i
        for i in range(len(question.options))
        if any(len(k) >= 2 and k in typed for k in _names(question, i, glossary))
    ]
    if len(inside) == 1:
        return inside[0]
    return None
