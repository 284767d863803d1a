"""Recognise a contact (email address or Japanese phone number) in user text.

Normalised forms (what ``Contact.value`` holds):
* email: local part as typed, domain lower-cased — ``Taro.Y@example.co.jp``
* phone: E.164 — ``+819012345678`` (unambiguous, sortable, dialable from any
  system); ``Contact.display()`` / :func:`display_phone` give the domestic form
  with hyphens for people — ``090-1234-5678``.

Input is NFKC-normalised first, so full-width digits, ＠ and ＋ work. A contact
inside a short sentence is found (「電話は090-1234-5678です」), but the text
must contain exactly one contact; anything ambiguous, too long, or with HTML
gives None so that the bot asks again instead of storing a wrong contact.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_INPUT_CHARS = 200
MAX_EMAIL_CHARS = 254  # RFC 5321 path limit

# Dashes people type between digit groups that NFKC leaves alone.
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−ー─━ｰ﹣"), "-")

_EMAIL_RE = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"([A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~\-]+)*)"
    r"@"
    r"((?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63})"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)
# A run of digits with the separators people use; validated afterwards.
# ASCII-only boundaries: Japanese text may touch the number (「電話は090…です」).
_PHONE_RE = re.compile(r"(?<![A-Za-z0-9_+])(\+\s?)?\(?[0-9][0-9\-\s().]*[0-9]\)?(?![A-Za-z0-9_])")
_HTML_RE = re.compile(r"[<>]|&(?:[a-zA-Z]+|#\d+|#x[0-9a-fA-F]+);")


@dataclass(frozen=True)
class Contact:
    kind: str  # "email" | "phone"
    value: str

    def display(self) -> str:
        """Human-readable form: domestic phone format, email as is."""
        return display_phone(self.value) if self.kind == "phone" else self.value


def normalize_input(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES).strip()


def parse_contact(text: str | None) -> Contact | None:
    if not text or not isinstance(text, str):
        return None
    if len(text) > MAX_INPUT_CHARS * 4:  # cheap guard before normalising huge input
        return None
    norm = normalize_input(text)
    if not norm or len(norm) > MAX_INPUT_CHARS or _HTML_RE.search(norm):
        return None

    found: list[Contact] = []
    for m in _EMAIL_RE.finditer(norm):
        value = f"{m.group(1)}@{m.group(2).lower()}"
        if len(value) <= MAX_EMAIL_CHARS and len(m.group(1)) <= 64:
            found.append(Contact("email", value))
        else:
            return None
    # Look for phone numbers only outside the email addresses (their digits
    # are not a phone number).
    rest = _EMAIL_RE.sub(" ", norm)
    for m in _PHONE_RE.finditer(rest):
        phone = _parse_phone(m.group(0))
        if phone is not None:
            found.append(Contact("phone", phone))
        elif sum(ch.isdigit() for ch in m.group(0)) >= 9:
            return None  # looks like a mistyped number: ask again
    unique = list(dict.fromkeys(found))
    return unique[0] if len(unique) == 1 else None


# --------------------------------------------------------------------------
# Phone numbers


def _parse_phone(candidate: str) -> str | None:
    """Candidate text (digits and separators) -> E.164, or None."""
    s = candidate.strip()
    international = s.startswith("+")
    if international:
        s = s[1:].lstrip()
        if not s.startswith("81"):
            return None  # only Japanese numbers
        s = s[2:]
        s = re.sub(r"^[\s\-.]*\(0\)", "", s)  # "+81 (0)3-..." style
    if s.count("(") != s.count(")") or s.count("(") > 1:
        return None
    if re.search(r"[\-.\s]{2,}|\(\)", s):
        return None
    groups = [g for g in re.split(r"[\-\s().]+", s) if g]
    if not groups or len(groups) > 4:
        return None
    digits = "".join(groups)
    if international and not digits.startswith("0"):
        # "+81 090-…" (trunk 0 kept) is a common slip: accept it as is.
        digits = "0" + digits
    if not _valid_domestic(digits):
        return None
    return "+81" + digits[1:]


def _valid_domestic(d: str) -> bool:
    if not d.isdigit() or not d.startswith("0") or d[1] == "0":
        return False  # "00…" is the international call prefix
    if d[:3] in ("070", "080", "090", "050", "020") or d.startswith("0800"):
        return len(d) == 11
    if d.startswith("010"):
        return False  # international call prefix
    # Fixed lines, 0120 toll-free, 0570 navi dial: 10 digits.
    return len(d) == 10


def display_phone(value: str) -> str:
    """E.164 (+81…) -> domestic form with hyphens; other input unchanged.

    Fixed-line area codes have 1–4 digits after the 0 and telling them apart
    needs the full numbering plan; the common 2-digit (03, 06) and 3-digit
    groupings are used, so rare rural numbers may be grouped differently from
    the local custom (the digits are always right)."""
    if not value.startswith("+81"):
        return value
    d = "0" + value[3:]
    if not d.isdigit():
        return value
    if len(d) == 11:
        if d.startswith("0800"):
            return f"{d[:4]}-{d[4:7]}-{d[7:]}"
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    if len(d) == 10:
        if d.startswith(("0120", "0570", "0990")):
            return f"{d[:4]}-{d[4:7]}-{d[7:]}"
        if d.startswith(("03", "06")):
            return f"{d[:2]}-{d[2:6]}-{d[6:]}"
        return f"{d[:3]}-{d[3:6]}-{d[6:]}"
    return d
