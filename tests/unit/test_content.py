"""Content checks for the glossary, the FAQ, the generic NLU data and the evaluation set.

Run from the repository root: .venv/bin/python -m pytest tests/unit/test_content.py -q

The seed texts live outside the repository, in ../shared/seeds relative to the repo root.
If that directory is missing, the seed-dependent tests are skipped locally but fail when the
environment variable CI is set.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from assistant.content.validate import KANA as STUDIO_READING
from tests.support.ci import unavailable

REPO_ROOT = Path(__file__).resolve().parents[2]
SEEDS_DIR = Path(__file__).resolve().parents[3] / "shared" / "seeds"
GLOSSARY_PATH = REPO_ROOT / "data" / "glossary.yml"
FAQ_PATH = REPO_ROOT / "data" / "faq.yml"
NLU_DIR = REPO_ROOT / "data" / "nlu"
GENERIC_NLU_PATH = NLU_DIR / "generic.yml"
EVAL_PATH = REPO_ROOT / "tests" / "eval" / "cases.yml"

EXPECTED_TERM_COUNT = 41
EXPECTED_DEFINITION_COUNT = 46

EXPECTED_FAQ_IDS = {
    "contact_center_basics",
    "contact_center_role",
    "contact_center_features",
    "contact_center_importance",
    "contact_center_summary",
    "outsourcing_benefits",
    "outsourcing_how_to_choose",
    "outsourcing_companies",
    "transcosmos",
    "tmj",
    "ntt_procx",
    "rakuten_card_contact_center",
    "rakuten_card_how_to_contact",
}
FAQ_QUESTIONS_MIN, FAQ_QUESTIONS_MAX = 12, 20

# Editorial lead-in lines allowed in FAQ answers (the only non-seed text besides markup).
LEAD_IN_RE = re.compile(r"[^。\n]{1,30}は次のとおりです。")
LIST_MARKER = "・"
LABEL_SEPARATOR = "："  # full-width colon: "<seed label>：<seed description>"

EVAL_MIN_TOTAL = 230
EVAL_GROUP_MINIMUMS = {
    "polite": 25,
    "casual": 25,
    "typo": 15,
    "abbreviation": 20,
    "long": 20,
    "all_terms": 41,
    "unknown": 20,
    "compare": 12,
    "faq": 30,
    "human": 15,
    "definition_vs_request": 12,
    "smalltalk": 10,
    "out_of_scope": 10,
    # Added with the issue "One routing brain" (cases marked `new: true`).
    "hiragana": 20,
    "context": 15,
    "howto": 10,
    "faq_fact": 20,
    "noise": 15,
    "embedded": 6,
}
# Sets written for issue 17 (fresh phrasings), marked `set: <name>`; their groups count apart.
EVAL_SETS = {"fresh", "holdout"}
EVAL_SET_GROUP_MINIMUMS = {
    "clause": 15,
    "escalation_question": 15,
    "faq_situation": 15,
    "faq_compound": 10,
    "training_inline": 10,
    "topic_predicate": 15,
    "two_questions": 15,
    "negation": 15,
    "style": 15,
    "typo_one_char": 15,
    "english_romaji": 15,
    "term_role": 15,
    "faq_answer_fact": 15,
    "request_lookalike": 10,
    "person_as_question": 10,
    "unknown_noun": 8,
}
EVAL_FRESH_MIN_TOTAL = 300
# Misspelt or romanised on purpose: the term is not spelt as the glossary spells it.
EVAL_UNREACHABLE_GROUPS = {"typo", "typo_one_char", "english_romaji"}
EVAL_KINDS = {
    "definition",
    "comparison",
    "unknown_term",
    "faq",
    "handoff",
    "out_of_scope",
    "greet",
    "thanks",
    "goodbye",
    "fallback",  # only HTML tags, only emoji, random kana, a bare URL / e-mail address
    "training_mode",  # 「新人研修用にクイズをやりたい」
}
GENERIC_INTENT_MINIMUMS = {
    "greet": 15,
    "thanks": 15,
    "goodbye": 15,
    "affirm": 15,
    "deny": 15,
    "request_human": 30,
    "feedback_negative": 15,
    "back_to_bot": 10,
    "decline_contact": 10,
    "out_of_scope": 40,
}

ENTITY_ANNOTATION_RE = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")
TRAILING_PUNCT = "?？!！。.、,， "
# A definition an editor wrote in the content studio (docs/content-studio.md): `editor:<name>`.
EDITOR_SOURCE = re.compile(r"editor:\S+")


# --------------------------------------------------------------------------- helpers


def is_editor_source(source: str) -> bool:
    """A definition written in the content studio (``source: editor:<name>``)."""
    return source.startswith("editor:")


def load_yaml(path: Path):
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def dedup_key(text: str) -> str:
    """Key used to detect eval/training overlap: NFKC, no whitespace, no trailing punctuation."""
    key = re.sub(r"\s+", "", nfkc(text))
    return key.rstrip(TRAILING_PUNCT)


def hira_to_kata(text: str) -> str:
    return "".join(chr(ord(c) + 0x60) if "\u3041" <= c <= "\u3096" else c for c in text)


def lookup_norm(text: str) -> str:
    """Loose normalisation for 'can this text reach the term' checks (NFKC, case, kana, ー)."""
    text = hira_to_kata(nfkc(text).lower())
    return re.sub(r"[\sー-]", "", text)


def strip_entities(text: str) -> str:
    return ENTITY_ANNOTATION_RE.sub(r"\1", text)


def parse_examples(block) -> list[str]:
    """Rasa `examples` is either a '- ' list in a string or a list of {text: ...} mappings."""
    out: list[str] = []
    if isinstance(block, str):
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("- "):
                out.append(strip_entities(line[2:].strip()))
    elif isinstance(block, list):
        for item in block:
            text = item.get("text") if isinstance(item, dict) else item
            if isinstance(text, str):
                out.append(strip_entities(text.strip().lstrip("- ").strip()))
    return out


def nlu_examples_by_file() -> dict[Path, list[tuple[str, str]]]:
    """All `examples` of every data/nlu/**/*.yml file as (item name, text)."""
    result: dict[Path, list[tuple[str, str]]] = {}
    for path in sorted(NLU_DIR.rglob("*.yml")):
        data = load_yaml(path) or {}
        rows: list[tuple[str, str]] = []
        for item in data.get("nlu") or []:
            if not isinstance(item, dict) or "examples" not in item:
                continue
            name = next(
                (str(item[k]) for k in ("intent", "synonym", "lookup", "regex") if k in item),
                "?",
            )
            rows.extend((name, text) for text in parse_examples(item["examples"]))
        result[path] = rows
    return result


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="session")
def seeds() -> dict[str, str]:
    if not SEEDS_DIR.is_dir() or not any(SEEDS_DIR.glob("*.txt")):
        unavailable(f"seed directory not found: {SEEDS_DIR}")
    return {p.name: p.read_text(encoding="utf-8") for p in SEEDS_DIR.glob("*.txt")}


@pytest.fixture(scope="session")
def glossary() -> dict:
    return load_yaml(GLOSSARY_PATH)


@pytest.fixture(scope="session")
def terms(glossary) -> list[dict]:
    return glossary["terms"]


@pytest.fixture(scope="session")
def headwords(terms) -> set[str]:
    return {t["term"] for t in terms}


@pytest.fixture(scope="session")
def faq() -> dict:
    return load_yaml(FAQ_PATH)


@pytest.fixture(scope="session")
def faqs(faq) -> list[dict]:
    return faq["faqs"]


@pytest.fixture(scope="session")
def cases() -> list[dict]:
    return load_yaml(EVAL_PATH)["cases"]


# --------------------------------------------------------------------------- glossary


def test_glossary_schema(glossary, terms):
    assert glossary.get("version") == 1
    assert isinstance(terms, list)
    for t in terms:
        where = t.get("term", t)
        assert set(t) == {"term", "reading", "aliases", "category", "related", "definitions"}, where
        assert isinstance(t["term"], str) and t["term"].strip() == t["term"] != "", where
        assert isinstance(t["reading"], str), where
        if all(is_editor_source(d.get("source", "")) for d in t["definitions"]):
            # A term staff created in the studio: its reading passed the studio's rule
            # (hiragana or katakana); make generate reads both.
            assert STUDIO_READING.match(t["reading"]), where
        else:
            assert re.fullmatch(r"[ァ-ヶー]+", t["reading"]), where
        assert isinstance(t["category"], str) and t["category"], where
        assert isinstance(t["aliases"], list), where
        assert all(isinstance(a, str) and a.strip() == a != "" for a in t["aliases"]), where
        assert isinstance(t["related"], list), where
        assert isinstance(t["definitions"], list) and t["definitions"], where
        for d in t["definitions"]:
            assert {"text", "source"} <= set(d) <= {"text", "source", "note"}, where
            assert isinstance(d["text"], str) and d["text"], where
            assert isinstance(d["source"], str), where
            assert is_editor_source(d["source"]) or d["source"].endswith(".txt"), where


def test_glossary_counts(terms):
    """The seed content is all there; terms and definitions staff added come on top."""
    seeded = [t for t in terms if any(not is_editor_source(d["source"]) for d in t["definitions"])]
    assert len(seeded) == EXPECTED_TERM_COUNT
    seed_definitions = [
        d for t in terms for d in t["definitions"] if not is_editor_source(d["source"])
    ]
    assert len(seed_definitions) == EXPECTED_DEFINITION_COUNT


def test_glossary_names_and_aliases_unique(terms):
    names: Counter[str] = Counter()
    for t in terms:
        names[nfkc(t["term"]).casefold()] += 1
        for a in t["aliases"]:
            names[nfkc(a).casefold()] += 1
    dupes = [n for n, c in names.items() if c > 1]
    assert not dupes, f"headwords/aliases used more than once: {dupes}"


def test_glossary_related_terms_exist(terms, headwords):
    for t in terms:
        assert len(set(t["related"])) == len(t["related"]), t["term"]
        for r in t["related"]:
            assert r in headwords, f"{t['term']}: related term {r!r} is not a headword"
            assert r != t["term"], f"{t['term']}: related to itself"


def definition_problems(terms: list[dict], seeds: dict[str, str]) -> list[str]:
    """What is wrong with the glossary's definitions: one written from a seed document
    (``source: <seed>.txt``) must be verbatim in that seed; one staff wrote in the content
    studio (``source: editor:<name>``, exported by ``make content-export``) is not from a
    seed, so it must name its editor and carry a note (which document was checked)."""
    problems = []
    for t in terms:
        for d in t["definitions"]:
            where = f"{t['term']}: {d['source']}"
            if is_editor_source(d["source"]):
                if not EDITOR_SOURCE.fullmatch(d["source"]):
                    problems.append(f"{where}: the editor source names no editor")
                if not str(d.get("note") or "").strip():
                    problems.append(f"{where}: an editor's definition without a note")
            elif d["source"] not in seeds:
                problems.append(f"{where}: unknown seed")
            elif d["text"] not in seeds[d["source"]]:
                problems.append(f"{where}: not verbatim: {d['text']}")
    return problems


def test_glossary_definitions_verbatim_in_seed_or_from_an_editor(terms, seeds):
    assert definition_problems(terms, seeds) == []


def test_definition_check_takes_seed_and_editor_definitions_apart(tmp_path):
    """Both branches, on a small glossary and seed directory of its own (not data/)."""
    (tmp_path / "seeds").mkdir()
    (tmp_path / "seeds" / "001_x.txt").write_text(
        "前書き。ACWは通話後の作業です。後書き。", encoding="utf-8"
    )
    seed_texts = {p.name: p.read_text("utf-8") for p in (tmp_path / "seeds").glob("*.txt")}
    path = tmp_path / "glossary.yml"

    def check(definitions: list[dict]) -> list[str]:
        term = {"term": "ACW", "reading": "エーシーダブリュー", "aliases": [], "category": "業務",
                "related": [], "definitions": definitions}  # fmt: skip
        path.write_text(
            yaml.safe_dump({"version": 1, "terms": [term]}, allow_unicode=True), "utf-8"
        )
        return definition_problems(load_yaml(path)["terms"], seed_texts)

    seed_ok = {"text": "ACWは通話後の作業です。", "source": "001_x.txt"}
    editor_ok = {"text": "編集者が書いた定義です。", "source": "editor:henshu", "note": "社内資料"}
    assert check([seed_ok, editor_ok]) == []
    # seed branch: verbatim or refused, whatever an editor note says
    reworded = {**seed_ok, "text": "ACWは通話の後の作業です。", "note": "言い換え"}
    assert check([reworded]) == ["ACW: 001_x.txt: not verbatim: ACWは通話の後の作業です。"]
    assert check([{**seed_ok, "source": "002_y.txt"}]) == ["ACW: 002_y.txt: unknown seed"]
    # editor branch: not compared with any seed, but needs the editor and a note
    assert check([{**editor_ok, "note": " "}]) == [
        "ACW: editor:henshu: an editor's definition without a note"
    ]
    assert check([{k: v for k, v in editor_ok.items() if k != "note"}]) == [
        "ACW: editor:henshu: an editor's definition without a note"
    ]
    assert check([{**editor_ok, "source": "editor:"}]) == [
        "ACW: editor:: the editor source names no editor"
    ]


# --------------------------------------------------------------------------- FAQ


def test_faq_schema(faq, faqs):
    assert faq.get("version") == 1
    assert isinstance(faqs, list)
    required = {"id", "title", "answer", "source", "url", "as_of", "questions"}
    for f in faqs:
        assert set(f) == required, f.get("id")
        assert isinstance(f["id"], str) and re.fullmatch(r"[a-z][a-z0-9_]*", f["id"]), f["id"]
        assert isinstance(f["title"], str) and f["title"].strip(), f["id"]
        assert isinstance(f["answer"], str) and f["answer"].strip(), f["id"]
        assert isinstance(f["source"], str) and f["source"].endswith(".txt"), f["id"]
        assert f["url"] is None or (
            isinstance(f["url"], str) and f["url"].startswith("https://")
        ), f["id"]
        assert f["as_of"] is None or (isinstance(f["as_of"], str) and f["as_of"]), f["id"]
        qs = f["questions"]
        assert isinstance(qs, list), f["id"]
        assert all(isinstance(q, str) and q.strip() for q in qs), f["id"]
        assert FAQ_QUESTIONS_MIN <= len(qs) <= FAQ_QUESTIONS_MAX, (f["id"], len(qs))


def test_faq_ids(faqs):
    ids = [f["id"] for f in faqs]
    assert len(ids) == len(set(ids)), "duplicate FAQ ids"
    assert set(ids) == EXPECTED_FAQ_IDS


def test_faq_questions_unique(faqs):
    seen: dict[str, str] = {}
    for f in faqs:
        for q in f["questions"]:
            key = dedup_key(q)
            assert key not in seen, f"question {q!r} in {f['id']} duplicates one in {seen.get(key)}"
            seen[key] = f["id"]


def test_faq_questions_are_not_bare_definition_requests(faqs, terms):
    """Bare '<headword or alias>とは' belongs to the glossary intent define_term."""
    names = {lookup_norm(t["term"]) for t in terms}
    names |= {lookup_norm(a) for t in terms for a in t["aliases"]}
    bare = re.compile(r"(.+?)(?:とは|って)(?:何|なに|なん)?(?:ですか|でしょうか)?")
    for f in faqs:
        for q in f["questions"]:
            m = bare.fullmatch(dedup_key(q))
            assert not (m and lookup_norm(m.group(1)) in names), f"{f['id']}: {q!r}"


def answer_pieces(answer: str) -> tuple[list[str], list[str]]:
    """Split an FAQ answer into (seed pieces, lead-in lines) following the markup in faq.yml."""
    pieces: list[str] = []
    lead_ins: list[str] = []
    for raw in answer.splitlines():
        line = raw.strip()
        if not line:
            continue
        if LEAD_IN_RE.fullmatch(line):
            lead_ins.append(line)
            continue
        if line.startswith(LIST_MARKER):
            line = line[len(LIST_MARKER) :].strip()
        for part in line.split(LABEL_SEPARATOR):
            pieces.extend(p.strip() for p in part.split("。") if p.strip())
    return pieces, lead_ins


def test_answer_pieces_parser():
    pieces, lead = answer_pieces("Xは次のとおりです。\n・A：B。\nC。D\n")
    assert lead == ["Xは次のとおりです。"]
    assert pieces == ["A", "B", "C", "D"]


def test_faq_answers_verbatim_in_seed(faqs, seeds):
    for f in faqs:
        assert f["source"] in seeds, f"{f['id']}: unknown seed {f['source']}"
        seed = seeds[f["source"]]
        # A seed sometimes wraps one heading/tagline over two lines; allow joining them.
        seed_joined = seed.replace("\n", "")
        pieces, lead_ins = answer_pieces(f["answer"])
        assert pieces, f"{f['id']}: answer has no seed text"
        assert len(lead_ins) <= 1, f"{f['id']}: more than one lead-in"
        for piece in pieces:
            assert piece in seed or piece in seed_joined, f"{f['id']}: not in seed: {piece!r}"
        # The verbatim content must dominate: lead-ins are short.
        seed_chars = sum(len(p) for p in pieces)
        assert sum(len(x) for x in lead_ins) < seed_chars / 2, f["id"]


def test_faq_urls_and_dates_in_seed(faqs, seeds):
    for f in faqs:
        seed = seeds[f["source"]]
        if f["url"] is not None:
            assert f["url"] in seed, f"{f['id']}: url not in seed: {f['url']}"
        if f["as_of"] is not None:
            assert f["as_of"] in seed, f"{f['id']}: as_of not in seed: {f['as_of']}"


def test_faq_required_facts_present(faqs):
    """Spot checks that the answers carry the facts each topic is about."""
    by_id = {f["id"]: f for f in faqs}
    must_contain = {
        "transcosmos": ["3,000社以上", "84%", "82%", "在宅勤務やDX", "2024年10月16日調査時点"],
        "tmj": ["アップセルとクロスセルの研修", "トークスクリプトの改善", "解約率の低減"],
        "ntt_procx": ["リコールや返品処理", "Amazon Connect", "最短半日", "24時間対応"],
        "outsourcing_benefits": ["課題抽出・体制構築", "生産性向上"],
        "outsourcing_how_to_choose": ["事業フェーズに合わせた", "信頼できるパートナー"],
        "outsourcing_companies": ["トランスコスモス", "TMJ", "NTTマーケティングアクトProCX"],
        "rakuten_card_how_to_contact": ["電話やメール", "専用の番号", "チャットサポート"],
        "contact_center_features": ["多様なチャネル", "データ分析", "顧客対応の効率化"],
    }
    for fid, needles in must_contain.items():
        for needle in needles:
            assert needle in by_id[fid]["answer"], f"{fid}: missing {needle!r}"
    assert by_id["transcosmos"]["url"] == "https://www.transcosmos-cotra.jp/dccp"
    assert by_id["tmj"]["url"] == "https://www.tmj.jp/ec_support/"
    assert by_id["ntt_procx"]["url"] == (
        "https://www.nttactprocx.com/solution/contact-center/one-stop-assistant.html"
    )


# --------------------------------------------------------------------------- generic NLU


def test_generic_nlu_intents():
    data = load_yaml(GENERIC_NLU_PATH)
    assert str(data.get("version")) == "3.1"
    counts: Counter = Counter()
    seen: set[str] = set()
    for item in data["nlu"]:
        assert set(item) == {"intent", "examples"}, item
        for text in parse_examples(item["examples"]):
            # Exact duplicates only: half-width variants are kept on purpose, because the
            # char n-gram featurizer sees raw text.
            key = re.sub(r"\s+", "", text).rstrip(TRAILING_PUNCT)
            assert key not in seen, f"duplicate example {text!r}"
            seen.add(key)
            counts[item["intent"]] += 1
    assert set(counts) == set(GENERIC_INTENT_MINIMUMS)
    for intent, minimum in GENERIC_INTENT_MINIMUMS.items():
        assert counts[intent] >= minimum, (intent, counts[intent])


def test_nlu_files_parse():
    for path, rows in nlu_examples_by_file().items():
        assert all(text for _, text in rows), path


# --------------------------------------------------------------------------- eval set


def test_eval_schema_and_counts(cases):
    assert len(cases) >= EVAL_MIN_TOTAL, len(cases)
    groups: Counter[str] = Counter()
    set_groups: Counter[str] = Counter()
    for c in cases:
        assert {"group", "text", "expect"} <= set(c) <= {"group", "text", "expect", "new", "set"}, c
        assert c.get("new", True) is True, c  # `new: true` or absent
        if "set" in c:
            assert c["set"] in EVAL_SETS and "new" not in c, c
            assert c["group"] in EVAL_SET_GROUP_MINIMUMS, c
            if c["set"] == "fresh":
                set_groups[c["group"]] += 1
        else:
            assert c["group"] in EVAL_GROUP_MINIMUMS, c
        assert isinstance(c["text"], str) and c["text"].strip(), c
        assert isinstance(c["expect"], dict) and c["expect"].get("kind") in EVAL_KINDS, c
        if "set" not in c:
            groups[c["group"]] += 1
    for group, minimum in EVAL_GROUP_MINIMUMS.items():
        assert groups[group] >= minimum, (group, groups[group], minimum)
    assert sum(set_groups.values()) >= EVAL_FRESH_MIN_TOTAL
    for group, minimum in EVAL_SET_GROUP_MINIMUMS.items():
        assert set_groups[group] >= minimum, (group, set_groups[group], minimum)


def test_eval_texts_unique(cases):
    counts = Counter(dedup_key(c["text"]) for c in cases)
    assert not [t for t, n in counts.items() if n > 1]


def test_eval_expectations_exist(cases, headwords, faqs):
    faq_ids = {f["id"] for f in faqs}
    for c in cases:
        e = c["expect"]
        kind = e["kind"]
        if kind == "definition":
            assert set(e) == {"kind", "term"} and e["term"] in headwords, c
        elif kind == "comparison":
            assert set(e) == {"kind", "terms"}, c
            assert len(e["terms"]) == 2 and e["terms"][0] != e["terms"][1], c
            assert all(t in headwords for t in e["terms"]), c
        elif kind == "faq":
            assert set(e) == {"kind", "id"} and e["id"] in faq_ids, c
        else:
            assert set(e) == {"kind"}, c


def _surface_forms(term: dict) -> list[str]:
    forms = [term["term"], term["reading"], *term["aliases"]]
    return sorted({lookup_norm(f) for f in forms}, key=len, reverse=True)


def _position(text_norm: str, term: dict) -> int:
    hits = [text_norm.find(f) for f in _surface_forms(term) if f in text_norm]
    return min(hits) if hits else -1


def test_eval_terms_reachable(cases, terms):
    """Definition/comparison cases must mention the term by headword, alias or reading
    (after NFKC, case, hiragana->katakana and long-vowel normalisation), in the order asked."""
    by_name = {t["term"]: t for t in terms}
    for c in cases:
        e = c["expect"]
        text = lookup_norm(c["text"])
        if not {e.get("term"), *e.get("terms", [])} - {None} <= set(by_name):
            continue  # unknown headwords are reported by test_eval_expectations_exist
        if c["group"] in EVAL_UNREACHABLE_GROUPS:
            continue
        if e["kind"] == "definition":
            assert _position(text, by_name[e["term"]]) >= 0, c
        elif e["kind"] == "comparison":
            a, b = (_position(text, by_name[t]) for t in e["terms"])
            assert a >= 0 and b >= 0, c
            # "在宅コンタクトセンターとコンタクトセンター": find B after A's mention.
            if b <= a:
                rest = text[a + 1 :]
                assert _position(rest, by_name[e["terms"][1]]) >= 0, c


def test_eval_all_terms_group_covers_every_headword(cases, headwords):
    asked = [c["expect"].get("term") for c in cases if c["group"] == "all_terms"]
    assert Counter(asked) == Counter(headwords), set(headwords) ^ set(asked)


def test_eval_faq_group_covers_every_faq(cases, faqs):
    asked = Counter(c["expect"]["id"] for c in cases if c["group"] == "faq")
    for f in faqs:
        assert asked[f["id"]] >= 2, (f["id"], asked[f["id"]])


def test_eval_definition_vs_request_is_balanced(cases):
    kinds = Counter(c["expect"]["kind"] for c in cases if c["group"] == "definition_vs_request")
    assert kinds["definition"] >= 4 and kinds["handoff"] >= 4, kinds


def test_eval_not_copied_from_training_data(cases, faqs):
    training: dict[str, str] = {}
    for path, rows in nlu_examples_by_file().items():
        for name, text in rows:
            training.setdefault(dedup_key(text), f"{path.relative_to(REPO_ROOT)} ({name})")
    for f in faqs:
        for q in f["questions"]:
            training.setdefault(dedup_key(q), f"data/faq.yml ({f['id']})")
    copies = [
        f"{c['text']!r} == {training[dedup_key(c['text'])]}"
        for c in cases
        if dedup_key(c["text"]) in training
    ]
    assert not copies, "eval texts copied from training data:\n" + "\n".join(copies)


def test_overlap_check_strips_entity_annotations():
    block = '- [ACW](term)とは\n- [SV]{"entity": "term"}と話したい\n'
    assert parse_examples(block) == ["ACWとは", "SVと話したい"]
