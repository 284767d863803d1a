"""Analytics for supervisors in the agent console (/agent/analytics): the KPI report
over a period as JSON and CSV, and the dashboard page (docs/analytics.md).

Only ``supervisor`` accounts: an agent gets 403, no log-in 401 (API) or a redirect
(page). A malformed, reversed or too long period is a 400 with the reason. Reports
read the daily roll-ups (assistant/outcomes/rollup.py) in a worker thread.
"""
from __future__ import annotations

import csv
import io
from functools import lru_cache
from typing import Any, Callable, Dict, Iterable, List, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.outcomes.rollup import Analytics, BadRange

SUPERVISOR = ("supervisor",)
MAX_CHANNEL = 32
CSV_TABLES = ("kpis", "daily", "top_answers", "top_unanswered")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@lru_cache(maxsize=1)
def analytics_for(engine: Any) -> Analytics:
    return Analytics(engine)


def safe_cell(value: Any) -> Any:
    """A CSV cell Excel will not run: text starting with = + - @ tab or CR gets a leading '."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(header: List[str], rows: Iterable[List[Any]]) -> bytes:
    """UTF-8 with a BOM (Excel opens Japanese text right), CRLF, formulas neutralised."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow([safe_cell(h) for h in header])
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def csv_table(report: Dict[str, Any], table: str) -> tuple[List[str], List[List[Any]]]:
    if table == "kpis":
        return (["指標", "キー", "値", "分子", "分母", "定義"],
                [[k["label"], k["key"], _num(k["value"]), k["numerator"], k["denominator"], k["formula"]]
                 for k in report["kpis"]])
    if table == "daily":
        cols = ["day", "messages", "questions", "conversations", "answered_up", "answered_no_rating",
                "answered_down", "unanswered", "handoff"]
        return (["日付", "メッセージ", "質問", "会話", "回答(👍)", "回答(評価なし)", "回答(👎)", "未回答・対象外",
                 "有人対応依頼"], [[d[c] for c in cols] for d in report["daily"]])
    if table == "top_answers":
        return (["種別", "用語/FAQ", "回答数", "👍", "👎"],
                [[a["kind"], a["name"], a["count"], a["up"], a["down"]] for a in report["top_answers"]])
    return (["質問(正規化)", "件数", "例", "会話ID"],
            [[u["normalized"], u["count"], u["example"], u["conversation"]] for u in report["top_unanswered"]])


def _num(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else ("" if value is None else value)


def register(bp: Blueprint, live: Any, login_required: Callable[..., Any], json: Callable[..., HTTPResponse],
             error: Callable[..., HTTPResponse], page: Callable[[str], HTTPResponse]) -> None:
    """Add the analytics page and API to the console's blueprint."""

    def params(request: Request) -> tuple[str, str, Optional[str]]:
        channel = request.args.get("channel") or None
        if channel is not None and (len(channel) > MAX_CHANNEL or not channel.isprintable()):
            raise BadRange("channel is not a channel name")
        return request.args.get("from") or "", request.args.get("to") or "", channel

    async def build(request: Request, top: int = 20) -> Dict[str, Any]:
        day_from, day_to, channel = params(request)
        a = analytics_for(live.store.engine)
        report = await live.db(a.report, day_from, day_to, channel)
        return report.as_dict(top)

    @bp.route("/analytics", methods=["GET"])
    @login_required(api=False, roles=SUPERVISOR)
    async def analytics_page(request: Request) -> HTTPResponse:
        return page("analytics.html")

    @bp.route("/api/analytics", methods=["GET"])
    @login_required(roles=SUPERVISOR)
    async def analytics_api(request: Request) -> HTTPResponse:
        try:
            return json(await build(request))
        except BadRange as exc:
            return error("bad_range", 400, reason=str(exc))

    @bp.route("/api/analytics/export.csv", methods=["GET"])
    @login_required(roles=SUPERVISOR)
    async def analytics_csv(request: Request) -> HTTPResponse:
        table = request.args.get("table") or "kpis"
        if table not in CSV_TABLES:
            return error("bad_table", 400, reason=f"table must be one of {', '.join(CSV_TABLES)}")
        try:
            report = await build(request, top=1000)
        except BadRange as exc:
            return error("bad_range", 400, reason=str(exc))
        header, rows = csv_table(report, table)
        name = f"analytics-{table}-{report['from']}-{report['to']}.csv"
        return response.raw(
            to_csv(header, rows),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
                     "X-Content-Type-Options": "nosniff"},
        )

