"""What the agent console shows about LINE's monthly message quota (pure).

Pushes count against the plan's monthly messages; replies are free. LINE reports the
quota (``/v2/bot/message/quota``: ``type`` limited/none, ``value``) and this month's
use (``/quota/consumption``: ``totalUsage``). When LINE cannot be asked, our own count
of this month's pushes is shown instead. At 80 % the console warns."""

from __future__ import annotations

from typing import Any

WARN_AT = 0.8


def usage(
    quota_type: str | None, limit: int | None, used: int | None, our_pushes: int
) -> dict[str, Any]:
    if used is None:  # LINE did not answer: what we know ourselves
        return {
            "limit": None,
            "used": our_pushes,
            "percent": None,
            "warn": False,
            "text": f"LINE プッシュ送信 今月 {our_pushes:,}通(上限を取得できません)",
        }
    if quota_type != "limited" or not isinstance(limit, int) or limit <= 0:
        return {
            "limit": None,
            "used": used,
            "percent": None,
            "warn": False,
            "text": f"LINE 送信 今月 {used:,}通(上限なし)",
        }
    percent = used * 100 // limit
    warn = used >= WARN_AT * limit
    text = f"LINE 送信 今月 {used:,} / {limit:,}通({percent}%)"
    if used >= limit:
        text += " 上限に達しました。担当者のメッセージは届きません"
    elif warn:
        text += " 上限に近づいています"
    return {"limit": limit, "used": used, "percent": percent, "warn": warn, "text": text}
