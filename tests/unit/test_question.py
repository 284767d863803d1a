"""What a question asks about (known term, unknown word, comparison)."""

from __future__ import annotations

import pytest

from assistant.glossary import load_glossary
from assistant.matcher import TermMatcher
from assistant.question import (
    comparison_subjects,
    definition_subjects,
    is_lookup_word,
    requests_person,
    wants_comparison,
)


@pytest.fixture(scope="module")
def matcher():
    return TermMatcher(load_glossary())


DEFINE = [
    ("ACWとは", [("ACW", "アフターコールワーク")]),
    ("「ACW」ってなに?", [("ACW", "アフターコールワーク")]),
    (
        "研修でアウトバウンドという言葉が出てきました。どういう意味ですか?",
        [("アウトバウンド", "アウトバウンド")],
    ),
    ("先輩が言っている「SV」というのは何?", [("SV", "スーパーバイザー")]),
    ("ACW時間とは", [("ACW時間", None)]),  # compound: unknown, never ACW's definition
    ("新人オペレーターとは?", [("新人オペレーター", None)]),
    ("アップセルとは", [("アップセル", None)]),
    ("あっぷせるってなに", [("あっぷせる", None)]),
    ("会議で応答率が下がっているという話が出たのですが、応答率とは何?", [("応答率", "応答率")]),
    ("コミュニケーターって呼ばれる人は何をするの?", [("コミュニケーター", "オペレーター")]),
    ("ACWとSVとは", [("ACW", "アフターコールワーク"), ("SV", "スーパーバイザー")]),
    ("クラウドPBXの仕組みを教えて", [("クラウドPBX", "クラウドPBX")]),
    ("CRM", [("CRM", "CRM")]),
    # a question word between two markers is not asked about (「…って何の略」)
    ("BPOって何の略ですか", [("BPO", None)]),
    ("IVRは何の略称?", [("IVR", "IVR")]),
    ("QAとは何の頭文字", [("QA", None)]),
    ("それってどういう意味?", []),
    # only question words and words about words before the markers: the sentence's topic
    ("CXは英語で何という言葉の略?", [("CX", "カスタマーエクスペリエンス")]),
    ("BPOはどういう単語の略称なの", [("BPO", None)]),
    ("略称とは", [("略称", None)]),  # asked about itself, it is a word
    # a word about words after の is about what stands before the の
    ("IVRの略語とは?", [("IVR", "IVR")]),
    ("ピカチュウの名前って?", [("ピカチュウ", None)]),
    ("新しい社内の用語とは?", [("社内", None)]),
    # a term used as a verb before an aspect noun is the topic (「〜するタイミング」)
    ("トラッキングするメリットは?", [("トラッキング", "トラッキング")]),
    ("アウトバウンドするときのマナーを教えて", [("アウトバウンド", "アウトバウンド")]),
    ("データ分析するステップを知りたい", [("データ分析", "データ分析")]),
    ("エスカレーションすべきケースについて教えて", [("エスカレーション", "エスカレーション")]),
    ("コンタクトセンターで使うKPIとは", [("KPI", None)]),  # a noun that is no aspect
    ("😀", []),
    ("", []),
]


@pytest.mark.parametrize("text,expected", DEFINE)
def test_definition_subjects(matcher, text, expected):
    got = definition_subjects(text, matcher.find(text))
    assert [(s.query, s.term) for s in got] == expected


COMPARE = [
    ("インバウンドとアウトバウンドの違いは?", ["インバウンド", "アウトバウンド"]),
    ("CRMとIVRって何が違うの", ["CRM", "IVR"]),
    ("顧客サポートとカスタマーサポートは同じ意味?", ["顧客サポート", "カスタマーサポート"]),
    ("アップセルとクロスセルの違い", [None, "クロスセル"]),
]


@pytest.mark.parametrize("text,terms", COMPARE)
def test_comparison_subjects(matcher, text, terms):
    assert [s.term for s in comparison_subjects(text, matcher.find(text))] == terms


def test_comparison_needs_two_terms_and_a_cue(matcher):
    assert wants_comparison("ACWとSVの違い", matcher.find("ACWとSVの違い"))
    assert not wants_comparison("ACWとSVとは", matcher.find("ACWとSVとは"))
    assert not wants_comparison("ACWの違い", matcher.find("ACWの違い"))


@pytest.mark.parametrize(
    "text,expected",
    [
        ("BPO", True),
        ("ロープレ?", True),
        ("らーめん", True),
        ("😀", False),
        ("", False),
        ("はじめまして、研修中の新人です", False),
        ("明日って雨降りそう?", False),
        ("あ" * 50, False),
    ],
)
def test_is_lookup_word(text, expected):
    assert is_lookup_word(text) is expected


PERSON_REQUESTS = [
    ("オペレーターと話したい", True),
    ("おぺれーたーさんとはなしたい", True),  # と話したい, not 「とは」
    ("SVに代わってください", True),
    ("オペレーターの方につないで", True),
    ("オペレーターお願いします", True),
    ("エスカレーションをお願いできますか", True),
    ("エスカレーションしてください", True),
    ("オペレーターとは", False),
    ("オペレーターはなにをする仕事?", False),
    ("オペレーターと話したいのですが、オペレーターとは何ですか", False),
    ("スーパーバイザーの役割を聞きたい", False),
    ("先輩にSVに相談してと言われたけど、SVってどんな人?", False),
    ("エスカレーションの手順を教えて", False),
    ("ACWと話したい", False),  # not a person
    ("", False),
]


@pytest.mark.parametrize("text,expected", PERSON_REQUESTS)
def test_requests_person(matcher, text, expected):
    people = load_glossary().people
    assert requests_person(text, matcher.find(text), people) is expected
