"""Content records (plain dicts, as stored and exported) and the immutable snapshot the
servers answer from.

A *record* is the JSON form of a term or an FAQ, the same shape as an entry of
data/glossary.yml / data/faq.yml:

* term: ``{term, reading, aliases[], category, related[], definitions[{text, source, note}]}``
* faq: ``{id, title, answer, source, url, as_of, questions[]}``

`Content` bundles everything derived from one revision of the records: the glossary,
the FAQ entries, the term matcher, the FAQ retriever and the router's Knowledge. It is
built off the hot path and swapped in with one assignment (assistant/content/live.py),
so a turn always sees one consistent revision.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from .. import routing
from ..faq import FAQ_PATH, FaqEntry
from ..faq_retrieval import FaqRetriever
from ..glossary import Definition, Glossary, Term, glossary_path
from ..matcher import TermMatcher

Record = dict[str, Any]
KINDS = ("term", "faq")


def term_key(record: Mapping[str, Any]) -> str:
    return str(record.get("term") or "")


def faq_key(record: Mapping[str, Any]) -> str:
    return str(record.get("id") or "")


def key_of(kind: str, record: Mapping[str, Any]) -> str:
    return term_key(record) if kind == "term" else faq_key(record)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _list(value: Any, separators: str = "、,|\n") -> list[str]:
    """A list of distinct non-blank strings; a string is split at any of `separators`
    (a cell of a CSV file: 「ACW|後処理」)."""
    if value is None:
        return []
    if isinstance(value, str):
        for sep in separators[1:]:
            value = value.replace(sep, separators[0])
        value = value.split(separators[0])
    out: list[str] = []
    for v in value:
        s = _text(v)
        if s and s not in out:
            out.append(s)
    return out


def clean_term(raw: Mapping[str, Any]) -> Record:
    """A term record with stripped text, lists without blanks or repeats, a fixed key order."""
    definitions = []
    for d in raw.get("definitions") or []:
        if isinstance(d, str):
            d = {"text": d}
        if not isinstance(d, Mapping):
            continue
        item = {"text": _text(d.get("text")), "source": _text(d.get("source"))}
        if _text(d.get("note")):
            item["note"] = _text(d.get("note"))
        if item["text"] or item["source"] or "note" in item:
            definitions.append(item)
    term = _text(raw.get("term"))
    return {
        "term": term,
        "reading": _text(raw.get("reading")),
        "aliases": [a for a in _list(raw.get("aliases")) if a != term],
        "category": _text(raw.get("category")),
        "related": _list(raw.get("related")),
        "definitions": definitions,
    }


def clean_faq(raw: Mapping[str, Any]) -> Record:
    return {
        "id": _text(raw.get("id")),
        "title": _text(raw.get("title")),
        "answer": _text(raw.get("answer")),
        "source": _text(raw.get("source")),
        "url": _text(raw.get("url")) or None,
        "as_of": _text(raw.get("as_of")) or None,
        "questions": _list(raw.get("questions"), "\n|"),  # a question may contain 、
    }


def clean(kind: str, raw: Mapping[str, Any]) -> Record:
    return clean_term(raw) if kind == "term" else clean_faq(raw)


def to_term(record: Mapping[str, Any]) -> Term:
    return Term(
        term=record["term"],
        reading=record["reading"],
        aliases=tuple(record.get("aliases") or ()),
        category=record["category"],
        related=tuple(record.get("related") or ()),
        definitions=tuple(
            Definition(d["text"], d.get("source") or "") for d in record["definitions"]
        ),
    )


def to_faq(record: Mapping[str, Any]) -> FaqEntry:
    return FaqEntry(
        id=record["id"],
        title=record["title"],
        answer=record["answer"],
        source=record.get("source") or "",
        url=record.get("url"),
        as_of=record.get("as_of"),
        questions=tuple(record.get("questions") or ()),
    )


@dataclass(frozen=True)
class Content:
    """One revision of the content and everything the servers derive from it."""

    revision: int
    terms: tuple[Record, ...]
    faq_records: tuple[Record, ...]
    glossary: Glossary
    faqs: Mapping[str, FaqEntry]
    matcher: TermMatcher
    knowledge: routing.Knowledge


def build(
    terms: Iterable[Mapping[str, Any]], faqs: Iterable[Mapping[str, Any]], revision: int = 0
) -> Content:
    term_records = tuple(dict(t) for t in terms)
    faq_records = tuple(dict(f) for f in faqs)
    headwords = {t["term"] for t in term_records}
    # A related term that was disabled since is left out of the answer.
    glossary = Glossary(
        terms=tuple(
            to_term({**t, "related": [r for r in t.get("related") or () if r in headwords]})
            for t in term_records
        )
    )
    entries = {f["id"]: to_faq(f) for f in faq_records}
    matcher = TermMatcher(glossary)
    return Content(
        revision=revision,
        terms=term_records,
        faq_records=faq_records,
        glossary=glossary,
        faqs=entries,
        matcher=matcher,
        knowledge=routing.knowledge(glossary, entries, FaqRetriever(entries), matcher),
    )


def seed_records(
    glossary_file: Path | str | None = None, faq_file: Path | str | None = None
) -> tuple[list[Record], list[Record]]:
    """The records of data/glossary.yml ($GLOSSARY_FILE) and data/faq.yml, cleaned."""
    with open(glossary_file or glossary_path(), encoding="utf-8") as f:
        raw_terms = yaml.safe_load(f)["terms"]
    with open(faq_file or FAQ_PATH, encoding="utf-8") as f:
        raw_faqs = yaml.safe_load(f)["faqs"]
    return [clean_term(t) for t in raw_terms], [clean_faq(f) for f in raw_faqs]


def from_files(
    glossary_file: Path | str | None = None, faq_file: Path | str | None = None
) -> Content:
    terms, faqs = seed_records(glossary_file, faq_file)
    return build(terms, faqs)
