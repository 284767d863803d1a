"""CSV export of a report (pure): UTF-8 with a BOM so that Excel reads Japanese, and
cells that would start a formula neutralised (CSV/formula injection)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

CSV_TABLES = ("kpis", "daily", "top_answers", "top_unanswered")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV cell Excel will not run: text starting with = + - @ tab or CR gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel opens Japanese text right), CRLF, formulas neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def csv_table(report: dict[str, Any], table: str) -> tuple[list[str], list[list[Any]]]:
    if table == "kpis":
        return (
            ["指標", "キー", "値", "分子", "分母", "定義"],
            [
                [
                    k["label"],
                    k["key"],
                    _num(k["value"]),
                    k["numerator"],
                    k["denominator"],
                    k["formula"],
                ]
                for k in report["kpis"]
            ],
        )
    if table == "daily":
        cols = [
            "day",
            "messages",
            "questions",
            "conversations",
            "answered_up",
            "answered_no_rating",
            "answered_down",
            "unanswered",
            "handoff",
        ]
        return (
            [
                "日付",
                "メッセージ",
                "質問",
                "会話",
                "回答(高評価)",
                "回答(評価なし)",
                "回答(低評価)",
                "未回答・対象外",
                "有人対応依頼",
            ],
            [[d[c] for c in cols] for d in report["daily"]],
        )
    if table == "top_answers":
        return (
            ["種別", "用語/FAQ", "回答数", "高評価", "低評価"],
            [[a["kind"], a["name"], a["count"], a["up"], a["down"]] for a in report["top_answers"]],
        )
    return (
        ["質問(正規化)", "件数", "例", "会話ID"],
        [
            [u["normalized"], u["count"], u["example"], u["conversation"]]
            for u in report["top_unanswered"]
        ],
    )


def _num(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else ("" if value is None else value)
