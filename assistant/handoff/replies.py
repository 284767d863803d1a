"""What the bot says around a handoff to a person (Japanese text + payload)."""

from __future__ import annotations

from ..replies import Reply

YES_NO = [{"title": "はい", "payload": "/affirm"}, {"title": "いいえ", "payload": "/deny"}]
DECLINE_BUTTON = [{"title": "連絡先は不要", "payload": "/decline_contact"}]


def handoff_started(
    ticket_id: str,
    within_hours: bool,
    hours: str,
    next_opening: str,
    agents_available: int = 0,
    queue_position: int | None = None,
) -> Reply:
    place = f"(現在 {queue_position} 番目にお待ちいただいています)" if queue_position else ""
    if within_hours and agents_available > 0:
        text = (
            f"担当者(オペレーター)におつなぎします。受付番号は {ticket_id} です{place}。\n"
            "担当者がこのチャットでお返事します。お待ちの間に書き込まれたメッセージも担当者に届きます。"
        )
    elif within_hours:
        text = (
            f"受付番号 {ticket_id} で承りました{place}。ただいま対応できる担当者がおりません。\n"
            "担当者の手が空きしだい、このチャットでお返事します。お待ちの間のメッセージも担当者に届きます。"
        )
    else:
        text = (
            f"ただいま営業時間外です(受付時間: {hours})。"
            f"受付番号 {ticket_id} でお問い合わせを承りました。\n"
            f"担当者は {next_opening} から対応します。"
        )
    return Reply(
        text,
        {
            "kind": "handoff",
            "ticket": ticket_id,
            "within_hours": within_hours,
            "agents_available": agents_available,
            "queue_position": queue_position,
        },
    )


def agent_joined(ticket_id: str, agent: str) -> Reply:
    return Reply(
        f"担当の{agent}がチャットに参加しました。ここからは担当者がお答えします。",
        {"kind": "agent_joined", "ticket": ticket_id, "agent": agent},
    )


def agent_message(ticket_id: str, agent: str, text: str, message_id: int, time: str) -> Reply:
    """What an agent typed, as plain text (clients never render it as HTML)."""
    return Reply(
        text,
        {
            "kind": "agent_message",
            "ticket": ticket_id,
            "agent": agent,
            "id": message_id,
            "time": time,
        },
    )


def staff_reply(ticket_id: str, message: dict) -> Reply:
    """A stored agent/system message of a ticket as the customer receives it; ``id``
    (the message id) lets a client skip what it already shows and ask for the rest."""
    if message.get("payload"):
        return Reply(message["text"], {**message["payload"], "id": message["id"]})
    return agent_message(
        ticket_id,
        message.get("author") or "担当者",
        message["text"],
        message["id"],
        message["time"],
    )


def command_refused(ticket_id: str) -> Reply:
    """/restart, /session_start or /back while a person is on the case."""
    return Reply(
        f"担当者への引き継ぎ中(受付番号 {ticket_id})のため、この操作はできません。"
        "メッセージは担当者に届きます。ボットとの会話に戻る場合は「ボットに戻る」と入力してください。",
        {"kind": "command_refused", "ticket": ticket_id},
    )


def tickets_limited(retry_after: int) -> Reply:
    """Too many new tickets from this client lately (assistant/handoff/ticket_cap.py)."""
    minutes = max(1, (retry_after + 59) // 60)
    return Reply(
        "短い時間に担当者へのお問い合わせが続いたため、いまは新しい受付ができません。"
        f"{minutes}分ほどお待ちいただいてから、もう一度お申し付けください。",
        {"kind": "rate_limited", "retry_after": retry_after},
    )


def rate_limited(retry_after: int) -> Reply:
    return Reply(
        f"メッセージの送信が多すぎます。{retry_after}秒ほどお待ちいただいてから、もう一度お送りください。",
        {"kind": "rate_limited", "retry_after": retry_after},
    )


AGENT_LEFT_TEXT = {
    "handback": "担当の{agent}がチャットを終了しました。ここからはボットがお答えします。",
    "close": "担当の{agent}が対応を終了しました(受付番号 {ticket})。ご利用ありがとうございました。"
    "ここからはボットがお答えします。",
    "customer": "ボットとの会話に戻りました(担当の{agent}との会話は終了しました)。"
    "用語の意味などをお尋ねください。",
}


def agent_left(ticket_id: str, agent: str, reason: str) -> Reply:
    return Reply(
        AGENT_LEFT_TEXT[reason].format(agent=agent, ticket=ticket_id),
        {"kind": "agent_left", "ticket": ticket_id, "agent": agent, "reason": reason},
    )


def ask_contact() -> Reply:
    return Reply(
        "担当者から折り返しご連絡するため、メールアドレスか電話番号を教えていただけますか?\n"
        "連絡先が不要な場合は「不要」とお送りください。",
        {"kind": "ask_contact"},
        list(DECLINE_BUTTON),
    )


def contact_invalid() -> Reply:
    return Reply(
        "メールアドレス(例: taro@example.com)または電話番号(例: 03-1234-5678)の形式で"
        "入力してください。"
        "いただいたメッセージは担当者に伝えます。",
        {"kind": "contact_invalid"},
        list(DECLINE_BUTTON),
    )


def contact_saved(display: str, ticket_id: str) -> Reply:
    return Reply(
        f"ありがとうございます。{display} に担当者からご連絡します(受付番号 {ticket_id})。",
        {"kind": "contact_saved", "ticket": ticket_id},
    )


def contact_declined(ticket_id: str) -> Reply:
    return Reply(
        f"承知しました。連絡先なしで受け付けました(受付番号 {ticket_id})。",
        {"kind": "contact_declined", "ticket": ticket_id},
    )


def followup_received(ticket_id: str) -> Reply:
    return Reply(
        f"メッセージを担当者に伝えました(受付番号 {ticket_id})。"
        "ボットとの会話に戻る場合は「ボットに戻る」と入力してください。",
        {"kind": "handoff_message", "ticket": ticket_id},
    )


def ticket_closed(ticket_id: str) -> Reply:
    return Reply(
        f"受付番号 {ticket_id} の対応は終了しました。ここからはボットがお答えします。",
        {"kind": "handoff_closed", "ticket": ticket_id},
    )


def back_to_bot(ticket_id: str | None) -> Reply:
    suffix = f"(受付番号 {ticket_id} は担当者に引き継がれています)" if ticket_id else ""
    return Reply(
        "ボットとの会話に戻りました。用語の意味などをお尋ねください。" + suffix,
        {"kind": "back_to_bot", "ticket": ticket_id},
    )


def offer_human(reason: str) -> Reply:
    lead = (
        "お役に立てず申し訳ありません。"
        if reason == "feedback"
        else "うまくお答えできず申し訳ありません。"
    )
    return Reply(
        lead + "担当者(オペレーター)におつなぎしましょうか?",
        {"kind": "offer_human", "reason": reason},
        list(YES_NO),
    )


def offer_declined() -> Reply:
    return Reply(
        "承知しました。ほかにご質問があれば、言い方を変えてお尋ねください。",
        {"kind": "offer_declined"},
    )


def acknowledged() -> Reply:
    return Reply("承知しました。ほかにご質問があればどうぞ。", {"kind": "ack"})
