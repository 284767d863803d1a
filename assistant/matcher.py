"""Finds glossary terms in free text.

Every headword, alias and reading is folded with `normalize.key_form` and put
into one Aho-Corasick automaton; the user's text is folded the same way and
scanned once. Overlapping hits are resolved longest first (so 「ACW時間」 never
reports a shorter key hiding inside a longer one, and 在宅コンタクトセンター
beats コンタクトセンター).

Optional `tokens` (surface span, Sudachi normalized form, reading) from GiNZA
add two more views of the text: normalized forms catch spelling variants
Sudachi knows, readings catch terms typed partly in kana (顧客まんぞく度).
Hits from those views must start and end on token boundaries.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ahocorasick

from .glossary import Glossary
from .normalize import (
    _HALFWIDTH_MARKS,
    is_ascii_alnum,
    is_hiragana,
    is_katakana,
    key_form,
    normalize_with_map,
)
from .suggest import FuzzyNames

_HW_VOICED, _HW_SEMI_VOICED = sorted(_HALFWIDTH_MARKS)


@dataclass(frozen=True)
class Match:
    term: str  # headword
    start: int  # span in the original text
    end: int
    text: str  # what the user wrote
    via: str  # "name", "reading", "norm"


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    norm: str
    reading: str


@dataclass(frozen=True)
class _Key:
    headword: str
    is_reading: bool
    ascii_only: bool


class TermMatcher:
    def __init__(self, glossary: Glossary, min_key_len: int = 2):
        self.glossary = glossary
        self._automaton = ahocorasick.Automaton()
        fold = _KeyFolder()
        keys: dict[str, _Key] = {}
        for term in glossary:
            for name in term.names:
                k = fold(name)
                # A name wins over a reading; the first term listing a name keeps it.
                if len(k) >= min_key_len and (k not in keys or keys[k].is_reading):
                    keys[k] = _Key(term.term, False, k.isascii())
            rk = fold(term.reading)
            if len(rk) >= 3 and rk not in keys:
                keys[rk] = _Key(term.term, True, False)
        for k, info in keys.items():
            self._automaton.add_word(k, (k, info))
        self._automaton.make_automaton()
        self._keys = keys
        # Fuzzy suggestion index over names only (readings would suggest by sound alone).
        self._fuzzy_choices = {k: info.headword for k, info in keys.items() if not info.is_reading}
        self._fuzzy = FuzzyNames(list(self._fuzzy_choices))

    # -- exact matching -------------------------------------------------
    def find(self, text: str, tokens: Sequence[Token] | None = None) -> list[Match]:
        """All glossary terms in `text`, longest first, without overlaps, in text order."""
        if not text:
            return []
        hits = list(self._scan_surface(text))
        if tokens:
            hits.extend(self._scan_tokens(text, tokens))
        chosen: list[Match] = []
        # Longest span first; on ties prefer a written name over a reading, then leftmost.
        priority = {"name": 0, "norm": 1, "reading": 2}
        for m in sorted(hits, key=lambda m: (-(m.end - m.start), priority[m.via], m.start)):
            if all(m.end <= c.start or m.start >= c.end for c in chosen):
                chosen.append(m)
        return sorted(chosen, key=lambda m: m.start)

    def _scan_surface(self, text: str) -> Iterable[Match]:
        folded, spans = normalize_with_map(text)
        for end_idx, (key, info) in self._automaton.iter(folded):
            start = spans[end_idx - len(key) + 1][0]
            end = _extend_long_vowel(text, spans[end_idx][1])
            surface = text[start:end]
            if info.ascii_only and not _ascii_bounded(text, start, end):
                continue
            if info.is_reading and not _typed_in_kana(surface):
                continue
            yield Match(
                info.headword, start, end, surface, "reading" if info.is_reading else "name"
            )

    def _scan_tokens(self, text: str, tokens: Sequence[Token]) -> Iterable[Match]:
        for view in ("norm", "reading"):
            chars: list[str] = []
            owner: list[int] = []
            for i, tok in enumerate(tokens):
                k = key_form(getattr(tok, view) or "")
                chars.extend(k)
                owner.extend([i] * len(k))
            joined = "".join(chars)
            for end_idx, (key, info) in self._automaton.iter(joined):
                s_idx = end_idx - len(key) + 1
                first, last = owner[s_idx], owner[end_idx]
                # Must cover whole tokens, or it is a coincidence inside a word.
                if (s_idx > 0 and owner[s_idx - 1] == first) or (
                    end_idx + 1 < len(owner) and owner[end_idx + 1] == last
                ):
                    continue
                start, end = tokens[first].start, tokens[last].end
                surface = text[start:end]
                if info.ascii_only and not _ascii_bounded(text, start, end):
                    continue
                if view == "reading" and not any(is_hiragana(c) for c in surface):
                    # Katakana/kanji text already matched (or not) by its spelling;
                    # matching it by sound would turn アフレコ (dubbing) into あふれ呼.
                    continue
                yield Match(info.headword, start, end, surface, view)

    # -- fuzzy suggestions ----------------------------------------------
    def suggest(self, query: str, limit: int = 3, cutoff: float = 50.0) -> list[str]:
        """Up to `limit` headwords that look like `query` (for もしかして)."""
        q = key_form(query)
        if not q:
            return []
        if q.isascii() and len(q) <= 4:
            # Short abbreviations share letters by chance (AHT ~ CSAT): be strict.
            cutoff = max(cutoff, 70.0)
        out: list[str] = []
        # Terms written inside the query first (ACW時間 → アフターコールワーク).
        for m in self.find(query):
            if m.term not in out:
                out.append(m.term)
        # Same ranking as rapidfuzz's extract over every name, without scoring them all.
        for key, _score, _ in self._fuzzy.extract(q, limit=20, cutoff=cutoff):
            head = self._fuzzy_choices[key]
            if head not in out:
                out.append(head)
        return out[:limit]


class _KeyFolder(dict[str, str]):
    """`key_form` with each character's folding remembered: a large glossary folds
    millions of characters but only a few thousand distinct ones. Same output as
    `key_form` (text with half-width voiced marks, which fold together with the
    character before them, goes through `key_form` itself)."""

    def __missing__(self, ch: str) -> str:
        folded = key_form(ch)
        self[ch] = folded
        return folded

    def __call__(self, text: str) -> str:
        if _HW_VOICED in text or _HW_SEMI_VOICED in text:
            return key_form(text)
        return "".join(map(self.__getitem__, text))


def _extend_long_vowel(text: str, end: int) -> int:
    # The key form drops ー, so a hit on オペレーター ends at タ; take the ー back.
    while end < len(text) and text[end] in "ーｰ":
        end += 1
    return end


def _ascii_bounded(text: str, start: int, end: int) -> bool:
    """ASCII keys (CS, SV, CRM) must not be part of a longer ASCII word (CSS, SVG)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (is_ascii_alnum(_nfkc(before)) or is_ascii_alnum(_nfkc(after)))


def _typed_in_kana(surface: str) -> bool:
    letters = [c for c in surface if c not in "ーｰ・ "]
    return (
        bool(letters)
        and all(is_hiragana(c) for c in letters)
        and not all(is_katakana(c) for c in letters)
    )


def _nfkc(ch: str) -> str:
    return unicodedata.normalize("NFKC", ch)
