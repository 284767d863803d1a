"""Find and mask payment card data, マイナンバー, bank accounts and (by a setting)
phone numbers and e-mail addresses in a customer's text.

What is masked (docs/privacy.md; table test tests/unit/test_privacy.py):

* **card**: 13–19 digits passing the Luhn check and starting like a card number
  (2–6), written together or in groups split by spaces or hyphens, in ASCII or
  full-width digits; without the Luhn check when the customer calls it a card
  number (カード番号は…: a mistyped card number is still one) or writes it in
  the printed layout (4-4-4-4, 4-6-5) → ``**** **** **** 0009`` (the last four stay: customers and
  staff use them to tell cards apart).
* **security_code** / **expiry**: a 3–4 digit number or a date (12/28, 2028年12月)
  just after a card number, or after a cue (セキュリティコード, CVV, 有効期限…)
  → ``***`` / ``**/**``.
* **mynumber**: 12 digits whose last is the マイナンバー check digit, or any
  12 digits after マイナンバー/個人番号 → ``**** **** ****``.
* **bank_account**: 6–8 digits after 口座番号/口座/普通/当座 (ゆうちょ: 記号 + 番号)
  → one ``*`` per digit.
* **phone** / **email** (only with ``mask_contacts``): Japanese subscriber
  numbers (not 0120/0800/0570 company numbers) keep their last four digits
  (``***-****-5678``); an address keeps its domain (``***@example.co.jp``).

Not masked: order numbers (after 注文番号/伝票番号/受付番号/追跡番号…, or failing
the checks), dates, prices, times and ticket ids (``ESC-20261205-0001``).

Detection runs on a folded copy of the text with the same length (full-width
digits, letters and spaces → ASCII, dashes between digits → ``-``), so spans found
there are replaced in the original text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..settings import get_settings

# Kinds the customer is asked not to type (the privacy notice); contacts are
# masked silently (they are welcome where the contact step asks for them).
SENSITIVE = frozenset({"card", "security_code", "expiry", "mynumber", "bank_account"})

_FOLD = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # full-width ASCII block
_FOLD[0x3000] = ord(" ")  # ideographic space
for _dash in "‐‑‒–—―−─━﹣":
    _FOLD[ord(_dash)] = ord("-")
_LONG_VOWEL_BETWEEN_DIGITS = re.compile(r"(?<=\d)[ーｰ](?=\d)")


def fold(text: str) -> str:
    """Same length as ``text``: ASCII digits, letters, spaces and dashes."""
    folded = text.translate(_FOLD)
    return _LONG_VOWEL_BETWEEN_DIGITS.sub("-", folded)


# A run of digit groups split by at most two spaces (tabs, line breaks) or hyphens. Not glued to an
# ASCII letter, digit or hyphen on the left (「ESC-20261205-0001」 is a ticket id).
_RUN = re.compile(r"(?<![0-9A-Za-z_\-/.,])\d+(?:[\s\-]{1,2}\d+)*(?![0-9A-Za-z_]|[.,/]\d)")
_GROUP = re.compile(r"\d+")
# Numbers that name something else, just before the digits.
_OTHER_NUMBER = re.compile(
    r"(注文|ご注文|伝票|受付|問い?合わ?せ|問合せ|追跡|配送|予約|会員|お客様|顧客|管理|商品|型|製造|"
    r"シリアル|order|tracking|invoice)\s*(番号|No\.?|ID|#)?[\s:：はがのを、=#]*$",
    re.IGNORECASE,
)
_CARD_WORD = re.compile(r"カード|card|クレジット|クレカ|デビット", re.IGNORECASE)
# A number the customer calls a card number is masked even when mistyped (no
# Luhn), and so is one written the way cards are printed (4-4-4-4, Amex 4-6-5).
_CARD_CUE = re.compile(r"(カード|card|クレジット|クレカ|デビット)[^0-9]{0,12}$", re.IGNORECASE)
_CARD_LAYOUTS = {(4, 4, 4, 4), (4, 6, 5), (4, 6, 4), (4, 4, 4, 4, 3)}
_MYNUMBER_CUE = re.compile(r"(マイナンバー|個人番号)[^0-9]{0,12}$")
_SECURITY_CUE = re.compile(
    r"(セキュリティー?コード|セキュリティー?番号|security\s*code|CVV2?|CVC2?|CID|CAV2?|"
    r"裏面?の?(?:[34]桁の?)?(?:番号|数字|コード))[^0-9]{0,10}?(?<!\d)(\d{3,4})(?![0-9])",
    re.IGNORECASE,
)
_EXPIRY_TEXT = (
    r"(?<!\d)(?:(?:0?[1-9]|1[0-2])\s*/\s*(?:20)?\d{2}"
    r"|(?:20)?\d{2}\s*年\s*(?:0?[1-9]|1[0-2])\s*月"
    r"|(?:0?[1-9]|1[0-2])\s*月\s*/?\s*(?:20)?\d{2}\s*年)(?![0-9])"
)
_EXPIRY = re.compile(_EXPIRY_TEXT)
_EXPIRY_CUE = re.compile(
    r"(?:有効期限|有効期間|使用期限|exp(?:iry|iration)?(?:\s*date)?|valid\s*thru)[^0-9]{0,10}?"
    r"(?P<date>" + _EXPIRY_TEXT + ")",
    re.IGNORECASE,
)
_NEAR_CODE = re.compile(
    r"(?<![0-9\-])(\d{3,4})(?![0-9\-]|\s*[円個件日月年時分秒回%％人名枚冊本台歳号番])"
)
_NEAR = 40  # characters after a card number where its expiry and code are looked for
_BANK = re.compile(
    r"(口座番号|口座|普通預金|当座預金|普通|当座|貯蓄預金)[^0-9]{0,10}?(?<![0-9])(\d{6,8})(?![0-9])"
)
_YUCHO = re.compile(
    r"(記号|ゆうちょ)[^0-9]{0,10}?(?<![0-9])(\d{5}[\s\-]?(?:番号)?[\s:：は]*\d{6,8})(?![0-9])"
)
_PHONE = re.compile(
    r"(?<![0-9A-Za-z_\-/.])(\+81[\s\-]?(?:\(0\))?|0)"
    r"\d{1,4}(?:[\s\-]?|\)\s?)\d{1,4}[\s\-]?\d{3,4}(?![0-9A-Za-z_])"
)
_EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+\-*])[A-Za-z0-9._%+\-]+@((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
)
_COMPANY_NUMBERS = ("0120", "0800", "0570", "0990")


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    replacement: str


@dataclass(frozen=True)
class Masked:
    text: str
    findings: tuple[Finding, ...] = ()

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(f.kind for f in self.findings)

    @property
    def sensitive(self) -> bool:
        """Data the customer should not type into a chat (the notice is due)."""
        return bool(self.kinds & SENSITIVE)


@dataclass(frozen=True)
class PrivacySettings:
    mask_contacts: bool = True  # PRIVACY_MASK_CONTACTS (the contact step always keeps them)

    @classmethod
    def from_env(cls) -> PrivacySettings:
        return cls(mask_contacts=get_settings().privacy_mask_contacts)


def luhn_ok(digits: str) -> bool:
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def mynumber_ok(digits: str) -> bool:
    """12 digits whose last is the check digit (個人番号の検査用数字, 総務省令第85号)."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    body = [int(c) for c in digits[:11]]
    total = sum(p * (n + 1 if n <= 6 else n - 5) for n, p in enumerate(reversed(body), start=1))
    rest = total % 11
    return int(digits[11]) == (0 if rest <= 1 else 11 - rest)


def _card_like(digits: str) -> bool:
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits)


def _keep_last(span_text: str, keep: int) -> str:
    """Digits masked with * except the last ``keep``; separators stay."""
    total = sum(c.isdigit() for c in span_text)
    out, seen = [], 0
    for c in span_text:
        if c.isdigit():
            seen += 1
            out.append(c if seen > total - keep else "*")
        else:
            out.append(c)
    return "".join(out)


class _Spans:
    def __init__(self) -> None:
        self.items: list[Finding] = []

    def free(self, start: int, end: int) -> bool:
        return all(end <= f.start or start >= f.end for f in self.items)

    def add(self, kind: str, start: int, end: int, replacement: str) -> bool:
        if start >= end or not self.free(start, end):
            return False
        self.items.append(Finding(kind, start, end, replacement))
        return True


def _names_other_number(folded: str, start: int) -> bool:
    before = folded[max(0, start - 16) : start]
    return bool(_OTHER_NUMBER.search(before)) and not _CARD_WORD.search(before)


def _runs(folded: str) -> Iterable[list[tuple[int, int]]]:
    for run in _RUN.finditer(folded):
        base = run.start()
        yield [(base + g.start(), base + g.end()) for g in _GROUP.finditer(run.group())]


def _cards(folded: str, spans: _Spans) -> list[int]:
    """Card numbers; returns where each ends (its expiry and code follow)."""
    ends = []
    for groups in _runs(folded):
        i = 0
        while i < len(groups):
            found = None
            cued = bool(_CARD_CUE.search(folded[max(0, groups[i][0] - 20) : groups[i][0]]))
            digits, lengths = "", ()  # type: str, tuple[int, ...]
            for j in range(i, len(groups)):  # the longest card starting at group i
                digits += folded[groups[j][0] : groups[j][1]]
                lengths += (groups[j][1] - groups[j][0],)
                if len(digits) > 19:
                    break
                loose = 13 <= len(digits) <= 19 and (cued or lengths in _CARD_LAYOUTS)
                if loose or _card_like(digits):
                    found = j
            if found is None or _names_other_number(folded, groups[i][0]):
                i += 1
                continue
            start, end = groups[i][0], groups[found][1]
            digits = "".join(folded[s:e] for s, e in groups[i : found + 1])
            if spans.add("card", start, end, "**** **** **** " + digits[-4:]):
                ends.append(end)
            i = found + 1
    return ends


def _near_card(folded: str, ends: list[int], spans: _Spans) -> None:
    for end in ends:
        window_end = min(len(folded), end + _NEAR)
        for m in _EXPIRY.finditer(folded, end, window_end):
            spans.add("expiry", m.start(), m.end(), "**/**")
        for m in _NEAR_CODE.finditer(folded, end, window_end):
            spans.add("security_code", m.start(1), m.end(1), "*" * len(m.group(1)))


def _cued(folded: str, spans: _Spans) -> None:
    for m in _SECURITY_CUE.finditer(folded):
        spans.add("security_code", m.start(2), m.end(2), "*" * len(m.group(2)))
    for m in _EXPIRY_CUE.finditer(folded):
        spans.add("expiry", m.start("date"), m.end("date"), "**/**")


def _mynumbers(folded: str, spans: _Spans) -> None:
    for groups in _runs(folded):
        for i in range(len(groups)):
            for j in range(i, len(groups)):
                digits = "".join(folded[s:e] for s, e in groups[i : j + 1])
                if len(digits) > 12:
                    break
                if len(digits) < 12:
                    continue
                start, end = groups[i][0], groups[j][1]
                cued = bool(_MYNUMBER_CUE.search(folded[max(0, start - 20) : start]))
                if cued or (mynumber_ok(digits) and not _names_other_number(folded, start)):
                    spans.add("mynumber", start, end, "**** **** ****")


def _bank_accounts(folded: str, spans: _Spans) -> None:
    for m in _BANK.finditer(folded):
        spans.add("bank_account", m.start(2), m.end(2), "*" * len(m.group(2)))
    for m in _YUCHO.finditer(folded):
        spans.add("bank_account", m.start(2), m.end(2), re.sub(r"\d", "*", m.group(2)))


def _phone_ok(digits: str) -> bool:
    if not digits.startswith("0") or digits[1:2] == "0" or digits.startswith(_COMPANY_NUMBERS):
        return False
    if digits[:3] in ("070", "080", "090", "050", "020"):
        return len(digits) == 11
    return len(digits) == 10


def _contacts(folded: str, spans: _Spans) -> None:
    for m in _EMAIL.finditer(folded):
        spans.add("email", m.start(), m.end(), "***@" + m.group(1))
    for m in _PHONE.finditer(folded):
        digits = re.sub(r"\D", "", m.group())
        if digits.startswith("81") and m.group().startswith("+"):
            digits = "0" + digits[2:].lstrip("0")
        if _phone_ok(digits) and not _names_other_number(folded, m.start()):
            spans.add("phone", m.start(), m.end(), _keep_last(m.group(), 4))


def mask(text: str | None, mask_contacts: bool = True) -> Masked:
    """The text with personal data masked, and what was found."""
    if not text or not isinstance(text, str):
        return Masked(text or "")
    folded = fold(text)
    if not any(c.isdigit() for c in folded) and "@" not in folded:
        return Masked(text)
    spans = _Spans()
    _cued(folded, spans)  # a cue names the number for sure: before the guesses
    ends = _cards(folded, spans)
    _near_card(folded, ends, spans)
    _mynumbers(folded, spans)
    _bank_accounts(folded, spans)
    if mask_contacts:
        _contacts(folded, spans)
    if not spans.items:
        return Masked(text)
    out, last = [], 0
    findings = tuple(sorted(spans.items, key=lambda f: f.start))
    for f in findings:
        out.append(text[last : f.start])
        out.append(f.replacement)
        last = f.end
    out.append(text[last:])
    return Masked("".join(out), findings)
