"""The content studio's pages and JSON API under /agent (editors and supervisors).

Registered on the agent console's blueprint (same log-in, cookie, CSRF token and CSP).
Every route needs at least the `editor` role (agents get 403); confirming a publish that
breaks answers needs `supervisor`. Content is sent as JSON and rendered by
web/agent/content.js with textContent only. API: docs/content-studio.md.

Preview and "test all" run the real NLU (this Rasa server's model) and the real router
(assistant/content/preview.py) on the old and the draft content. NLU results are cached
per text and model (the term entities are recomputed per content), and each parse
yields to the event loop, so customers' messages are not held up.
"""
from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any, Callable, Dict, List, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.content import live as live_content
from assistant.content import preview, transfer
from assistant.content.model import KINDS, clean
from assistant.content.service import check_changes, content_of
from assistant.content.store import Change, Conflict, NotFound, Rejected
from assistant.normalize import clean_user_text

logger = logging.getLogger(__name__)

MAX_CHANGES = 200  # an edit publishes a few; imports go through /import
MAX_PREVIEW_QUESTIONS = 20
MAX_QUESTION = 200
PARSE_CACHE = 50_000
IMPORT_TIMEOUT = 600  # seconds (see start_content)


class Analyzer:
    """NLU results for preview / test all, from this server's model (cached per text)."""

    def __init__(self) -> None:
        self._cache: Dict[Tuple[Any, str], preview.Parsed] = {}

    def _tokens(self, text: str) -> Any:
        try:
            return preview.tokens(text)
        except Exception:  # no GiNZA view: the surface matcher alone
            logger.exception("GiNZA tokens unavailable for preview")
            return None

    async def parse_all(self, app: Any, texts: List[str]) -> Dict[str, preview.Parsed]:
        agent = getattr(app.ctx, "agent", None)
        model = getattr(agent, "model_id", None)
        out: Dict[str, preview.Parsed] = {}
        for text in texts:
            clean_text = clean_user_text(text)
            key = (model, clean_text)
            parsed = self._cache.get(key)
            if parsed is None:
                latest: Dict[str, Any] = {}
                if agent is not None and agent.is_ready():
                    latest = await agent.parse_message(clean_text)
                parsed = preview.Parsed(clean_text, latest, self._tokens(clean_text))
                if len(self._cache) < PARSE_CACHE:
                    self._cache[key] = parsed
                await asyncio.sleep(0)  # let customers' messages through between parses
            out[text] = parsed
        return out


def register(bp: Blueprint, live: Any, staff_required: Callable[..., Any], json: Callable[..., HTTPResponse],
             error: Callable[..., HTTPResponse], body_of: Callable[[Request], Dict[str, Any]],
             client_of: Callable[[Request], str], page: Callable[[str], HTTPResponse]) -> None:
    analyzer = Analyzer()
    holder: Dict[str, Any] = {}

    @bp.listener("after_server_start")
    async def start_content(app: Any, _loop: Any) -> None:
        holder["live"] = await live.db(live_content.install, live.store.engine)
        # `rasa run` without --enable-api keeps Sanic's 60 s response timeout; applying a
        # large import (validation, test all, one transaction) can take longer.
        app.config.RESPONSE_TIMEOUT = max(int(app.config.RESPONSE_TIMEOUT or 0), IMPORT_TIMEOUT)

    async def warm_up(app: Any) -> None:
        """Parse every stored and eval question once (in the background, yielding between
        parses) so that the first "test all" takes about a second, not several."""
        lc = await studio()
        cases = preview.all_cases(lc.current, lc.current)
        await analyzer.parse_all(app, [c.text for c in cases])

    async def studio() -> live_content.LiveContent:
        if "live" not in holder:
            holder["live"] = await live.db(live_content.install, live.store.engine)
        return holder["live"]

    def editor(csrf: bool = False, api: bool = True):
        return staff_required(live, ("editor", "supervisor"), api=api, csrf=csrf)

    # -- pages ------------------------------------------------------------------

    @bp.route("/content", methods=["GET"])
    @editor(api=False)
    async def content_page(request: Request) -> HTTPResponse:
        return page("content.html")

    # -- reads ------------------------------------------------------------------

    @bp.route("/api/content", methods=["GET"])
    @editor()
    async def content_list(request: Request) -> HTTPResponse:
        lc = await studio()
        snap = await live.db(lc.service.snapshot)
        if "warm" not in holder:
            holder["warm"] = asyncio.get_running_loop().create_task(warm_up(request.app))
        return json({
            "revision": snap.revision,
            "live_revision": lc.current.revision,
            "terms": [i.public() for i in snap.items if i.kind == "term"],
            "faqs": [i.public() for i in snap.items if i.kind == "faq"],
            "recent": await live.db(lc.service.store.recent, 30),
        })

    @bp.route("/api/content/items/<item_id:int>", methods=["GET"])
    @editor()
    async def content_item(request: Request, item_id: int) -> HTTPResponse:
        lc = await studio()
        try:
            item = await live.db(lc.service.store.get, item_id)
        except NotFound:
            return error("not_found", 404)
        return json({"item": item.public(), "history": await live.db(lc.service.store.history, item_id)})

    # -- preview, test all, publish -------------------------------------------------

    def changes_of(body: Dict[str, Any]) -> List[Change]:
        raw = body.get("changes")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_CHANGES:
            raise ValueError("changes")
        out = []
        for c in raw:
            if not isinstance(c, dict) or c.get("kind") not in KINDS:
                raise ValueError("changes")
            item_id, expected = c.get("id"), c.get("expected")
            if item_id is not None and not isinstance(item_id, int) or expected is not None and not isinstance(expected, int):
                raise ValueError("changes")
            data = c.get("data")
            if data is not None and not isinstance(data, dict):
                raise ValueError("changes")
            enabled = c.get("enabled")
            if data is None and (item_id is None or not isinstance(enabled, bool)):
                raise ValueError("changes")
            action = "" if data is not None else ("enable" if enabled else "disable")
            out.append(Change(c["kind"], clean(c["kind"], data) if data is not None else None, item_id,
                              enabled if isinstance(enabled, bool) else None, expected, action))
        return out

    def questions_of(body: Dict[str, Any], changes: List[Change]) -> List[str]:
        raw = body.get("questions") or []
        qs = [str(q)[:MAX_QUESTION] for q in raw if isinstance(q, str) and q.strip()][:MAX_PREVIEW_QUESTIONS] \
            if isinstance(raw, list) else []
        for ch in changes:
            if ch.kind == "term" and ch.data and ch.data.get("term"):
                qs.insert(0, f"{ch.data['term']}とは?")
        return list(dict.fromkeys(qs))

    async def evaluate(request: Request, changes: List[Change], questions: List[str], full: bool) -> Dict[str, Any]:
        lc = await studio()
        snap = await live.db(lc.service.snapshot)
        old = await live.db(content_of, snap)
        new, problems = await live.db(lc.service.draft, changes, snap)
        if problems:  # an invalid draft is not run (it may not even make an answer)
            return {"problems": problems, "report": preview.TestAll(), "revision": snap.revision}
        cases = preview.all_cases(old, new, questions) if full else [preview.Case(q, None, "preview") for q in questions]
        started = time.perf_counter()
        parsed = await analyzer.parse_all(request.app, [c.text for c in cases])
        report = await live.db(preview.test_all, cases, parsed.__getitem__, old, new)
        report.seconds = time.perf_counter() - started
        return {"problems": problems, "report": report, "revision": snap.revision}

    @bp.route("/api/content/preview", methods=["POST"])
    @editor(csrf=True)
    async def content_preview(request: Request) -> HTTPResponse:
        body = body_of(request)
        try:
            changes = changes_of(body)
        except ValueError:
            return error("bad_changes", 400)
        except NotFound:
            return error("not_found", 404)
        try:
            result = await evaluate(request, changes, questions_of(body, changes), full=bool(body.get("test_all")))
        except NotFound:
            return error("not_found", 404)
        return json({"problems": result["problems"], "test_all": result["report"].public()})

    async def publish(request: Request, changes: List[Change], questions: List[str], batch: Optional[str],
                      note: Optional[str]) -> HTTPResponse:
        body = body_of(request)
        agent = request.ctx.agent
        try:
            result = await evaluate(request, changes, questions, full=True)
        except NotFound:
            return error("not_found", 404)
        report: preview.TestAll = result["report"]
        if result["problems"]:
            return error("invalid", 400, problems=result["problems"], test_all=report.public())
        confirmed = body.get("confirm") is True or request.args.get("confirm") == "1"
        if report.regressions and not (confirmed and agent.can("supervisor")):
            return error("regressions", 409, test_all=report.public(),
                         needs="supervisor" if not agent.can("supervisor") else "confirm")
        lc = await studio()
        try:
            revision = await live.db(lc.service.apply, changes, agent.username, batch, note, client_of(request))
        except Conflict as exc:
            return error("conflict", 409, current=exc.current.public())
        except NotFound:
            return error("not_found", 404)
        except Rejected as exc:
            return error("invalid", 400, problems=exc.problems)
        if report.regressions:
            await live.db(live.audit.record, "content_regression_confirmed", agent.username, None,
                          client_of(request), f"rev {revision}: {len(report.regressions)} regression(s)")
        await live.db(lc.refresh)  # this server at once; the others at their next poll
        return json({"revision": revision, "test_all": report.public()})

    @bp.route("/api/content/publish", methods=["POST"])
    @editor(csrf=True)
    async def content_publish(request: Request) -> HTTPResponse:
        body = body_of(request)
        try:
            changes = changes_of(body)
        except ValueError:
            return error("bad_changes", 400)
        return await publish(request, changes, questions_of(body, changes), None, None)

    @bp.route("/api/content/restore", methods=["POST"])
    @editor(csrf=True)
    async def content_restore(request: Request) -> HTTPResponse:
        body = body_of(request)
        rev_id = body.get("revision")
        if not isinstance(rev_id, int):
            return error("bad_revision", 400)
        lc = await studio()
        try:
            rev = await live.db(lc.service.store.revision, rev_id)
        except NotFound:
            return error("not_found", 404)
        data = rev["after"] if rev["after"] is not None else rev["before"]
        enabled = rev["after_enabled"] if rev["after_enabled"] is not None else True
        expected = body.get("expected") if isinstance(body.get("expected"), int) else None
        change = Change(rev["kind"], data, rev["item_id"], bool(enabled), expected, "restore")
        return await publish(request, [change], questions_of({}, [change]), None, f"restore of revision {rev_id}")

    # -- import / export ---------------------------------------------------------------

    @bp.route("/api/content/import", methods=["POST"])
    @editor(csrf=True)
    async def content_import(request: Request) -> HTTPResponse:
        kind = request.args.get("kind", "term")
        fmt = request.args.get("format", "csv")
        dry_run = request.args.get("apply") != "1"
        if kind not in KINDS or fmt not in transfer.FORMATS:
            return error("bad_format", 400)
        data = request.body or b""
        if len(data) > transfer.MAX_BYTES:
            return error("too_large", 413, message=f"ファイルが大きすぎます(最大{transfer.MAX_BYTES // 1048576}MB)")
        lc = await studio()
        snap = await live.db(lc.service.snapshot)
        plan = await live.db(transfer.plan_import, kind, data, fmt, snap, check_changes)
        if dry_run or plan.errors or not plan.changes:
            status = 400 if plan.errors and not dry_run else 200
            return json({"dry_run": dry_run, "applied": False, "plan": plan.public()}, status)
        batch = f"import-{uuid.uuid4().hex[:12]}"
        resp = await publish(request, plan.changes, [], batch, f"{fmt} import of {plan.rows} rows")
        if resp.status == 200:
            await live.db(live.audit.record, "content_import", request.ctx.agent.username, None, client_of(request),
                          f"{batch}: {len(plan.added)} added, {len(plan.changed)} changed")
        return resp

    @bp.route("/api/content/export", methods=["GET"])
    @editor()
    async def content_export(request: Request) -> HTTPResponse:
        kind = request.args.get("kind", "term")
        fmt = request.args.get("format", "csv")
        if kind not in KINDS or fmt not in transfer.FORMATS:
            return error("bad_format", 400)
        lc = await studio()
        snap = await live.db(lc.service.snapshot)
        rows = transfer.export_rows(kind, [i.data for i in snap.enabled(kind)])
        name = f"{'glossary' if kind == 'term' else 'faq'}-rev{snap.revision}.{fmt}"
        if fmt == "csv":
            payload, mime = transfer.to_csv(rows), "text/csv; charset=utf-8"
        else:
            payload, mime = await live.db(transfer.to_xlsx, rows, "glossary" if kind == "term" else "faq"), transfer.XLSX_TYPE
        return response.raw(payload, content_type=mime, headers={
            "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff"})
