"""Lexical FAQ retrieval (assistant/faq_retrieval.py): questions phrased through a fact of
an FAQ answer find that FAQ; messages about nothing in the FAQ find none."""

from __future__ import annotations

import pytest

from assistant.faq import FaqEntry, load_faq
from assistant.faq_retrieval import FaqRetriever, content_words, words


@pytest.fixture(scope="module")
def retriever() -> FaqRetriever:
    return FaqRetriever(load_faq())


# (message, the FAQ id `best` returns, or None) — facts from data/faq.yml, not its titles.
TABLE = [
    ("感動体験を受けた顧客の84%がサービス継続意向を持つのはどこ?", "transcosmos"),
    ("物品管理と配送状況をまとめて管理してくれる会社", "ntt_procx"),
    ("チャットボットやFAQを使って24時間対応してくれる窓口を作れますか", "ntt_procx"),
    ("購入履歴や行動履歴に基づいて提案してくれるところ", "tmj"),
    ("カードの紛失や盗難にあったときの相談先", "rakuten_card_contact_center"),
    ("クレジットカードの支払いについて質問したい", "rakuten_card_contact_center"),
    ("電話が苦手な人はどうやって問い合わせればいいですか", "rakuten_card_how_to_contact"),
    ("顧客のニーズが多様化しているのはなぜ", "contact_center_importance"),
    ("市場の動向を把握しやすくなるのはどうして", "contact_center_importance"),
    # Nothing the FAQ answers: no winner, even where some words are shared
    # (「担当者の方向けに」「おすすめの会社」 are in FAQ answers).
    ("こんにちは", None),
    ("ありがとうございました", None),
    ("😀", None),
    ("", None),
    ("<script></script>", None),
    ("ぬけほもらさゆてろみ", None),
    ("https://example.com/", None),
    ("今日の天気は?", None),
    ("担当の方に代わっていただけますか", None),
    ("オペレーターと話したい", None),
    ("おすすめのラーメン屋さん", None),
    ("KPIとはどういう意味でしょうか", None),
    ("コンタクトセンター", None),  # in every entry: no entry stands out
]


@pytest.mark.parametrize("text,expected", TABLE)
def test_best(retriever, text, expected):
    hit = retriever.best(text)
    assert (hit.id if hit else None) == expected, retriever.rank(text)[:3]


def test_rank_lists_every_entry_best_first(retriever):
    ranked = retriever.rank("トランスコスモスの導入実績")
    assert ranked[0][0] == "transcosmos"
    assert len(ranked) == len(load_faq())
    scores = [s for _, s in ranked]
    assert scores == sorted(scores, reverse=True)


def test_words_are_bigrams_of_the_folded_text():
    # Hiragana folds to katakana, width and case are folded, long vowels dropped;
    # punctuation and digits break the text.
    assert words("ｺﾝﾀｸﾄせんたー") == words("コンタクトセンター")
    assert words("TMJ、84%") == ["tm", "mj"]
    assert words("あ") == []


def test_margin_and_score_thresholds():
    entries = {
        "a": FaqEntry("a", "配送", "物品管理と配送状況", "s", None, None, ()),
        "b": FaqEntry("b", "支払い", "カードの支払い", "s", None, None, ()),
    }
    r = FaqRetriever(entries)
    assert r.best("物品管理と配送状況", min_score=0.1).id == "a"
    assert r.best("物品管理と配送状況", min_score=1000) is None
    assert r.best("物品管理と配送状況", min_score=0.1, min_margin=1000) is None
    with pytest.raises(ValueError):
        FaqRetriever({})


def test_content_words_leave_out_particles_and_cross_script_bigrams():
    # Hiragana runs (particles, endings) are no content; no bigram spans a script change;
    # a Latin word is one token (「EC」 is not the 「ec」 in 「Connect」); a lone kanji counts.
    assert content_words("解約を防いでくれる会社") == ["解約", "防", "会社"]
    assert content_words("ECサイトとAmazon Connect") == ["ec", "サイ", "イト", "amazon", "connect"]
    assert content_words("ラーメン") == content_words("ラメン")
    assert content_words("すーぱーばいざーってなに") == []


def test_content_ranking_tells_the_items_of_a_list_apart():
    r = FaqRetriever(load_faq(), tokens=content_words)
    ranked = [
        i
        for i, _ in r.rank("解約の低減に力を入れている会社")
        if i in {"tmj", "ntt_procx", "transcosmos"}
    ]
    assert ranked[0] == "tmj"
