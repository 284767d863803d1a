"""What the FAQ entries are about, read from their own text (title, answer, examples).

Built from the loaded FAQ entries and glossary (the Knowledge the router is given), so an
FAQ edited or added at run time is understood without retraining:

* `named(text)` — FAQs whose **title** the text names (「楽天カードのコンタクトセンターとは?」
  names the FAQ 楽天カードのコンタクトセンター, not the glossary term コンタクトセンター), or whose
  **subject** it names: the first part of a title that is no glossary term (楽天カード, TMJ,
  トランスコスモス, 外部委託) and the Latin-letter names in titles (NTT, ProCX), standing as
  a word (「TMJのアップセル研修とは」, 「ProCXのリコール対応って何?」). Several FAQs share a
  subject (楽天カード): they are ranked by BM25 over their text.
* `about_situation(text)` — the lexical retriever with a stricter bar, for a question that
  names a glossary term only in passing (「初めてコールセンターを外注するのですが…」).
* `candidates(text)` — "did you mean": the closest FAQs and terms for a message nothing
  answered, as buttons.
* `spelled_like(word)` — a glossary name one character off (「アフターコールワーフ」).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence

from rapidfuzz.distance import Levenshtein

from .faq import FaqEntry
from .faq_retrieval import FaqRetriever
from .glossary import Glossary
from .normalize import is_hiragana, is_kanji, is_katakana, is_noun_char, key_form, normalize_with_map

# A question naming a glossary term in passing must match an FAQ's text more clearly than
# one that names none (faq_retrieval.MIN_SCORE 15, margin 3).
SITUATION_MIN_SCORE = 18.0
SITUATION_MIN_MARGIN = 6.0
CANDIDATE_MIN_SCORE = 6.0
MAX_CANDIDATES = 3
_SEGMENTS = re.compile(r"への|の|で|[()（）\s]")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
_NOUN_RUN = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9ー]{2,}")


def _script(ch: str) -> str:
    if is_kanji(ch):
        return "kanji"
    if is_katakana(ch) or ch == "ー":
        return "katakana"
    if is_hiragana(ch):
        return "hiragana"
    return "other"


class FaqTopics:
    def __init__(
        self, entries: Mapping[str, FaqEntry], glossary: Glossary, retriever: FaqRetriever
    ):
        self._retriever = retriever
        names = {key_form(n) for t in glossary for n in (*t.names, t.reading)}
        self._titles: list[tuple[str, str]] = []  # (title key, id)
        subjects: dict[str, set[str]] = {}
        for faq_id, entry in entries.items():
            title_key = key_form(entry.title)
            if title_key not in names:
                self._titles.append((title_key, faq_id))
            parts = [p for p in _SEGMENTS.split(entry.title) if p]
            found = [parts[0]] if parts else []
            found += _LATIN.findall(entry.title)
            for part in found:
                key = key_form(part)
                if len(key) < 2 or key in names or all(is_hiragana(c) for c in part):
                    continue
                subjects.setdefault(key, set())
        for key in subjects:
            subjects[key] = {i for t, i in self._titles if key in t}
        self._subjects = {k: v for k, v in subjects.items() if v}
        # Headword by folded name, for typos.
        self._names: list[tuple[str, str]] = sorted(
            {(key_form(n), t.term) for t in glossary for n in t.names if len(key_form(n)) >= 3}
        )

    # -- an FAQ named ---------------------------------------------------------------
    def named(self, text: str) -> tuple[str, ...]:
        """FAQ ids the text names by title or subject, best first (empty: none)."""
        key, spans = normalize_with_map(text)
        titles = [
            (pos, -len(t), i)
            for t, i in self._titles
            if (pos := _word_at(text, key, spans, t)) is not None
        ]
        if titles:
            return (min(titles)[2],)
        hits = [
            (pos, -len(k), k)
            for k in self._subjects
            if (pos := _word_at(text, key, spans, k)) is not None
        ]
        if not hits:
            return ()
        subject = min(hits)[2]
        ids = self._subjects[subject]
        ranked = [i for i, _ in self._retriever.rank(text) if i in ids]
        return tuple(ranked)

    # -- an FAQ by its facts, a term named in passing --------------------------------------
    def about_situation(self, text: str) -> str | None:
        hit = self._retriever.best(text, SITUATION_MIN_SCORE, SITUATION_MIN_MARGIN)
        return None if hit is None else hit.id

    # -- did you mean ------------------------------------------------------------------
    def candidates(
        self, text: str, suggest: Callable[[str], Sequence[str]]
    ) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        ranked = self._retriever.rank(text)
        out += [("faq", i) for i, score in ranked[:2] if score >= CANDIDATE_MIN_SCORE]
        for word in sorted(_NOUN_RUN.findall(text), key=len, reverse=True)[:2]:
            for term in suggest(word):
                if ("term", term) not in out:
                    out.append(("term", term))
                    break
        return tuple(out[:MAX_CANDIDATES])

    # -- one character off -------------------------------------------------------------
    def spelled_like(self, word: str) -> str | None:
        key = key_form(word)
        if len(key) < 3 or not all(is_noun_char(c) or c == "ー" for c in word.strip()):
            return None
        found = set()
        for name, term in self._names:
            if abs(len(name) - len(key)) > 1 or Levenshtein.distance(key, name, score_cutoff=1) > 1:
                continue
            if key == name:
                return term
            if len(key) == 3 and not all(is_kanji(c) for c in key):
                continue
            if _compound_of(key, name):
                continue  # 「ACW時」「CS部」: another word built on the term
            found.add(term)
        return found.pop() if len(found) == 1 else None


def _compound_of(key: str, name: str) -> bool:
    """`key` is `name` with a character of another script added at an end."""
    if len(key) != len(name) + 1:
        return False
    if key.startswith(name):
        return _script(key[-1]) != _script(name[-1])
    if key.endswith(name):
        return _script(key[0]) != _script(name[0])
    return False


def _word_at(text: str, key: str, spans: Sequence[tuple[int, int]], word: str) -> int | None:
    """Where `word` (folded) stands in `text` as a word of its own, not inside a longer
    noun (「外部委託先」 is not 外部委託); `key`/`spans` are normalize_with_map(text)."""
    start = 0
    while word and (pos := key.find(word, start)) >= 0:
        first, last = spans[pos][0], spans[pos + len(word) - 1][1]
        before = first == 0 or not is_noun_char(text[first - 1])
        after = last >= len(text) or not is_noun_char(text[last])
        if before and after:
            return pos
        start = pos + 1
    return None


__all__ = ["FaqTopics"]
