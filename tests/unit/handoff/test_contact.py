"""parse_contact: tables of user inputs -> expected contact."""

from __future__ import annotations

import pytest

from assistant.handoff.contact import Contact, display_phone, parse_contact

E = lambda v: Contact("email", v)  # noqa: E731
P = lambda v: Contact("phone", v)  # noqa: E731

ACCEPTED = [
    # email
    ("taro@example.com", E("taro@example.com")),
    ("Taro.Yamada+faq@Example.CO.JP", E("Taro.Yamada+faq@example.co.jp")),
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", E("taro@example.com")),  # full-width
    ("メールはtaro@example.comでお願いします", E("taro@example.com")),
    ("taro@example.com です。", E("taro@example.com")),
    ("  taro_1980@mail.example-isp.ne.jp  ", E("taro_1980@mail.example-isp.ne.jp")),
    ("連絡先：hanako@example.org😀", E("hanako@example.org")),
    # mobile / IP phone
    ("090-1234-5678", P("+819012345678")),
    ("09012345678", P("+819012345678")),
    ("090 1234 5678", P("+819012345678")),
    ("０９０－１２３４－５６７８", P("+819012345678")),  # full-width digits and hyphen
    ("０９０ー１２３４ー５６７８", P("+819012345678")),  # katakana long vowel as dash
    ("090−1234−5678", P("+819012345678")),  # minus sign
    ("080.1234.5678", P("+818012345678")),
    ("070-1234-5678", P("+817012345678")),
    ("050-1234-5678", P("+815012345678")),
    ("電話番号は090-1234-5678です", P("+819012345678")),
    ("📞090-1234-5678📞", P("+819012345678")),
    # fixed lines
    ("03-1234-5678", P("+81312345678")),
    ("(03)1234-5678", P("+81312345678")),
    ("03(1234)5678", P("+81312345678")),
    ("06-6123-4567", P("+81661234567")),
    ("045-123-4567", P("+81451234567")),
    ("0467-12-3456", P("+81467123456")),
    ("01267-2-3456", P("+81126723456")),
    # toll-free and others
    ("0120-123-456", P("+81120123456")),
    ("0120123456", P("+81120123456")),
    ("0800-123-4567", P("+818001234567")),
    ("0570-123-456", P("+81570123456")),
    # +81
    ("+81 90-1234-5678", P("+819012345678")),
    ("+819012345678", P("+819012345678")),
    ("+81-3-1234-5678", P("+81312345678")),
    ("+81 (0)3 1234 5678", P("+81312345678")),
    ("＋８１ ９０ １２３４ ５６７８", P("+819012345678")),
    ("+81 090-1234-5678", P("+819012345678")),  # common slip: trunk 0 kept
    ("090-1234-5678-", P("+819012345678")),  # stray trailing dash
    # the same contact twice is still one contact
    ("090-1234-5678 または 090-1234-5678", P("+819012345678")),
]

REJECTED = [
    None,
    "",
    "   ",
    "はい",
    "オペレーターと話したい",
    "😀😀😀",
    "abc",
    "taro@",
    "@example.com",
    "taro@example",
    "taro@@example.com",
    "taro@exa mple.com",
    "taro..yamada@example.com",
    ".taro@example.com",
    "taro@example..com",
    "taro@-example.com",
    "1234567890",  # no leading 0
    "0000000000",
    "0012345678901",  # international prefix
    "03-1234-567",  # 9 digits
    "090-1234-567",  # 10 digits mobile
    "090-1234-56789",
    "03-1234-56789",
    "0-9-0-1-2-3-4-5-6-7-8",
    "090--1234-5678",
    "+1 212 555 1234",  # not Japanese
    "2026-11-23",
    "ESC-20261123-0001",
    "〒100-0001",
    "090-1234-5678 か 03-1234-5678",  # two different contacts: ask again
    "090-1234-5678 or taro@example.com",
    "a@example.com b@example.com",
    "<b>090-1234-5678</b>",
    "<a href='mailto:taro@example.com'>taro@example.com</a>",
    "taro@example.com<script>alert(1)</script>",
    "&lt;taro@example.com&gt;",
    "090-1234-5678" + "あ" * 300,  # too long
    "x" * 50_000,
    "090-1234-5678" * 5_000,  # 65 KB
    "a" * 65 + "@example.com",  # local part > 64
    "taro@" + "a" * 250 + ".com",
]


@pytest.mark.parametrize("text, expected", ACCEPTED, ids=[a for a, _ in ACCEPTED])
def test_accepted(text, expected):
    assert parse_contact(text) == expected


@pytest.mark.parametrize("text", REJECTED, ids=[repr(t)[:40] for t in REJECTED])
def test_rejected(text):
    assert parse_contact(text) is None


@pytest.mark.parametrize(
    "value, shown",
    [
        ("+819012345678", "090-1234-5678"),
        ("+815012345678", "050-1234-5678"),
        ("+81312345678", "03-1234-5678"),
        ("+81661234567", "06-6123-4567"),
        ("+81451234567", "045-123-4567"),
        ("+81120123456", "0120-123-456"),
        ("+81570123456", "0570-123-456"),
        ("+818001234567", "0800-123-4567"),
        ("taro@example.com", "taro@example.com"),
    ],
)
def test_display(value, shown):
    assert display_phone(value) == shown
    kind = "email" if "@" in value else "phone"
    assert Contact(kind, value).display() == shown
