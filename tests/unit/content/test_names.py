"""Names (headword, aliases, related terms) the chat could never answer are refused by the
studio's validator: tags, URLs / e-mail addresses and control characters, which the chat
takes out of what customers type before any name is matched. Plain angle brackets that
make no tag stay allowed, in names and in definitions (shown as text)."""

from __future__ import annotations

import pytest

from assistant.content.validate import check_term, name_index, name_problem
from assistant.normalize import clean_user_text
from assistant.routing import without_noise


def record(**change):
    base = {
        "term": "新用語",
        "reading": "しんようご",
        "category": "運用",
        "aliases": [],
        "related": [],
        "definitions": [{"text": "定義です。", "source": "editor"}],
    }
    return {**base, **change}


def problems(rec, headwords=("新用語", "既存語")):
    return check_term(rec, "me", name_index([("me", rec)]), set(headwords))


TAG = "タグのような書き方(<…>)は使えません"
LINK = "URLやメールアドレスは使えません"
CONTROL = "改行・タブ・制御文字"


@pytest.mark.parametrize(
    "name, words",
    [
        ("XSS<b>太字</b>", TAG),
        ("<img src=x>", TAG),
        ("<img src=x onerror=alert(1)>確認", TAG),
        ("A<B>C", TAG),
        ("<>", TAG),
        ("A < B > C", TAG),
        ("前<script>alert(1)</script>後", TAG),
        ("AC\x00W", CONTROL),
        ("AC\u200bW", CONTROL),  # zero-width space
        ("AC\u202eW", CONTROL),  # right-to-left override
        ("A\tB", CONTROL),
        ("A\nB", CONTROL),
        ("https://example.com/acw", LINK),
        ("www.example.jp", LINK),
        ("acw@example.com", LINK),
        # What the chat keeps, the studio accepts.
        ("A<B", None),
        ("A>B", None),
        ("B<A>", TAG),
        ("＜b＞全角", None),  # full-width brackets are no tag to the chat either
        ("C++", None),
        ("@ホーム", None),
        ("e-mail", None),
        ("ACW", None),
    ],
)
def test_a_name_the_chat_would_clean_away_is_refused(name, words):
    found = name_problem("見出し語", name)
    if words is None:
        assert found is None, found
    else:
        assert found is not None and words in found and found.startswith("見出し語「")


@pytest.mark.parametrize(
    "name",
    [
        "XSS<b>太字</b>",
        "<img src=x>",
        "A<B>C",
        "AC\x00W",
        "AC\u200bW",
        "https://example.com",
        "acw@example.com",
        "A<B",
        "A>B",
        "＜b＞全角",
        "C++",
        "アフターコールワーク",
    ],
)
def test_refused_exactly_when_the_chat_changes_the_name_in_a_question(name):
    """The rule mirrors the chat's cleaning (clean_user_text, then the router's
    without_noise): a name is refused iff 「<name>とは?」 reaches the matcher altered."""
    asked = f"{name}とは?"
    cleaned, _ = without_noise(clean_user_text(asked), ())
    assert (name_problem("見出し語", name) is None) == cleaned.startswith(name)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"term": "XSS<b>太字</b>"}, "term"),
        ({"aliases": ["新用語<br>"]}, "aliases"),
        ({"aliases": ["しんよう\u200bご"]}, "aliases"),
        ({"related": ["<img src=x onerror=alert(3)>"]}, "related"),
        ({"related": ["既存語\x07"]}, "related"),
    ],
)
def test_each_name_field_is_checked(change, field):
    found = problems(record(**change))
    assert [p["field"] for p in found] == [field], found
    assert "「" in found[0]["message"]


def test_the_message_quotes_the_markup_as_typed():
    [p] = problems(record(related=["<img src=x onerror=alert(3)>"]))
    assert "<img src=x onerror=alert(3)>" in p["message"]
    [p] = problems(record(term="AC\x00W"))
    assert "「AC□W」" in p["message"]  # the control character made visible


def test_angle_brackets_stay_allowed_in_definitions_notes_and_plain_names():
    rec = record(
        term="A<B",
        aliases=["A>B比較"],
        definitions=[
            {"text": "A<Bのとき<b>太字</b>ではない。", "source": "editor", "note": "<img src=x>"}
        ],
    )
    assert problems(rec, headwords=("A<B",)) == []
