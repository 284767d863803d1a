"""Staff command line for escalation tickets.

    python -m assistant.handoff.cli list [--all] [--limit N]
    python -m assistant.handoff.cli show ESC-YYYYMMDD-NNNN
    python -m assistant.handoff.cli close ESC-YYYYMMDD-NNNN
    python -m assistant.handoff.cli retry [--include-failed]

Uses the same HANDOFF_* environment variables as the bot (see settings.py).
Exit codes: 0 ok, 1 ticket not found, 2 usage or configuration error,
3 other error (e.g. database unreachable).
"""

from __future__ import annotations

import argparse
import re
import sys
import unicodedata
from collections.abc import Sequence

from .delivery import DeliveryQueue
from .settings import HandoffSettings, notifier_from_env, store_from_env
from .tickets import Ticket, TicketNotFound, TicketStore
from .webhook_format import REASON_LABELS, ROLE_LABELS, contact_label, format_jst

EXIT_OK, EXIT_NOT_FOUND, EXIT_USAGE, EXIT_ERROR = 0, 1, 2, 3

STATUS_LABELS = {"open": "対応中", "closed": "完了"}
DELIVERY_LABELS = {
    "pending": "未送信",
    "delivered": "送信済",
    "failed": "送信失敗",
    "disabled": "通知なし",
}

# User text must not drive the staff terminal: control characters (ANSI escapes…) and
# bidirectional overrides (U+202E makes the rest of a line read backwards) are shown escaped.
_CONTROL_RE = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)


def safe(text: object) -> str:
    return _CONTROL_RE.sub(_escape, str(text))


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _fit(text: str, width: int) -> str:
    """Cut/pad to a display width (CJK characters are two columns)."""
    out, used = "", 0
    for ch in text:
        w = _width(ch)
        if used + w > width:
            if out:
                out = out[:-1] + "…"
            break
        out, used = out + ch, used + w
    return out + " " * max(0, width - _width(out))


def _one_line(text: str) -> str:
    return safe(" ".join(str(text).split()))


# --------------------------------------------------------------------------
# Commands


def cmd_list(store: TicketStore, args: argparse.Namespace) -> int:
    tickets = store.list(status=None if args.all else "open", limit=args.limit)
    if not tickets:
        print("チケットはありません / no tickets")
        return EXIT_OK
    header = ["ID", "状態", "受付(JST)", "理由", "通知", "連絡先", "最後の質問"]
    widths = [18, 6, 16, 8, 8, 28, 0]
    print(" ".join(_fit(h, w) if w else h for h, w in zip(header, widths, strict=True)))
    for t in tickets:
        cells = [
            t.id,
            STATUS_LABELS.get(t.status, t.status),
            format_jst(t.created_at),
            t.reason,
            DELIVERY_LABELS.get(t.delivery_status, t.delivery_status),
            safe(contact_label(t)) if t.contact else "-",
            _one_line(t.last_question)[:60],
        ]
        print(" ".join(_fit(c, w) if w else c for c, w in zip(cells, widths, strict=True)))
    return EXIT_OK


def render_ticket(t: Ticket) -> str:
    lines = [
        f"受付番号 / Ticket:        {t.id}",
        f"状態 / Status:            {STATUS_LABELS.get(t.status, t.status)} ({t.status})"
        + (f"  完了 / closed: {format_jst(t.closed_at)} JST" if t.closed_at else ""),
        f"受付日時 / Created:       {format_jst(t.created_at)} JST ({t.created_at.isoformat()})",
        f"理由 / Reason:            {REASON_LABELS.get(t.reason, t.reason)} ({t.reason})",
        f"チャネル / Channel:       {safe(t.channel)}",
        f"送信者 / Sender:          {safe(t.sender_id)}",
        f"連絡先 / Contact:         {safe(contact_label(t))}",
        _block("最後の質問 / Question:    ", t.last_question),
        f"用語 / Term:              {safe(t.term) if t.term else '-'}",
        f"候補 / Candidates:        {safe(', '.join(t.candidates)) if t.candidates else '-'}",
        f"通知 / Webhook:           {DELIVERY_LABELS.get(t.delivery_status, t.delivery_status)}"
        f" ({t.delivery_status}, {t.delivery_attempts} attempts)"
        + (
            f", next {format_jst(t.next_attempt_at)} JST"
            if t.next_attempt_at and t.delivery_status == "pending"
            else ""
        )
        + (f", last error: {safe(t.last_delivery_error)}" if t.last_delivery_error else ""),
        "",
        f"会話履歴 / Transcript ({len(t.transcript)}):",
    ]
    for turn in t.transcript:
        role = str(turn.get("role", ""))
        label = f"{ROLE_LABELS.get(role, role)}/{role}"
        lines.append(
            _block(
                f"  [{format_jst(turn.get('time'), '%m-%d %H:%M')}] {safe(label)}: ",
                turn.get("text", ""),
            )
        )
    if not t.transcript:
        lines.append("  (なし / none)")
    lines += ["", f"追加メッセージ / Follow-ups ({len(t.messages)}):"]
    for m in t.messages:
        lines.append(_block(f"  [{format_jst(m['time'], '%m-%d %H:%M')}] ", m["text"]))
    if not t.messages:
        lines.append("  (なし / none)")
    return "\n".join(lines)


def _block(prefix: str, text: object) -> str:
    """Multi-line user text, continuation lines indented under the prefix."""
    parts = safe(text).split("\n")
    indent = " " * min(_width(prefix), 8)
    return prefix + ("\n" + indent).join(parts)


def cmd_show(store: TicketStore, args: argparse.Namespace) -> int:
    print(render_ticket(store.get(args.ticket_id)))
    return EXIT_OK


def cmd_close(store: TicketStore, args: argparse.Namespace) -> int:
    before = store.get(args.ticket_id)
    t = store.close(args.ticket_id)
    if before.status == "closed":
        print(f"{t.id} は完了済みです / already closed ({format_jst(t.closed_at)} JST)")
    else:
        print(f"{t.id} を完了にしました / closed")
    return EXIT_OK


def cmd_retry(store: TicketStore, args: argparse.Namespace, settings: HandoffSettings) -> int:
    notifier = notifier_from_env(store, settings)
    if not notifier.enabled:
        print("HANDOFF_WEBHOOK_URL が未設定です / no webhook configured", file=sys.stderr)
        return EXIT_USAGE
    if args.include_failed:
        deliveries = DeliveryQueue(store)
        for t in store.list(status=None, limit=None):
            if t.delivery_status == "failed":
                deliveries.requeue_delivery(t.id)
    results = notifier.retry_due()
    if not results:
        print("送信待ちはありません / nothing due")
    for ticket_id, ok in results.items():
        print(f"{ticket_id}: {'送信済 / delivered' if ok else '失敗 / failed (will retry)'}")
    return EXIT_OK


# --------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m assistant.handoff.cli", description="Escalation tickets (有人対応チケット)"
    )
    sub = p.add_subparsers(dest="command", required=True)
    lp = sub.add_parser("list", help="list open tickets (newest first)")
    lp.add_argument("--all", action="store_true", help="include closed tickets")
    lp.add_argument("--limit", type=int, default=100)
    sp = sub.add_parser("show", help="show one ticket with transcript and follow-ups")
    sp.add_argument("ticket_id")
    cp = sub.add_parser("close", help="close a ticket")
    cp.add_argument("ticket_id")
    rp = sub.add_parser("retry", help="deliver due webhook notifications now")
    rp.add_argument(
        "--include-failed", action="store_true", help="also retry deliveries that gave up"
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(errors="backslashreplace")  # never crash on a terminal's encoding
    args = build_parser().parse_args(argv)  # exits 2 on usage errors
    try:
        settings = HandoffSettings.from_env()
    except ValueError as exc:
        print(f"設定エラー / configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        store = store_from_env(settings)
        if args.command == "list":
            return cmd_list(store, args)
        if args.command == "show":
            return cmd_show(store, args)
        if args.command == "close":
            return cmd_close(store, args)
        return cmd_retry(store, args, settings)
    except TicketNotFound as exc:
        print(
            f"チケットが見つかりません / ticket not found: {safe(exc.ticket_id)}", file=sys.stderr
        )
        return EXIT_NOT_FOUND
    except Exception as exc:  # noqa: BLE001 - staff get a message, not a traceback
        print(f"エラー / error: {type(exc).__name__}: {safe(exc)}", file=sys.stderr)
        return EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
