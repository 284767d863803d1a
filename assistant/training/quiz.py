"""Quiz questions built only from the glossary (never invented), deterministic for a seed.

Kinds: `term_to_definition` (pick the definition of a term out of 4), `definition_to_term`
(pick the term for a definition), `abbreviation` (ACW → アフターコールワーク), `difference`
(「AとBの違い」: which of two related terms a definition belongs to). Distractors come from
the same category where there are enough, else from the whole glossary.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from ..glossary import Glossary, Term

KINDS = ("term_to_definition", "definition_to_term", "abbreviation", "difference")
OPTIONS = 4
_ABBREVIATION = re.compile(r"^[A-Za-z][A-Za-z0-9&]{1,7}$")


@dataclass(frozen=True)
class Question:
    kind: str
    term: str  # the headword the question is about (its answer or its subject)
    prompt: str
    options: tuple[str, ...]
    answer: int  # index into options
    definition: str  # the glossary definition shown as feedback
    source: str  # its seed file
    option_terms: tuple[str, ...] = ()  # the headword behind each option

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Question:
        return cls(
            kind=data["kind"],
            term=data["term"],
            prompt=data["prompt"],
            options=tuple(data["options"]),
            answer=int(data["answer"]),
            definition=data["definition"],
            source=data["source"],
            option_terms=tuple(data.get("option_terms") or ()),
        )


def abbreviations(term: Term) -> list[str]:
    """The term's short ASCII names (ACW, IVR); never the headword itself."""
    return [a for a in term.aliases if _ABBREVIATION.match(a) and a != term.term]


def related_pairs(glossary: Glossary) -> list[tuple[str, str]]:
    """Pairs (a, b) of glossary terms that name each other as related (a < b)."""
    pairs = set()
    for t in glossary:
        for r in t.related:
            if glossary.get(r) is not None and r != t.term:
                pairs.add(tuple(sorted((t.term, r))))
    return sorted(pairs)  # type: ignore[arg-type]


def kinds_for(term: Term, glossary: Glossary) -> list[str]:
    kinds = ["term_to_definition", "definition_to_term"]
    if abbreviations(term):
        kinds.append("abbreviation")
    if any(glossary.get(r) is not None and r != term.term for r in term.related):
        kinds.append("difference")
    return kinds


def _distractors(term: Term, glossary: Glossary, rng: random.Random, n: int) -> list[Term]:
    """n other terms, same category first, whose first definitions differ from the answer's."""
    answer_def = term.definitions[0].text
    others = [t for t in glossary if t.term != term.term and t.definitions[0].text != answer_def]
    same = [t for t in others if t.category == term.category]
    rest = [t for t in others if t.category != term.category]
    rng.shuffle(same)
    rng.shuffle(rest)
    return (same + rest)[:n]


def _shuffled(correct: Term, others: Sequence[Term], rng: random.Random) -> tuple[list[Term], int]:
    items = [correct, *others]
    rng.shuffle(items)
    return items, items.index(correct)


def make_question(glossary: Glossary, headword: str, kind: str, rng: random.Random) -> Question:
    """One question about `headword` of this kind (ValueError if the kind does not fit)."""
    term = glossary.get(headword)
    if term is None:
        raise ValueError(f"unknown term {headword!r}")
    if kind not in kinds_for(term, glossary):
        raise ValueError(f"{kind} does not fit {headword}")
    first = term.definitions[0]
    if kind == "difference":
        partners = [r for r in term.related if glossary.get(r) is not None and r != term.term]
        partner = glossary.get(rng.choice(partners))
        assert partner is not None
        pair = [term, partner]
        rng.shuffle(pair)
        answer = pair.index(term)
        prompt = (
            f"「{pair[0].term}」と「{pair[1].term}」の違い: 次の説明はどちらの用語のものですか?\n"
            f"「{first.text}」"
        )
        return Question(
            kind,
            term.term,
            prompt,
            tuple(t.term for t in pair),
            answer,
            first.text,
            first.source,
            tuple(t.term for t in pair),
        )
    items, answer = _shuffled(term, _distractors(term, glossary, rng, OPTIONS - 1), rng)
    if kind == "term_to_definition":
        prompt = f"「{term.term}」の意味として正しいものはどれですか?"
        options = tuple(t.definitions[0].text for t in items)
    elif kind == "definition_to_term":
        prompt = f"次の説明にあてはまる用語はどれですか?\n「{first.text}」"
        options = tuple(t.term for t in items)
    else:  # abbreviation
        short = rng.choice(abbreviations(term))
        prompt = f"「{short}」は何の略ですか?"
        options = tuple(t.term for t in items)
    return Question(
        kind,
        term.term,
        prompt,
        options,
        answer,
        first.text,
        first.source,
        tuple(t.term for t in items),
    )


def pick_kind(term: Term, glossary: Glossary, rng: random.Random) -> str:
    return rng.choice(kinds_for(term, glossary))


def categories(glossary: Glossary) -> dict[str, list[str]]:
    """Category → its headwords, in glossary order."""
    out: dict[str, list[str]] = {}
    for t in glossary:
        out.setdefault(t.category, []).append(t.term)
    return out
