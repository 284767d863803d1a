"""もしかして at scale: the character index ranks exactly like rapidfuzz over every name."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path

import pytest
import yaml
from rapidfuzz import fuzz, process

from assistant import question
from assistant.glossary import load_glossary
from assistant.matcher import TermMatcher, _KeyFolder
from assistant.normalize import key_form
from assistant.suggest import FuzzyNames

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "bench_content", REPO / "scripts" / "bench_content.py"
)
assert _spec and _spec.loader
bench_content = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench_content)


def brute_force_suggest(matcher: TermMatcher, query: str, limit: int = 3, cutoff: float = 50.0):
    """`TermMatcher.suggest` as it was before the index: rapidfuzz over every name."""
    q = key_form(query)
    if not q:
        return []
    if q.isascii() and len(q) <= 4:
        cutoff = max(cutoff, 70.0)
    out: list[str] = []
    for m in matcher.find(query):
        if m.term not in out:
            out.append(m.term)
    choices = matcher._fuzzy_choices
    results = process.extract(q, list(choices), scorer=fuzz.ratio, limit=20, score_cutoff=cutoff)
    for key, _score, _ in results:
        if choices[key] not in out:
            out.append(choices[key])
    return out[:limit]


@pytest.fixture(scope="module")
def matcher():
    return TermMatcher(load_glossary())


def _typos(word: str, rng: random.Random, kana: str) -> list[str]:
    out = []
    for i in range(len(word)):
        out.append(word[:i] + word[i + 1 :])  # deletion
        out.append(word[:i] + rng.choice(kana) + word[i + 1 :])  # substitution
        out.append(word[:i] + rng.choice(kana) + word[i:])  # insertion
    out.append(word[::-1])
    out.append(word + "時間")
    out.append("新人" + word)
    return out


def _real_queries(matcher: TermMatcher) -> list[str]:
    rng = random.Random(3)
    kana = "アイウエオカキクケコサシスセソタチツテトナニヌネノンーラリルレロ時間率客"
    queries: list[str] = []
    for term in matcher.glossary:
        for name in (*term.names, term.reading):
            queries.append(name)
            queries.extend(_typos(name, rng, kana))
    cases = yaml.safe_load((REPO / "tests/eval/cases.yml").read_text(encoding="utf-8"))["cases"]
    for case in cases:
        text = case["text"]
        queries.append(text)
        matches = matcher.find(text)
        for subject in question.definition_subjects(text, matches):
            queries.append(subject.query)
        for subject in question.comparison_subjects(text, matches):
            queries.append(subject.query)
    queries += ["AHT", "KPI", "CSAT", "ACD", "CTI", "ab", "a", "😀", "", "ラーメン", "ｵﾍﾟﾚｰﾀ"]
    return queries


def test_suggestions_identical_to_brute_force_on_the_real_glossary(matcher):
    queries = _real_queries(matcher)
    assert len(queries) > 2000
    differ = [(q, matcher.suggest(q), brute_force_suggest(matcher, q)) for q in queries]
    differ = [d for d in differ if d[1] != d[2]]
    assert differ == []


def test_full_ranking_identical_to_rapidfuzz_on_the_real_glossary(matcher):
    names = list(matcher._fuzzy_choices)
    index = FuzzyNames(names)
    for q in {key_form(q) for q in _real_queries(matcher)}:
        for cutoff in (50.0, 70.0):
            expected = process.extract(q, names, scorer=fuzz.ratio, limit=20, score_cutoff=cutoff)
            assert index.extract(q, limit=20, cutoff=cutoff) == expected, q


@pytest.mark.parametrize("limit,cutoff", [(20, 50.0), (3, 70.0), (50, 30.0), (1, 90.0)])
def test_ranking_identical_to_rapidfuzz_on_a_synthetic_glossary(limit, cutoff):
    glossary = bench_content.synthetic_glossary(3000, seed=5)
    names = [key_form(n) for t in glossary for n in t.names]
    index = FuzzyNames(names)
    for q in bench_content.suggest_queries(glossary, 150, seed=9):
        q = key_form(q)
        expected = process.extract(q, names, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff)
        assert index.extract(q, limit=limit, cutoff=cutoff) == expected, q


def test_ties_keep_rapidfuzz_order_across_batches():
    # 600 names scoring the same: more than one scoring batch, order by index.
    names = ["アイウエ" + chr(0x30A1 + i % 80) + str(i) for i in range(600)]
    names[300] = "アイウエオ"
    index = FuzzyNames(names)
    expected = process.extract("アイウエオ", names, scorer=fuzz.ratio, limit=20, score_cutoff=50)
    assert index.extract("アイウエオ", limit=20, cutoff=50) == expected
    assert expected[0][2] == 300


NAMES = ["アフターコール", "コールアフター", "acw", "アアア", "ア", "顧客満足度"]
SHARED = [
    # (query, shared characters with each of NAMES, counted with multiplicity)
    ("アフターコール", [7, 7, 0, 1, 1, 0]),
    ("アア", [1, 1, 0, 2, 1, 0]),
    ("アアアア", [1, 1, 0, 3, 1, 0]),
    ("wca", [0, 0, 3, 0, 0, 0]),
    ("満足", [0, 0, 0, 0, 0, 2]),
    ("😀", [0, 0, 0, 0, 0, 0]),
    ("", [0, 0, 0, 0, 0, 0]),
]


@pytest.mark.parametrize("query,shared", SHARED)
def test_shared_character_counts(query, shared):
    assert FuzzyNames(NAMES).shared_counts(query).tolist() == shared


CANDIDATES = [
    # (query, cutoff, indices of NAMES whose bound 200*shared/(len q + len name) reaches it)
    ("アフターコール", 50.0, [0, 1]),  # アアア: 200*1/10 = 20
    ("コールアフター", 100.0, [0, 1]),  # bound 100 for the anagram; its real ratio is lower
    ("アア", 50.0, [3, 4]),  # アアア 200*2/5 = 80; ア 200*1/3 = 66.7; アフターコール 200/9 = 22
    ("アア", 70.0, [3]),
    ("cwa", 100.0, [2]),
    ("満足度", 50.0, [5]),  # 200*3/8 = 75
    ("ラーメン", 0.0, [0, 1, 2, 3, 4, 5]),  # cutoff 0: everything
]


@pytest.mark.parametrize("query,cutoff,expected", CANDIDATES)
def test_candidates(query, cutoff, expected):
    assert FuzzyNames(NAMES).candidates(query, cutoff).tolist() == expected


def test_bound_is_never_below_the_real_score():
    glossary = bench_content.synthetic_glossary(500, seed=1)
    names = [key_form(n) for t in glossary for n in t.names]
    index = FuzzyNames(names)
    for q in bench_content.suggest_queries(glossary, 60, seed=2):
        q = key_form(q)
        bounds = index.bounds(q)
        for i, name in enumerate(names):
            assert fuzz.ratio(q, name) <= bounds[i] + 1e-9


def test_empty_index_and_queries():
    assert FuzzyNames([]).extract("ア") == []
    assert FuzzyNames(NAMES).extract("") == []
    assert FuzzyNames(NAMES).extract("ア", limit=0) == []


FOLD = [
    "ｵﾍﾟﾚｰﾀｰ",  # half-width voiced marks fold with the kana before them
    "ｶﾞｲﾄﾞ",
    "ﾟア",
    "おぺれーたー",
    "Call Center",
    "ＡＣＷ",
    "カ\u3099",  # combining voiced mark
    "İstanbul",
    "ΑΣ",
    "㍿",
    "顧客満足度",
    "",
]


@pytest.mark.parametrize("text", FOLD)
def test_key_folder_is_key_form(text):
    assert _KeyFolder()(text) == key_form(text)


def test_key_folder_on_every_glossary_name():
    fold = _KeyFolder()
    glossary = bench_content.synthetic_glossary(2000, seed=4)
    for term in glossary:
        for name in (*term.names, term.reading):
            assert fold(name) == key_form(name)


def test_synthetic_glossary_is_deterministic_and_collision_free():
    a = bench_content.synthetic_glossary(1000)
    b = bench_content.synthetic_glossary(1000)
    assert a == b and len(a) == 1000
    real = load_glossary()
    assert a.terms[: len(real)] == real.terms
    real_keys = {key_form(n) for t in real for n in t.names}
    keys = [key_form(n) for t in a.terms[len(real) :] for n in t.names]
    assert len(keys) == len(set(keys)) and not real_keys & set(keys)
