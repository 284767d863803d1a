"""The KPIs of a period in the terminal: ``make report ARGS="--from 2026-12-01 --to 2026-12-31"``.

    python -m assistant.outcomes.cli --from YYYY-MM-DD --to YYYY-MM-DD [--channel rest]
                                     [--csv kpis|daily|top_answers|top_unanswered]
    python -m assistant.outcomes.cli rebuild [--from … --to …]   (forget the roll-ups)

Same KPIs and formulas as the dashboard (HANDOFF_DB_URL). Without --from/--to: the last
30 days (Japan time). --csv writes that table as CSV (UTF-8 with BOM) to stdout.
Exit codes: 0 ok, 2 bad arguments (a bad period says why).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from ..handoff.cli import safe
from ..handoff.db import make_engine
from ..handoff.settings import HandoffSettings
from .export import CSV_TABLES, csv_table, to_csv
from .records import JST
from .rollup import Analytics, BadRange, check_range, days_between


def _value(k: dict[str, Any]) -> str:
    v = k["value"]
    if v is None:
        return "—"
    if k["unit"] == "rate":
        return f"{float(v) * 100:.1f}%"
    return f"{v:,}"


def _seconds(v: Any) -> str:
    return "—" if v is None else f"{float(v):.0f}秒"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make report ARGS=", description="KPI(分析)")
    parser.add_argument("command", nargs="?", choices=("show", "rebuild"), default="show")
    parser.add_argument("--from", dest="day_from")
    parser.add_argument("--to", dest="day_to")
    parser.add_argument("--channel")
    parser.add_argument("--csv", choices=CSV_TABLES)
    args = parser.parse_args(argv)
    today = datetime.now(JST).date()
    day_from = args.day_from or (today - timedelta(days=29)).isoformat()
    day_to = args.day_to or today.isoformat()
    try:
        start, end = check_range(day_from, day_to)
    except BadRange as exc:
        print(f"エラー: 期間が正しくありません: {exc}", file=sys.stderr)
        return 2
    engine = make_engine(HandoffSettings.from_env().db_url)
    try:
        analytics = Analytics(engine, refresh_seconds=0)
        if args.command == "rebuild":
            analytics.invalidate(days_between(start, end) if args.day_from else None)
            print("集計をやり直します(次の表示で作り直します)")
            return 0
        report = analytics.report(day_from, day_to, args.channel).as_dict(
            top=1000 if args.csv else 10
        )
        if args.csv:
            sys.stdout.buffer.write(to_csv(*csv_table(report, args.csv)))
            return 0
        print(f"期間 {day_from} 〜 {day_to}  チャネル {safe(args.channel or 'すべて')}")
        width = max(len(str(k["label"])) for k in report["kpis"])
        for k in report["kpis"]:
            parts = "" if k["denominator"] is None else f"  ({k['numerator']} / {k['denominator']})"
            print(f"  {str(k['label']).ljust(width, '　')}  {_value(k).rjust(8)}{parts}")
        ag = report["agents"]
        print(
            f"  有人対応: 対応開始 {ag['claims']}件  待ち p50 {_seconds(ag['wait_p50'])} "
            f"p90 {_seconds(ag['wait_p90'])}  対応時間 p50 {_seconds(ag['handle_p50'])}"
        )
        if report["top_unanswered"]:
            print("  答えられなかった質問(上位):")
            for u in report["top_unanswered"]:
                print(f"    {u['count']:>6}  {safe(u['example'])}")
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
