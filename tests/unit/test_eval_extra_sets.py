"""The dated extra eval sets (tests/eval/cases_*.yml, read by scripts/eval.py next to
cases.yml): well-formed, expectations that exist, no text copied from the training data
or from another eval case."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from tests.unit.test_content import (
    EVAL_KINDS,
    EVAL_PATH,
    dedup_key,
    load_yaml,
    nlu_examples_by_file,
)

EXTRA = sorted(EVAL_PATH.parent.glob("cases_*.yml"))
REPO = Path(__file__).resolve().parents[2]


def _cases(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]


@pytest.mark.parametrize("path", EXTRA, ids=lambda p: p.name)
def test_extra_set_is_well_formed(path: Path) -> None:
    glossary = load_yaml(REPO / "data" / "glossary.yml")["terms"]
    headwords = {t["term"] for t in glossary}
    faq_ids = {f["id"] for f in load_yaml(REPO / "data" / "faq.yml")["faqs"]}
    for c in _cases(path):
        assert {"group", "text", "expect", "set"} == set(c), c
        e = c["expect"]
        assert e["kind"] in EVAL_KINDS, c
        if e["kind"] == "definition":
            assert set(e) == {"kind", "term"} and e["term"] in headwords, c
        elif e["kind"] == "faq":
            assert set(e) == {"kind", "id"} and e["id"] in faq_ids, c
        elif e["kind"] == "unknown_term":
            assert set(e) <= {"kind", "query"}, c
        else:
            assert set(e) == {"kind"}, c


def test_extra_texts_are_new() -> None:
    seen: Counter[str] = Counter(dedup_key(c["text"]) for c in load_yaml(EVAL_PATH)["cases"])
    training = {dedup_key(t) for rows in nlu_examples_by_file().values() for _, t in rows}
    training |= {
        dedup_key(q) for f in load_yaml(REPO / "data" / "faq.yml")["faqs"] for q in f["questions"]
    }
    for path in EXTRA:
        for c in _cases(path):
            key = dedup_key(c["text"])
            assert key not in training, c
            assert seen[key] == 0, c
            seen[key] += 1
