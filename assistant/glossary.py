"""The glossary: loads data/glossary.yml into plain dataclasses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

import yaml

from .settings import get_settings

REPO_ROOT = Path(__file__).resolve().parents[1]
GLOSSARY_PATH = REPO_ROOT / "data" / "glossary.yml"
# Another glossary file (tests, staging content): read when the glossary is loaded, so a
# restart picks it up; the trained model does not need it.
GLOSSARY_ENV = "GLOSSARY_FILE"


PERSON_CATEGORY = "役職"


@dataclass(frozen=True)
class Definition:
    text: str
    source: str


@dataclass(frozen=True)
class Term:
    term: str
    reading: str
    aliases: tuple[str, ...]
    category: str
    related: tuple[str, ...]
    definitions: tuple[Definition, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Every written form that refers to this term (headword first)."""
        return (self.term, *self.aliases)

    @property
    def sources(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(d.source for d in self.definitions))


@dataclass(frozen=True)
class Glossary:
    terms: tuple[Term, ...]
    _by_name: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for t in self.terms:
            self._by_name[t.term] = t

    def get(self, headword: str) -> Term | None:
        return self._by_name.get(headword)

    def __iter__(self) -> Iterator[Term]:
        return iter(self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    @property
    def headwords(self) -> list[str]:
        return [t.term for t in self.terms]

    @cached_property
    def people(self) -> frozenset[str]:
        """Roles a user may ask to talk to (オペレーター, スーパーバイザー...)."""
        return frozenset(t.term for t in self.terms if t.category == PERSON_CATEGORY)


def parse_glossary(raw: dict) -> Glossary:
    terms = []
    for entry in raw["terms"]:
        terms.append(
            Term(
                term=entry["term"],
                reading=entry["reading"],
                aliases=tuple(entry.get("aliases") or ()),
                category=entry["category"],
                related=tuple(entry.get("related") or ()),
                definitions=tuple(
                    Definition(text=d["text"], source=d["source"]) for d in entry["definitions"]
                ),
            )
        )
    return Glossary(terms=tuple(terms))


def glossary_path() -> Path:
    """$GLOSSARY_FILE if set, else data/glossary.yml."""
    return Path(get_settings().glossary_file or GLOSSARY_PATH)


def load_glossary(path: Path | str | None = None) -> Glossary:
    """The glossary at `path`, default glossary_path()."""
    return _load(str(path or glossary_path()))


@lru_cache(maxsize=4)
def _load(path: str) -> Glossary:
    with open(path, encoding="utf-8") as f:
        return parse_glossary(yaml.safe_load(f))
