"""The FAQ: loads data/faq.yml into plain dataclasses."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from .glossary import REPO_ROOT

FAQ_PATH = REPO_ROOT / "data" / "faq.yml"


@dataclass(frozen=True)
class FaqEntry:
    id: str
    title: str
    answer: str
    source: str
    url: str | None
    as_of: str | None
    questions: tuple[str, ...]


@lru_cache(maxsize=4)
def load_faq(path: Path | str = FAQ_PATH) -> dict[str, FaqEntry]:
    with open(path, encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    entries = {}
    for e in raw["faqs"]:
        entries[e["id"]] = FaqEntry(
            id=e["id"],
            title=e["title"],
            answer=e["answer"].strip(),
            source=e["source"],
            url=e.get("url"),
            as_of=e.get("as_of"),
            questions=tuple(e.get("questions") or ()),
        )
    return entries
