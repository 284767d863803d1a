"""Masking table (assistant/privacy): what must be masked and what must stay.

Rows: (text, masked text expected, kinds found). Unchanged rows expect the text
itself and no kinds. Contact-step rows run with mask_contacts=False (the contact
flow asked for a phone number or an address: it stays)."""

from __future__ import annotations

import pytest

from assistant.privacy import luhn_ok, mask, mynumber_ok
from assistant.privacy.masking import PrivacySettings, fold

CARD = "**** **** **** "

MASKED = [
    # --- card numbers: layouts, widths, separators -------------------------------
    ("4111111111111111", CARD + "1111", {"card"}),
    ("4111 1111 1111 1111", CARD + "1111", {"card"}),
    ("4111-1111-1111-1111", CARD + "1111", {"card"}),
    ("4111  1111  1111  1111", CARD + "1111", {"card"}),
    ("４１１１１１１１１１１１１１１１", CARD + "1111", {"card"}),
    ("４１１１　１１１１　１１１１　１１１１", CARD + "1111", {"card"}),
    ("４１１１－１１１１－１１１１－１１１１", CARD + "1111", {"card"}),
    ("4111ー1111ー1111ー1111", CARD + "1111", {"card"}),
    ("4111−1111−1111−1111", CARD + "1111", {"card"}),
    ("カードは4111111111111111です", "カードは" + CARD + "1111です", {"card"}),
    ("5555555555554444で払いました", CARD + "4444で払いました", {"card"}),
    ("アメックス 378282246310005", "アメックス " + CARD + "0005", {"card"}),
    ("3782 822463 10005", CARD + "0005", {"card"}),
    ("JCB 3530111333300000", "JCB " + CARD + "0000", {"card"}),
    ("6011111111111117", CARD + "1117", {"card"}),
    ("13桁 4222222222222", "13桁 " + CARD + "2222", {"card"}),
    ("19桁 4000000000000000006", "19桁 " + CARD + "0006", {"card"}),
    ("4012 8888 8888 1881 を登録", CARD + "1881 を登録", {"card"}),
    ("番号は\n4111 1111\n1111 1111", "番号は\n" + CARD + "1111", {"card"}),  # split over lines
    ("4111\t1111\t1111\t1111", CARD + "1111", {"card"}),
    # mistyped (no Luhn) but called a card number, or in the printed layout
    ("カード番号は4980 0000 0000 0009です", "カード番号は" + CARD + "0009です", {"card"}),
    ("クレジットカード 4980000000000009", "クレジットカード " + CARD + "0009", {"card"}),
    ("4980 0000 0000 0009", CARD + "0009", {"card"}),
    # --- expiry and security code next to a card, or after a cue -------------------
    (
        "カード番号 4980-0000-0000-0009、有効期限 12/28、セキュリティコード 123",
        "カード番号 " + CARD + "0009、有効期限 **/**、セキュリティコード ***",
        {"card", "expiry", "security_code"},
    ),
    ("4111111111111111 12/28 123", CARD + "1111 **/** ***", {"card", "expiry", "security_code"}),
    (
        "4111111111111111 期限2028年12月 裏の3桁は456",
        CARD + "1111 期限**/** 裏の3桁は***",
        {"card", "expiry", "security_code"},
    ),
    ("4111111111111111、12/2028", CARD + "1111、**/**", {"card", "expiry"}),
    ("セキュリティコードは123です", "セキュリティコードは***です", {"security_code"}),
    ("セキュリティーコード：９８７", "セキュリティーコード：***", {"security_code"}),
    ("CVV 1234", "CVV ****", {"security_code"}),
    ("cvc2は321", "cvc2は***", {"security_code"}),
    ("裏面の番号 555", "裏面の番号 ***", {"security_code"}),
    ("有効期限は12/28です", "有効期限は**/**です", {"expiry"}),
    ("有効期限 2028年3月", "有効期限 **/**", {"expiry"}),
    ("EXP 03/29", "EXP **/**", {"expiry"}),
    # --- マイナンバー ---------------------------------------------------------------
    ("123456789018", "**** **** ****", {"mynumber"}),
    ("1234 5678 9018", "**** **** ****", {"mynumber"}),
    ("１２３４－５６７８－９０１８", "**** **** ****", {"mynumber"}),
    ("マイナンバーは987654321018です", "マイナンバーは**** **** ****です", {"mynumber"}),
    (
        "個人番号 111122223333",
        "個人番号 **** **** ****",
        {"mynumber"},
    ),  # cued: masked even with a wrong check digit
    # --- bank accounts in context -----------------------------------------------------
    ("口座番号は1234567です", "口座番号は*******です", {"bank_account"}),
    ("普通 7654321", "普通 *******", {"bank_account"}),
    (
        "三井住友銀行 新宿支店 普通預金 0012345",
        "三井住友銀行 新宿支店 普通預金 *******",
        {"bank_account"},
    ),
    ("当座の口座 123456", "当座の口座 ******", {"bank_account"}),
    ("ゆうちょ 記号12345 番号12345678", "ゆうちょ 記号***** 番号********", {"bank_account"}),
    ("口座：１２３４５６７", "口座：*******", {"bank_account"}),
    # --- phone numbers and e-mail addresses (mask_contacts on, outside the contact step)
    ("電話は090-1234-5678です", "電話は***-****-5678です", {"phone"}),
    ("09012345678", "*******5678", {"phone"}),
    ("０９０－１２３４－５６７８", "***-****-5678", {"phone"}),
    ("03-1234-5678に電話して", "**-****-5678に電話して", {"phone"}),
    ("+81 90-1234-5678", "+** **-****-5678", {"phone"}),
    ("taro.yamada@example.co.jp に返信", "***@example.co.jp に返信", {"email"}),
    ("ｔａｒｏ＠ｅｘａｍｐｌｅ．ｃｏｍ", "***@example.com", {"email"}),
    # --- several kinds in one message -----------------------------------------------------
    ("4111111111111111と090-1111-2222", CARD + "1111と***-****-2222", {"card", "phone"}),
]

UNCHANGED = [
    "ACWとは?",
    "注文番号 249-1234567-1234567",
    "注文番号は4111111111111111です",  # names an order: even a Luhn number stays
    "ご注文番号：112-7654321-7654321",
    "伝票番号 1234-5678-9012",
    "追跡番号 987654321098",
    "受付番号はESC-20261205-0001です",
    "ESC-20261205-0001",
    "ESC-20261231-9999の件",
    "2026/12/05に届きました",
    "2026-12-05",
    "12/28に発送予定",
    "支払期限は12/28です",
    "2026年12月5日",
    "価格は12,800円です",
    "1,234,567円",
    "10:30から17:00まで",
    "3営業日以内",
    "第123号",
    "1234567890123",  # 13 digits, no Luhn, no cue, no card layout
    "12345678901234567890",  # 20 digits: no card
    "3.14159265358979",
    "0120-123-456",  # company numbers are not personal data
    "0570-000-123",
    "品番 ABC-1234-5678",
    "https://example.com/item/4111111111111111x",
    "v1.2.3",
    "普通は3日で届きます",
    "口座振替の手数料は110円",
    "セキュリティコードとは何ですか",
    "有効期限はいつまで?",
    "マイナンバーカードの申請方法",
    "CRMとは何ですか",
]

CONTACT_STEP = [  # mask_contacts=False: the contact step keeps what it asked for
    "090-1234-5678",
    "電話は03-1234-5678です",
    "taro@example.co.jp",
    "+81 90 1234 5678",
]


@pytest.mark.parametrize("text,expected,kinds", MASKED)
def test_masked(text: str, expected: str, kinds: set) -> None:
    got = mask(text)
    assert got.text == expected
    assert set(got.kinds) == kinds


@pytest.mark.parametrize("text", UNCHANGED)
def test_unchanged(text: str) -> None:
    got = mask(text)
    assert got.text == text
    assert not got.findings


@pytest.mark.parametrize("text", CONTACT_STEP)
def test_contact_step_keeps_contacts(text: str) -> None:
    assert mask(text, mask_contacts=False).text == text


def test_contact_step_still_masks_cards() -> None:
    got = mask("090-1234-5678 カード 4111111111111111", mask_contacts=False)
    assert got.text == "090-1234-5678 カード " + CARD + "1111"


def test_table_size() -> None:
    assert len(MASKED) + len(UNCHANGED) + len(CONTACT_STEP) >= 60


def test_no_clear_digits_left() -> None:
    """The masked text never holds the digits it hid (beyond a card's last four)."""
    for text, _, kinds in MASKED:
        got = mask(text)
        if "card" in kinds:
            assert "11111111" not in fold(got.text)


def test_sensitive_drives_the_notice() -> None:
    assert mask("4111111111111111").sensitive
    assert not mask("090-1234-5678").sensitive
    assert not mask("ACWとは").sensitive


def test_checks() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112") and not luhn_ok("41x1")
    assert (
        mynumber_ok("123456789018") and not mynumber_ok("123456789019") and not mynumber_ok("12345")
    )


def test_bad_input_never_raises() -> None:
    for value in (None, "", " ", "\x00", "4" * 100_000, "１" * 5000, "-" * 1000):
        assert isinstance(mask(value).text, str)


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PRIVACY_MASK_CONTACTS", raising=False)
    assert PrivacySettings.from_env().mask_contacts
    monkeypatch.setenv("PRIVACY_MASK_CONTACTS", "0")
    assert not PrivacySettings.from_env().mask_contacts
