"""Synonym groups in the FAQ retrieval (assistant/faq_retrieval.py, assistant/synonyms.py):
a question word matches an FAQ word of the same Sudachi synonym group that shares no
character, weighted below the word itself. Real Sudachi (actions/sudachi_synonyms.py);
phrasings written for this test, not taken from the eval."""

from __future__ import annotations

import pytest

from actions.sudachi_synonyms import synonym_words
from assistant.faq import FaqEntry
from assistant.faq_retrieval import FaqRetriever, content_words


def _entry(faq_id: str, title: str, answer: str) -> FaqEntry:
    return FaqEntry(faq_id, title, answer, "s", None, None, ())


ENTRIES = {
    "outsource": _entry("outsource", "業務の委託", "窓口業務を専門の会社に委託できます。"),
    "cost": _entry("cost", "費用の削減", "人件費を削減する方法をまとめました。"),
    "inquiry": _entry("inquiry", "照会の窓口", "契約内容の照会は会員ページから。"),
    "loss": _entry("loss", "カードの紛失", "紛失したときは利用を止めます。"),
    "hours": _entry("hours", "受付時間", "平日九時から十八時まで受け付けます。"),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("電話対応の外注について", "outsource"),  # 外注 ~ 委託
        ("経費を減らすには", "cost"),  # 減らす ~ 削減
        ("契約の問い合わせはどこで", "inquiry"),  # 問い合わせ ~ 照会
    ],
)
@pytest.mark.parametrize("tokens", [None, content_words], ids=["bigrams", "content"])
def test_a_synonym_finds_the_entry_no_shared_word_would(text, expected, tokens):
    kw = {} if tokens is None else {"tokens": tokens}
    plain = FaqRetriever(ENTRIES, **kw).rank(text)
    with_synonyms = FaqRetriever(ENTRIES, synonyms=synonym_words, **kw).rank(text)
    assert dict(plain)[expected] < with_synonyms[0][1]
    assert with_synonyms[0][0] == expected
    assert with_synonyms[0][1] > with_synonyms[1][1]


def test_a_word_the_entries_use_is_scored_as_itself_only():
    # 外注 is in the entries: its group (委託) lifts no entry, so a topic's word does not
    # blur the lead of the entry that uses it.
    entries = {
        "exact": _entry("exact", "外注の相談", "外注の相談を受け付けます。"),
        "synonym": _entry("synonym", "委託の相談", "委託の相談を受け付けます。"),
    }
    plain = FaqRetriever(entries, tokens=content_words).rank("外注したい")
    r = FaqRetriever(entries, tokens=content_words, synonyms=synonym_words)
    assert r.rank("外注したい") == plain
    assert plain[0][0] == "exact" and plain[1][1] == 0


def test_a_synonym_counts_below_the_word_itself():
    entries = {
        "outsource": _entry("outsource", "業務の委託", "窓口業務を委託できます。"),
        "other": _entry("other", "受付時間", "平日九時から。"),
    }
    r = FaqRetriever(entries, tokens=content_words, synonyms=synonym_words)
    assert 0 < r.rank("外注")[0][1] < r.rank("委託")[0][1]


def test_no_synonym_no_change():
    # 落とす has no synonym group in sudachidict_core: nothing is made up.
    plain = FaqRetriever(ENTRIES).rank("財布を落とした")
    assert FaqRetriever(ENTRIES, synonyms=synonym_words).rank("財布を落とした") == plain


@pytest.mark.parametrize(
    ("text", "form", "shares_with"),
    [
        ("外注", "外注", "委託"),
        ("減らしたい", "減らす", "低減"),
        ("外部委託先", "委託", "外注"),  # a compound's part counts too
        ("アウトソーシング", "アウトソーシング", "外部委託"),
    ],
)
def test_sudachi_lookup(text, form, shares_with):
    groups = dict(synonym_words(text))
    other = {k for _, keys in synonym_words(shares_with) for k in keys}
    assert set(groups[form]) & other


def test_sudachi_lookup_keeps_only_content_words():
    forms = {f for f, _ in synonym_words("どこにするのですか")}
    assert forms == set()
