"""Analytics for supervisors in the agent console (/agent/analytics): the KPI report
over a period as JSON and CSV, and the dashboard page (docs/analytics.md).

Only ``supervisor`` accounts: an agent gets 403, no log-in 401 (API) or a redirect
(page). A malformed, reversed or too long period is a 400 with the reason. Reports
read the daily roll-ups (assistant/outcomes/rollup.py) in a worker thread.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.outcomes.export import CSV_TABLES, csv_table, to_csv
from assistant.outcomes.rollup import Analytics, BadRange

from .console_deps import SUPERVISOR, ConsoleDeps

logger = logging.getLogger(__name__)
MAX_CHANNEL = 32


@lru_cache(maxsize=1)
def analytics_for(engine: Any) -> Analytics:
    return Analytics(engine)


def register(bp: Blueprint, deps: ConsoleDeps) -> None:
    """Add the analytics page and API to the console's blueprint."""
    live, json, error, page = deps.live, deps.json, deps.error, deps.page

    def params(request: Request) -> tuple[str, str, str | None]:
        channel = request.args.get("channel") or None
        if channel is not None and (len(channel) > MAX_CHANNEL or not channel.isprintable()):
            raise BadRange("channel is not a channel name")
        return request.args.get("from") or "", request.args.get("to") or "", channel

    async def build(request: Request, top: int = 20) -> dict[str, Any]:
        day_from, day_to, channel = params(request)
        a = analytics_for(live.store.engine)
        report = await live.db(a.report, day_from, day_to, channel)
        return report.as_dict(top)

    @bp.listener("after_server_start")
    async def prebuild(app: Any, _loop: Any) -> None:
        """The last 35 days' roll-ups, built in a thread at start (none missing later)."""
        import threading

        def run() -> None:
            try:
                analytics_for(live.store.engine).prebuild()
            except Exception:  # the dashboard builds what is missing itself
                logger.exception("analytics: prebuild")

        threading.Thread(target=run, name="analytics-prebuild", daemon=True).start()

    @bp.route("/analytics", methods=["GET"])
    @deps.requires(SUPERVISOR, api=False)
    async def analytics_page(request: Request) -> HTTPResponse:
        return page("analytics.html")

    @bp.route("/api/analytics", methods=["GET"])
    @deps.requires(SUPERVISOR)
    async def analytics_api(request: Request) -> HTTPResponse:
        try:
            return json(await build(request))
        except BadRange as exc:
            return error("bad_range", 400, reason=str(exc))

    @bp.route("/api/analytics/export.csv", methods=["GET"])
    @deps.requires(SUPERVISOR)
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
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
