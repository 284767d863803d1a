"""Text normalization for matching Japanese glossary terms.

Users type the same word many ways: ｵﾍﾟﾚｰﾀｰ, オペレータ, おぺれーたー, ＡＣＷ, acw.
`normalize` folds width (NFKC), case and kana, and `key_form` also drops the
characters people add or omit at will (long vowel marks, middle dots, spaces,
hyphens), so both sides of a comparison land on one spelling.

`normalize_with_map` keeps, for every output character, the span of input
characters it came from, so a match found in the folded text can be reported
at its place in what the user actually wrote.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator

import jaconv

# Half-width voiced/semi-voiced marks combine with the preceding kana under NFKC
# only when normalized together, so they are grouped with it.
_HALFWIDTH_MARKS = {"\uff9e", "\uff9f"}
# Characters that carry no meaning for term identity in Japanese input.
_DROPPED = set("ー-‐‑‒–—―〜~・･･ 　\t\r\n_/")


def _fold_chunk(chunk: str) -> str:
    folded = unicodedata.normalize("NFKC", chunk).lower()
    return jaconv.hira2kata(folded)


def normalize(text: str) -> str:
    """NFKC + lowercase + hiragana→katakana; keeps everything else."""
    return "".join(out for out, _, _ in _chunks(text))


def key_form(text: str) -> str:
    """The form used to compare terms: `normalize` minus optional characters."""
    return "".join(ch for ch in normalize(text) if ch not in _DROPPED)


def normalize_with_map(text: str, drop: bool = True) -> tuple[str, list[tuple[int, int]]]:
    """Return (key text, spans) where spans[i] is the input span of output char i."""
    chars: list[str] = []
    spans: list[tuple[int, int]] = []
    for folded, start, end in _chunks(text):
        for ch in folded:
            if drop and ch in _DROPPED:
                continue
            chars.append(ch)
            spans.append((start, end))
    return "".join(chars), spans


def _chunks(text: str) -> Iterator[tuple[str, int, int]]:
    i = 0
    n = len(text)
    while i < n:
        j = i + 1
        while j < n and text[j] in _HALFWIDTH_MARKS:
            j += 1
        yield _fold_chunk(text[i:j]), i, j
        i = j


def is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def is_katakana(ch: str) -> bool:
    return "\u30a0" <= ch <= "\u30ff" or "\uff66" <= ch <= "\uff9f"


def is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆ヶ"


def is_ascii_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def is_noun_char(ch: str) -> bool:
    """Characters that glue words into a compound noun (not hiragana particles)."""
    ch = unicodedata.normalize("NFKC", ch)
    return bool(ch) and all(is_kanji(c) or is_katakana(c) or is_ascii_alnum(c) for c in ch)


def blank_controls(text: str) -> str:
    """Control/format characters (NUL, BEL, zero-width…) become spaces; length is kept
    so offsets into the original text stay valid."""
    return "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)


# What the NLU (components/input_limiter.py, config.yml's max_chars) and the router read of
# one message: a question is short, and GiNZA's cost grows with the text. The door keeps up
# to CHAT_MAX_MESSAGE_CHARS (assistant/intake.py) for the tracker and the ticket.
UNDERSTOOD_CHARS = 1000


def clean_user_text(text: str, limit: int = UNDERSTOOD_CHARS) -> str:
    """Make arbitrary user input safe to process: blank control chars, cap length.
    Not stripped: offsets into it stay those of the original message."""
    return blank_controls(text[:limit])
