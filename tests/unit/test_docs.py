"""The README and docs/ name only paths that exist, and the README stays short."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "web" / "README.md"]
# A repo path in backticks or a Markdown link: top-level dirs this repo has, or a file at the root.
_TOP = (
    r"(?:assistant|actions|channels|components|rasa_runtime|devtools|scripts|tests"
    r"|web|data|docs|config)"
)
_CODE = re.compile(rf"`({_TOP}/[A-Za-z0-9_./-]*)`")
_LINK = re.compile(r"\]\(([^)#:]+)\)")


def _named_paths(doc: Path) -> set[str]:
    text = doc.read_text(encoding="utf-8")
    found = set()
    for match in _CODE.finditer(text):
        path = match.group(1).split(":")[0].rstrip(".,")
        if "*" in path or "<" in path or "…" in path or "node_modules" in path:  # made by npm
            continue
        found.add(path)
    for match in _LINK.finditer(text):
        target = (doc.parent / match.group(1)).resolve()
        found.add(str(target.relative_to(ROOT)) if target.is_relative_to(ROOT) else match.group(1))
    return found


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_path_named_in_the_docs_exists(doc: Path) -> None:
    missing = sorted(p for p in _named_paths(doc) if not (ROOT / p).exists())
    assert missing == []


def test_the_readme_is_short() -> None:
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 250
