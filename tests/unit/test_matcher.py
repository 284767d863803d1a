"""Term matching: Japanese input as people type it → the glossary headword (GiNZA-style tables)."""

from __future__ import annotations

import pytest

from assistant.glossary import load_glossary
from assistant.matcher import TermMatcher, Token
from assistant.normalize import key_form, normalize, normalize_with_map


@pytest.fixture(scope="module")
def matcher():
    return TermMatcher(load_glossary())


FOUND = [
    # (input, [(headword, surface)])
    ("ACWとは", [("アフターコールワーク", "ACW")]),
    ("ＡＣＷとは", [("アフターコールワーク", "ＡＣＷ")]),
    ("acwって何", [("アフターコールワーク", "acw")]),
    ("後処理の意味", [("アフターコールワーク", "後処理")]),
    ("ｵﾍﾟﾚｰﾀｰとは", [("オペレーター", "ｵﾍﾟﾚｰﾀｰ")]),
    ("オペレータとは", [("オペレーター", "オペレータ")]),
    ("おぺれーたー", [("オペレーター", "おぺれーたー")]),
    ("すーぱーばいざーの意味", [("スーパーバイザー", "すーぱーばいざー")]),
    ("こきゃくまんぞくど", [("顧客満足度", "こきゃくまんぞくど")]),
    ("受電とは", [("インバウンド", "受電")]),
    ("トークスクリプト", [("スクリプト", "トークスクリプト")]),
    ("自動音声応答って?", [("IVR", "自動音声応答")]),
    ("在宅コンタクトセンター", [("在宅コンタクトセンター", "在宅コンタクトセンター")]),
    ("ビジュアルIVRとIVR", [("ビジュアルIVR", "ビジュアルIVR"), ("IVR", "IVR")]),
    ("カスタマーサポートセンター", [("カスタマーサポートセンター", "カスタマーサポートセンター")]),
    ("クラウドＰＢＸ", [("クラウドPBX", "クラウドＰＢＸ")]),
    ("Call Center", [("コールセンター", "Call Center")]),
    (
        "インバウンドとアウトバウンド",
        [("インバウンド", "インバウンド"), ("アウトバウンド", "アウトバウンド")],
    ),
    ("研修でアウトバウンドという言葉が", [("アウトバウンド", "アウトバウンド")]),
    ("あふれこ", [("あふれ呼", "あふれこ")]),
]

NOT_FOUND = [
    "",
    "   ",
    "😀🎉",
    "アップセルとは",  # not クロスセル
    "アフレコ",  # dubbing, typed in katakana: not あふれ呼 by sound
    "CSSとは",  # CS inside a longer ASCII word
    "SVGファイル",
    "<script>alert(1)</script>",
    "コストセンター",
]


@pytest.mark.parametrize("text,expected", FOUND)
def test_finds_terms(matcher, text, expected):
    assert [(m.term, m.text) for m in matcher.find(text)] == expected


@pytest.mark.parametrize("text", NOT_FOUND)
def test_finds_nothing(matcher, text):
    assert matcher.find(text) == []


def test_longest_match_wins(matcher):
    assert [m.term for m in matcher.find("ACW時間")] == ["アフターコールワーク"]
    assert [m.term for m in matcher.find("顧客満足度")] == ["顧客満足度"]


def test_spans_point_into_the_original_text(matcher):
    text = "研修で ｵﾍﾟﾚｰﾀｰ と ＳＶ を習った"
    for m in matcher.find(text):
        assert text[m.start : m.end] == m.text


def test_sudachi_tokens_add_normalized_and_reading_views(matcher):
    # 顧客まんぞく度: mixed script; Sudachi's readings make it コキャクマンゾクド.
    text = "顧客まんぞく度"
    assert [m.term for m in matcher.find(text)] == []
    # Sudachi normalizes まんぞく → 満足: the normalized-form view finds it.
    tokens = [
        Token(0, 2, "顧客", "コキャク"),
        Token(2, 6, "満足", "マンゾク"),
        Token(6, 7, "度", "ド"),
    ]
    assert [(m.term, m.via) for m in matcher.find(text, tokens)] == [("顧客満足度", "norm")]
    # Without that normalization, the readings still do.
    tokens = [
        Token(0, 2, "顧客", "コキャク"),
        Token(2, 6, "まんぞく", "マンゾク"),
        Token(6, 7, "度", "ド"),
    ]
    assert [(m.term, m.via) for m in matcher.find(text, tokens)] == [("顧客満足度", "reading")]
    # A reading match must cover whole tokens: not the middle of a word.
    tokens = [Token(0, 7, "顧客まんぞく度", "アコキャクマンゾクドア")]
    assert matcher.find(text, tokens) == []


def test_huge_input_is_fine(matcher):
    text = "ACWとは" + "あ" * 100_000
    assert [m.term for m in matcher.find(text)] == ["アフターコールワーク"]


SUGGEST = [
    ("エスカレション", "エスカレーション"),
    ("スパーバイザー", "スーパーバイザー"),
    ("コストセンター", "コールセンター"),
    ("ACW時間", "アフターコールワーク"),
    ("チャットボット", "チャットサポート"),
]


@pytest.mark.parametrize("query,first", SUGGEST)
def test_suggestions(matcher, query, first):
    got = matcher.suggest(query)
    assert got and got[0] == first and len(got) <= 3


@pytest.mark.parametrize("query", ["AHT", "KPI", "😀", "", "ラーメン"])
def test_no_far_fetched_suggestions(matcher, query):
    assert matcher.suggest(query) == []


NORMALIZE = [
    ("ｵﾍﾟﾚｰﾀｰ", "オペレーター", "オペレタ"),
    ("おぺれーたー", "オペレーター", "オペレタ"),
    ("ＡＣＷ", "acw", "acw"),
    ("ｶﾞｲﾄﾞ", "ガイド", "ガイド"),
    ("Call Center", "call center", "callcenter"),
]


@pytest.mark.parametrize("raw,norm,key", NORMALIZE)
def test_normalize(raw, norm, key):
    assert normalize(raw) == norm
    assert key_form(raw) == key
    folded, spans = normalize_with_map(raw)
    assert folded == key and len(spans) == len(folded)
