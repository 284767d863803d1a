"""Lexical FAQ retrieval: the FAQ whose own text shares the most rare words with a question.

The ResponseSelector learns each FAQ from its example questions, so a question phrased
through a fact of the answer (「84%がサービス継続意向…」「物品管理や配送状況を一元管理できる会社」)
finds no example like it and falls to "please rephrase". This module ranks the FAQ entries by
BM25 over their title, answer and example questions, so such a question still finds the
entry whose answer holds the fact.

Words are character bigrams of the folded text (`normalize.key_form`: NFKC, width, case,
hiragana→katakana, long vowels dropped), cut at punctuation and digits: no tokenizer is
needed, and on the eval's FAQ questions they ranked the right entry first as often as
GiNZA's normalised tokens did (56 of 59 against 53-54; see scripts/measure_faq_retrieval.py).

`best` answers only when the winner is clear: a score of at least MIN_SCORE and a lead of
at least MIN_MARGIN over the runner-up. On the eval (so not a blind choice), the FAQ
questions the ResponseSelector missed scored 15-44 with such a lead; person requests,
「KPIとは」-style questions and 「おすすめのラーメン屋さん」 reached 10-14 (「担当者」「おすすめ」
are in FAQ answers), tags, emoji and random kana at most 4.

Pure: no Rasa, no GiNZA; the actions ask it only when the ResponseSelector is unsure.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .faq import FaqEntry
from .normalize import key_form

MIN_SCORE = 15.0
MIN_MARGIN = 3.0
# Bigrams never span these: punctuation, brackets, digits (「3,000社」 and 「84%」 add nothing
# a number-free bigram does not) and the list/label marks of data/faq.yml.
_BREAKS = re.compile(r"[、。,.!?！？「」『』()（）\[\]【】:：;；%％※\d\s・]+")


def words(text: str) -> list[str]:
    """The character bigrams BM25 counts, in order (with repeats)."""
    out: list[str] = []
    for part in _BREAKS.split(key_form(text)):
        out.extend(part[i : i + 2] for i in range(len(part) - 1))
    return out


# Content words: runs of kanji / katakana (bigrams, a lone kanji as itself) and Latin words
# (whole: 「EC」 is not the 「ec」 inside 「Connect」); hiragana runs (particles, endings) and
# bigrams across a script change (「くれる会社」's 「ル会」) are left out.
_CONTENT_RUN = re.compile(r"[a-z0-9]+|[ぁ-ゖ][ぁ-ゖー]*|[^ぁ-ゖa-z0-9]+")
_HIRAGANA_RUN = re.compile(r"[ぁ-ゖ][ぁ-ゖー]*")
_LATIN_RUN = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> list[str]:
    """The content-word tokens of `text`, in order: what tells items of one kind apart
    (「解約を防いでくれる会社」 → 解約, 防, 会社), not the phrasing they share."""
    out: list[str] = []
    for part in _BREAKS.split(unicodedata.normalize("NFKC", text).lower()):
        for run in _CONTENT_RUN.findall(part):
            if _HIRAGANA_RUN.fullmatch(run):
                continue
            if _LATIN_RUN.fullmatch(run):
                if len(run) >= 2:
                    out.append(run)
                continue
            key = key_form(run)
            if len(key) == 1:
                out.append(key)
            out.extend(key[i : i + 2] for i in range(len(key) - 1))
    return out


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    margin: float  # lead over the runner-up


class FaqRetriever:
    """Okapi BM25 over one document per FAQ entry (title + answer + example questions)."""

    def __init__(
        self,
        entries: Mapping[str, FaqEntry],
        k1: float = 1.5,
        b: float = 0.75,
        tokens: Callable[[str], list[str]] = words,
    ):
        if not entries:
            raise ValueError("no FAQ entries")
        self._k1, self._b = k1, b
        self._tokens = tokens
        self._ids = list(entries)
        self._counts = [Counter(tokens(_document(entries[i]))) for i in self._ids]
        self._lengths = [sum(c.values()) for c in self._counts]
        self._avg_length = sum(self._lengths) / len(self._lengths)
        n = len(self._ids)
        df = Counter(w for c in self._counts for w in c)
        self._idf = {w: math.log((n - k + 0.5) / (k + 0.5) + 1) for w, k in df.items()}

    def rank(self, text: str) -> list[tuple[str, float]]:
        """Every entry id with its score, best first (ties keep data/faq.yml order)."""
        query = set(self._tokens(text))
        scored = []
        for pos, (faq_id, counts, length) in enumerate(
            zip(self._ids, self._counts, self._lengths, strict=True)
        ):
            norm = self._k1 * (1 - self._b + self._b * length / self._avg_length)
            score = sum(
                self._idf[w] * counts[w] * (self._k1 + 1) / (counts[w] + norm)
                for w in query
                if w in counts
            )
            scored.append((-score, pos, faq_id))
        return [(faq_id, -neg) for neg, _, faq_id in sorted(scored)]

    def best(
        self, text: str, min_score: float = MIN_SCORE, min_margin: float = MIN_MARGIN
    ) -> Hit | None:
        """The clear winner for `text`, or None when no entry stands out."""
        ranked = self.rank(text)
        (top_id, top), runner_up = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        if top >= min_score and top - runner_up >= min_margin:
            return Hit(top_id, top, top - runner_up)
        return None


def _document(entry: FaqEntry) -> str:
    return "\n".join((entry.title, entry.answer, *entry.questions))
