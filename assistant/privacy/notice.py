"""The privacy notice: told once per conversation when card data, a マイナンバー or a
bank account was masked in what the customer typed (docs/privacy.md)."""

from __future__ import annotations

from collections.abc import Iterable

from ..contract import payload
from ..replies import Reply, _echo
from .masking import SENSITIVE

KIND = "privacy_notice"

_NAMES = {
    "card": "カード番号",
    "security_code": "セキュリティコード",
    "expiry": "有効期限",
    "mynumber": "マイナンバー",
    "bank_account": "口座番号",
}
_ORDER = ("card", "security_code", "expiry", "mynumber", "bank_account")


def privacy_notice(masked_text: str, kinds: Iterable[str]) -> Reply:
    """``masked``: what was kept of the message (echoed, at most 30 characters);
    ``kinds``: what was masked, in a fixed order."""
    found = [k for k in _ORDER if k in set(kinds) & SENSITIVE]
    names = "・".join(_NAMES[k] for k in found) or "個人情報"
    text = (
        f"お客さまの大切な情報を守るため、{names}は伏せ字にして受け付けました"
        f"(「{_echo(masked_text)}」)。\n"
        "お手数ですが、カード番号・セキュリティコード・マイナンバー・口座番号などは"
        "チャットに入力しないでください。必要な場合は担当者から安全な方法をご案内します。"
    )
    return Reply(text, payload(KIND, text, masked=_echo(masked_text), kinds=found))
