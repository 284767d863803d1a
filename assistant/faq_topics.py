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
* `aspect(text, terms)` — an FAQ titled 「<glossary term>の<aspect>」 (コンタクトセンターの基本 /
  役割 / まとめ) when the question names the term and asks that aspect: the aspect's word
  (「…について簡単にまとめて」 → のまとめ), or, for a basics FAQ (基本 / 基礎 / 入門), a
  beginner's marker (初めて / 初心者 / 入門 / わかりやすく): 「コンタクトセンターを初めて知り
  ました。どんなものか教えて」 wants the beginners' FAQ, not the one-line definition.
* `is_method(faq_id)` — the FAQ's title names a method (…への連絡方法, …の選び方): it answers
  how, not where (「どこに相談すれば」 wants the contact center, not how to reach it).
* `fullest_list(faq_id)` — of the list FAQs sharing items, the one that is most the list
  (「どこに頼めば…」 asks for organisations: the list, not a guide that names them).
* `item(faq_id, text)` — the items of a list FAQ (one whose answer names several other FAQs:
  おすすめのアウトソーシング先 → トランスコスモス, TMJ, NTT…): of an item picked, the sibling whose
  own text holds the question's content words clearly more (「ECの解約を減らしたい」 → TMJ),
  ranked over content words only (kanji/katakana/Latin words: the phrasing every 「〜してくれる
  会社は?」 shares tells no item apart). None when no item stands out (「おすすめの会社は?」).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence

from rapidfuzz.distance import Levenshtein

from .faq import FaqEntry
from .faq_retrieval import FaqRetriever, content_words
from .glossary import Glossary
from .normalize import (
    is_hiragana,
    is_kanji,
    is_katakana,
    is_noun_char,
    key_form,
    normalize_with_map,
)

# A question naming a glossary term in passing must match an FAQ's text more clearly than
# one that names none (faq_retrieval.MIN_SCORE 15, margin 3).
SITUATION_MIN_SCORE = 18.0
SITUATION_MIN_MARGIN = 6.0
CANDIDATE_MIN_SCORE = 6.0
CONTENT_CANDIDATE_MIN_SCORE = 4.0
ITEM_RATIO = 0.75  # an item within 75 % of its list's score comes first
# An item of a list by its content words: questions for the list itself (「おすすめの委託先を
# 教えて」) reach at most ~4 with a lead under 3 over the next item (tests/eval, not the holdout).
ITEM_MIN_SCORE = 6.0
ITEM_MIN_LEAD = 3.5
# An organisation asked for (どこ / 「…してくれる会社」): the item the content words rank first
# of all FAQs (above the list and the guides), at this score and this many times the next item.
ASKED_ITEM_MIN_SCORE = 4.0
ASKED_ITEM_RATIO = 1.5
MIN_LIST_ITEMS = 2  # an answer naming this many other FAQs is a list of them
_DROPPED_MARKS = "ーｰ-‐・･"
MAX_CANDIDATES = 3
_SEGMENTS = re.compile(r"への|の|で|[()（）\s]")
_LATIN = re.compile(r"[A-Za-z][A-Za-z0-9]{2,}")
_NOUN_RUN = re.compile(r"[\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9ー]{2,}")
# A title naming a method: 「…への連絡方法」「…の選び方」「…の手順」.
_METHOD_TITLE = re.compile(r"(?:方法|仕方|やり方|手順|[ぁ-ん]方)$")
# A basics FAQ's aspect (「コンタクトセンターの基本」), and how a beginner asks for it.
_BASICS_ASPECT = re.compile(r"^(?:基本|基礎|入門|初級|初歩|超入門|初心者向け|はじめて|初めて)")
_BEGINNER = re.compile(
    r"初めて|はじめて|初心者|初級|初歩|入門|素人|しろうと|ビギナー|基本|基礎|一から|いちから|ゼロから"
    r"|わかりやすく|分かりやすく|わかりやすい|分かりやすい|よく知らない|全然知らない|何も知らない"
)


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
        self,
        entries: Mapping[str, FaqEntry],
        glossary: Glossary,
        retriever: FaqRetriever,
    ):
        self._retriever = retriever
        self._last_rank: tuple[str | None, list[tuple[str, float]]] = (None, [])
        names = {key_form(n) for t in glossary for n in (*t.names, t.reading)}
        self._titles: list[tuple[str, str]] = []  # (title key, id)
        subjects: dict[str, set[str]] = {}
        for faq_id, entry in entries.items():
            title_key = key_form(entry.title)
            if title_key not in names:
                self._titles.append((title_key, faq_id))
            parts = [p for p in _SEGMENTS.split(entry.title) if p]
            # A proper subject: the whole title (TMJ, トランスコスモス), its Latin-letter names
            # (NTT, ProCX), or a first part that several titles share (楽天カード); a
            # descriptive part (外部委託, アウトソーシング先) is a topic the retriever weighs.
            found = [entry.title, *_LATIN.findall(entry.title)]
            if (
                parts
                and sum(
                    key_form(e.title).startswith(key_form(parts[0]) + "ノ")
                    for e in entries.values()
                )
                >= 2
            ):
                found.append(parts[0])
            for part in found:
                key = key_form(part)
                if len(key) < 2 or key in names or all(is_hiragana(c) for c in part):
                    continue
                subjects.setdefault(key, set())
        for key in subjects:
            subjects[key] = {i for t, i in self._titles if key in t}
        self._subjects = {k: v for k, v in subjects.items() if v}
        # (list, item): an FAQ whose answer names another FAQ's title (おすすめの
        # アウトソーシング先 names TMJ): for a question about the item's facts, the item.
        self._lists = {
            (a, b)
            for a in entries
            for b in entries
            if a != b
            and len(key_form(entries[b].title)) >= 3
            and key_form(entries[b].title) in key_form(entries[a].answer)
        }
        # Lists and their items; the items told apart by their content words.
        items: dict[str, set[str]] = {}
        for a, b in self._lists:
            items.setdefault(a, set()).add(b)
        self._items = {a: bs for a, bs in items.items() if len(bs) >= MIN_LIST_ITEMS}
        self._methods = {i for i, e in entries.items() if _METHOD_TITLE.search(e.title.strip())}
        # How much of a list's answer its items' names are (a list, not a guide naming them).
        self._density = {
            a: sum(len(key_form(entries[b].title)) for b in bs)
            / max(1, len(key_form(entries[a].answer)))
            for a, bs in self._items.items()
        }
        self._content = FaqRetriever(entries, tokens=content_words)
        # (headword, aspect key, basics?, id) of the titles 「<term>の<aspect>」.
        by_name = {key_form(n): t.term for t in glossary for n in t.names if len(key_form(n)) >= 2}
        self._aspects: list[tuple[str, str, bool, str]] = []
        for faq_id, entry in entries.items():
            head, sep, aspect = entry.title.partition("の")
            if sep and aspect and key_form(head) in by_name and len(key_form(aspect)) >= 2:
                basics = bool(_BASICS_ASPECT.match(aspect))
                self._aspects.append((by_name[key_form(head)], key_form(aspect), basics, faq_id))
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
            # The title named first, then the FAQs whose longer titles hold it (楽天カードの
            # コンタクトセンター → …への連絡方法): the router may prefer the selector's pick.
            _, _, first = min(titles)
            title = {i: t for t, i in self._titles}[first]
            longer = [i for t, i in self._titles if i != first and title in t]
            return (first, *longer)
        hits = [
            (pos, -len(k), k)
            for k in self._subjects
            if (pos := _word_at(text, key, spans, k)) is not None
        ]
        if not hits:
            return ()
        subject = min(hits)[2]
        ids = self._subjects[subject]
        ranked = [i for i, _ in self.ranked(text) if i in ids]
        return tuple(ranked)

    # -- an aspect of a term ---------------------------------------------------------
    def aspect(self, text: str, terms: Collection[str]) -> str | None:
        """The FAQ 「<term>の<aspect>」 whose aspect the text asks of one of `terms` (its
        word, or a beginner's marker for a basics FAQ); None when none or several do."""
        key = key_form(text)
        beginner = bool(_BEGINNER.search(text))
        found = {
            faq_id
            for term, aspect, basics, faq_id in self._aspects
            if term in terms and (aspect in key or (basics and beginner))
        }
        return found.pop() if len(found) == 1 else None

    # -- an FAQ by its facts ------------------------------------------------------------
    def lists(self, list_id: str, item_id: str) -> bool:
        """The FAQ `list_id`'s answer names the FAQ `item_id` (a list and one of its items)."""
        return (list_id, item_id) in self._lists

    def is_method(self, faq_id: str) -> bool:
        """The FAQ's title names a method (how), not a thing or a place."""
        return faq_id in self._methods

    def fullest_list(self, faq_id: str) -> str | None:
        """Of the list FAQs that share items with `faq_id` (itself a list), the one whose
        answer is most the list (the most of its text the items' names): 「おすすめの
        アウトソーシング先」, not the guide 「アウトソーシング先の選び方」 that ends with the
        same names. None when `faq_id` is no list."""
        if faq_id not in self._items:
            return None
        lists = [a for a, items in self._items.items() if items & self._items[faq_id]]
        return max(lists, key=lambda a: (self._density[a], a == faq_id))

    def method_list(self, faq_id: str) -> str | None:
        """Of the list FAQs that share items with `faq_id` (itself a list), the one whose
        title names a method (「アウトソーシング先の選び方」 for 「おすすめのアウトソーシング
        先」); None when `faq_id` is no list or no such guide exists."""
        if faq_id not in self._items:
            return None
        guides = [
            a
            for a, items in self._items.items()
            if a in self._methods and items & self._items[faq_id]
        ]
        return guides[0] if len(guides) == 1 else None

    def ranked(self, text: str) -> list[tuple[str, float]]:
        """BM25 ranking, with an item moved before the list that names it when the two are
        close (「在宅勤務やDXに強いアウトソーシング先」: トランスコスモス, not the list)."""
        if self._last_rank[0] == text:  # the router asks several times about one message
            return self._last_rank[1]
        ranked = self._retriever.rank(text)
        if len(ranked) >= 2:
            (a, sa), (b, sb) = ranked[0], ranked[1]
            if self.lists(a, b) and sb >= ITEM_RATIO * sa:
                # The lists that name the item are no rivals of it.
                ranked = [(b, sb)] + [(i, x) for i, x in ranked[2:] if not self.lists(i, b)]
        self._last_rank = (text, ranked)
        return ranked

    def item(self, faq_id: str, text: str) -> str | None:
        """`faq_id` is an item of a list: the sibling item the question's content words
        clearly point to instead (None: `faq_id` stands, or is in no list). A list itself
        is left as it is: 「どんな基準で委託先を選べば…」 is a guide, not an item."""
        group: set[str] = set()
        for items in self._items.values():
            if faq_id in items:
                group |= items
        if not group:
            return None
        ranked = [(i, score) for i, score in self._content.rank(text) if i in group]
        (top, score), runner_up = ranked[0], ranked[1][1] if len(ranked) > 1 else 0.0
        if score >= ITEM_MIN_SCORE and score - runner_up >= ITEM_MIN_LEAD and top != faq_id:
            return top
        return None

    def asked_item(self, text: str) -> str | None:
        """The question asks for an organisation: the item of a list (one organisation's FAQ)
        its content words rank first of every FAQ — above the lists and guides, which a
        question for "a good company" in general ranks first — and clearly above the next
        item (「解約を防いでくれる会社」 → TMJ). None otherwise."""
        items = set().union(*self._items.values()) if self._items else set()
        ranked = self._content.rank(text)
        if not ranked or ranked[0][0] not in items:
            return None
        top, score = ranked[0]
        runner_up = next((x for i, x in ranked[1:] if i in items), 0.0)
        if score >= ASKED_ITEM_MIN_SCORE and score >= ASKED_ITEM_RATIO * runner_up:
            return top
        return None

    def is_item(self, faq_id: str) -> bool:
        """The FAQ is an item of a list (one organisation of 「おすすめの…」)."""
        return any(faq_id in items for items in self._items.values())

    def clear_winner(self, text: str, min_score: float, min_margin: float) -> str | None:
        ranked = self.ranked(text)
        top, score = ranked[0]
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        return top if score >= min_score and score - runner_up >= min_margin else None

    def about_situation(self, text: str) -> str | None:
        return self.clear_winner(text, SITUATION_MIN_SCORE, SITUATION_MIN_MARGIN)

    # -- did you mean ------------------------------------------------------------------
    def candidates(
        self, text: str, suggest: Callable[[str], Sequence[str]]
    ) -> tuple[tuple[str, str], ...]:
        out: list[tuple[str, str]] = []
        # The FAQ its content words point to (「解約を防いでくれる会社」 → TMJ), then the closest
        # by the whole text.
        content = self._content.rank(text)[0]
        if content[1] >= CONTENT_CANDIDATE_MIN_SCORE:
            out.append(("faq", content[0]))
        ranked = self.ranked(text)
        for i, score in ranked[:2]:
            if score >= CANDIDATE_MIN_SCORE and ("faq", i) not in out:
                out.append(("faq", i))
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
        while last < len(text) and text[last] in _DROPPED_MARKS:
            last += 1  # 「…センター」: the long vowel the folded form drops
        before = first == 0 or not is_noun_char(text[first - 1])
        after = last >= len(text) or not is_noun_char(text[last])
        if before and after:
            return pos
        start = pos + 1
    return None


__all__ = ["FaqTopics"]
