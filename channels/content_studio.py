"""The content studio's pages and JSON API under /agent (editors and supervisors).

Registered on the agent console's blueprint (same log-in, cookie, CSRF token and CSP).
Every route needs at least the `editor` role (agents get 403); confirming a publish that
breaks answers needs `supervisor`. Content is sent as JSON and rendered by
web/agent/content.js with textContent only. API: docs/content-studio.md.

Preview and "test all" run the real NLU (this Rasa server's model) and the real router
(assistant/content/preview.py) on the old and the draft content. NLU results are cached
per text and model (the term entities are recomputed per content), and each parse
yields to the event loop, so customers' messages are not held up.

Applying an import (validation against everything, test all, one transaction, reload)
can take a minute on a large file, so it is a background job: the POST answers 202 with
a job id at once and the page polls GET /api/content/jobs/<id> for the phase, n/total and,
when done, the same JSON (and HTTP status) the call used to return. One import at a time
per process; Sanic's response timeout (60 s) is left as it is for everyone.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.content import live as live_content
from assistant.content import preview, transfer
from assistant.content.model import KINDS, clean
from assistant.content.service import check_changes, content_of
from assistant.content.store import Change, Conflict, NotFound, Rejected
from assistant.normalize import clean_user_text

from .live import LiveChat

logger = logging.getLogger(__name__)

MAX_CHANGES = 200  # an edit publishes a few; imports go through /import
MAX_PREVIEW_QUESTIONS = 20
MAX_QUESTION = 200
PARSE_CACHE = 50_000
KEEP_JOBS = 20  # finished jobs kept for polling (per process)
BUSY_MESSAGE = "別の取り込みを実行中です({who}さんが開始)。終わってからもう一度お試しください。"

Progress = Callable[[str, int, int], None]


@dataclass
class Job:
    """A background import: who started it, where it is, and its outcome."""

    id: str
    kind: str
    username: str
    started: float = field(default_factory=time.time)
    status: str = "running"  # running → done | failed
    phase: str = "queued"  # queued, reading, testing, comparing, applying, reloading, done
    done: int = 0
    total: int = 0
    finished: float | None = None
    http_status: int | None = None
    result: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, phase: str, done: int = 0, total: int = 0) -> None:
        with self._lock:  # called from the event loop and from worker threads
            self.phase, self.done, self.total = phase, done, total

    def finish(self, status: int, result: dict[str, Any]) -> None:
        with self._lock:
            self.http_status, self.result = status, result
            self.status = "done" if status < 500 else "failed"
            self.phase, self.finished = "done", time.time()

    def public(self) -> dict[str, Any]:
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "status": self.status,
                "phase": self.phase,
                "progress": {"done": self.done, "total": self.total},
                "started_by": self.username,
                "started_at": self.started,
                "finished_at": self.finished,
                "http_status": self.http_status,
                "result": self.result,
            }


class Analyzer:
    """NLU results for preview / test all, from this server's model (cached per text)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, str], preview.Parsed] = {}

    def _tokens(self, text: str) -> Any:
        try:
            return preview.tokens(text)
        except Exception:  # no GiNZA view: the surface matcher alone
            logger.exception("GiNZA tokens unavailable for preview")
            return None

    async def parse_all(
        self, app: Any, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, preview.Parsed]:
        agent = getattr(app.ctx, "agent", None)
        model = getattr(agent, "model_id", None)
        out: dict[str, preview.Parsed] = {}
        for n, text in enumerate(texts):
            if progress is not None and n % 50 == 0:
                progress(n, len(texts))
            clean_text = clean_user_text(text)
            key = (model, clean_text)
            parsed = self._cache.get(key)
            if parsed is None:
                latest: dict[str, Any] = {}
                if agent is not None and agent.is_ready():
                    latest = await agent.parse_message(clean_text)
                parsed = preview.Parsed(clean_text, latest, self._tokens(clean_text))
                if len(self._cache) < PARSE_CACHE:
                    self._cache[key] = parsed
                await asyncio.sleep(0)  # let customers' messages through between parses
            out[text] = parsed
        return out


def register(
    bp: Blueprint,
    live: LiveChat,
    staff_required: Callable[..., Callable[..., Any]],
    json: Callable[..., HTTPResponse],
    error: Callable[..., HTTPResponse],
    body_of: Callable[[Request], dict[str, Any]],
    client_of: Callable[[Request], str],
    page: Callable[[str], HTTPResponse],
) -> None:
    analyzer = Analyzer()
    holder: dict[str, Any] = {}
    jobs: dict[str, Job] = {}
    tasks: dict[str, asyncio.Task[None]] = {}  # running jobs (a reference keeps each task alive)

    @bp.listener("after_server_start")
    async def start_content(app: Any, _loop: Any) -> None:
        holder["live"] = await live.db(live_content.install, live.store.engine)

    async def warm_up(app: Any) -> None:
        """Parse every stored and eval question once (in the background, yielding between
        parses) so that the first "test all" takes about a second, not several."""
        lc = await studio()
        cases = preview.all_cases(lc.current, lc.current)
        await analyzer.parse_all(app, [c.text for c in cases])

    async def studio() -> live_content.LiveContent:
        if "live" not in holder:
            holder["live"] = await live.db(live_content.install, live.store.engine)
        lc: live_content.LiveContent = holder["live"]
        return lc

    def editor(csrf: bool = False, api: bool = True) -> Callable[..., Any]:
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
        return json(
            {
                "revision": snap.revision,
                "live_revision": lc.current.revision,
                "terms": [i.public() for i in snap.items if i.kind == "term"],
                "faqs": [i.public() for i in snap.items if i.kind == "faq"],
                "recent": await live.db(lc.service.store.recent, 30),
            }
        )

    @bp.route("/api/content/items/<item_id:int>", methods=["GET"])
    @editor()
    async def content_item(request: Request, item_id: int) -> HTTPResponse:
        lc = await studio()
        try:
            item = await live.db(lc.service.store.get, item_id)
        except NotFound:
            return error("not_found", 404)
        return json(
            {"item": item.public(), "history": await live.db(lc.service.store.history, item_id)}
        )

    # -- preview, test all, publish -------------------------------------------------

    def changes_of(body: dict[str, Any]) -> list[Change]:
        raw = body.get("changes")
        if not isinstance(raw, list) or not raw or len(raw) > MAX_CHANGES:
            raise ValueError("changes")
        out = []
        for c in raw:
            if not isinstance(c, dict) or c.get("kind") not in KINDS:
                raise ValueError("changes")
            item_id, expected = c.get("id"), c.get("expected")
            if (item_id is not None and not isinstance(item_id, int)) or (
                expected is not None and not isinstance(expected, int)
            ):
                raise ValueError("changes")
            data = c.get("data")
            if data is not None and not isinstance(data, dict):
                raise ValueError("changes")
            enabled = c.get("enabled")
            if data is None and (item_id is None or not isinstance(enabled, bool)):
                raise ValueError("changes")
            action = "" if data is not None else ("enable" if enabled else "disable")
            out.append(
                Change(
                    c["kind"],
                    clean(c["kind"], data) if data is not None else None,
                    item_id,
                    enabled if isinstance(enabled, bool) else None,
                    expected,
                    action,
                )
            )
        return out

    def questions_of(body: dict[str, Any], changes: list[Change]) -> list[str]:
        raw = body.get("questions") or []
        qs = (
            [str(q)[:MAX_QUESTION] for q in raw if isinstance(q, str) and q.strip()][
                :MAX_PREVIEW_QUESTIONS
            ]
            if isinstance(raw, list)
            else []
        )
        for ch in changes:
            if ch.kind == "term" and ch.data and ch.data.get("term"):
                qs.insert(0, f"{ch.data['term']}とは?")
        return list(dict.fromkeys(qs))

    async def evaluate(
        app: Any,
        changes: list[Change],
        questions: list[str],
        full: bool,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        lc = await studio()
        snap = await live.db(lc.service.snapshot)
        old = await live.db(content_of, snap)
        new, problems = await live.db(lc.service.draft, changes, snap)
        if problems:  # an invalid draft is not run (it may not even make an answer)
            return {"problems": problems, "report": preview.TestAll(), "revision": snap.revision}
        cases = (
            preview.all_cases(old, new, questions)
            if full
            else [preview.Case(q, None, "preview") for q in questions]
        )
        started = time.perf_counter()
        asking = (lambda n, total: progress("testing", n, total)) if progress else None
        comparing = (lambda n, total: progress("comparing", n, total)) if progress else None
        parsed = await analyzer.parse_all(app, [c.text for c in cases], asking)
        report = await live.db(preview.test_all, cases, parsed.__getitem__, old, new, comparing)
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
            result = await evaluate(
                request.app, changes, questions_of(body, changes), full=bool(body.get("test_all"))
            )
        except NotFound:
            return error("not_found", 404)
        return json({"problems": result["problems"], "test_all": result["report"].public()})

    async def publish_result(
        app: Any,
        agent: Any,
        client: str,
        changes: list[Change],
        questions: list[str],
        batch: str | None,
        note: str | None,
        confirmed: bool,
        progress: Progress | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Test all, then apply all or nothing: (HTTP status, JSON body)."""
        try:
            result = await evaluate(app, changes, questions, full=True, progress=progress)
        except NotFound:
            return 404, {"error": "not_found"}
        report: preview.TestAll = result["report"]
        if result["problems"]:
            return 400, {
                "error": "invalid",
                "problems": result["problems"],
                "test_all": report.public(),
            }
        if report.regressions and not (confirmed and agent.can("supervisor")):
            return 409, {
                "error": "regressions",
                "test_all": report.public(),
                "needs": "supervisor" if not agent.can("supervisor") else "confirm",
            }
        lc = await studio()
        if progress:
            progress("applying", 0, len(changes))
        try:
            revision = await live.db(lc.service.apply, changes, agent.username, batch, note, client)
        except Conflict as exc:
            return 409, {"error": "conflict", "current": exc.current.public()}
        except NotFound:
            return 404, {"error": "not_found"}
        except Rejected as exc:
            return 400, {"error": "invalid", "problems": exc.problems}
        if report.regressions:
            await live.db(
                live.audit.record,
                "content_regression_confirmed",
                agent.username,
                None,
                client,
                f"rev {revision}: {len(report.regressions)} regression(s)",
            )
        if progress:
            progress("reloading", len(changes), len(changes))
        await live.db(lc.refresh)  # this server at once; the others at their next poll
        return 200, {"revision": revision, "test_all": report.public()}

    def confirmed_of(request: Request, body: dict[str, Any]) -> bool:
        return body.get("confirm") is True or request.args.get("confirm") == "1"

    async def publish(
        request: Request,
        changes: list[Change],
        questions: list[str],
        batch: str | None,
        note: str | None,
    ) -> HTTPResponse:
        status, payload = await publish_result(
            request.app,
            request.ctx.agent,
            client_of(request),
            changes,
            questions,
            batch,
            note,
            confirmed_of(request, body_of(request)),
        )
        return json(payload, status)

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
        return await publish(
            request, [change], questions_of({}, [change]), None, f"restore of revision {rev_id}"
        )

    # -- import / export ---------------------------------------------------------------

    async def run_import(
        job: Job,
        app: Any,
        agent: Any,
        client: str,
        kind: str,
        fmt: str,
        data: bytes,
        confirmed: bool,
    ) -> None:
        try:
            job.progress("reading")
            lc = await studio()
            snap = await live.db(lc.service.snapshot)
            plan = await live.db(transfer.plan_import, kind, data, fmt, snap, check_changes)
            if plan.errors or not plan.changes:
                job.finish(
                    400 if plan.errors else 200,
                    {"dry_run": False, "applied": False, "plan": plan.public()},
                )
                return
            batch = f"import-{uuid.uuid4().hex[:12]}"
            status, payload = await publish_result(
                app,
                agent,
                client,
                plan.changes,
                [],
                batch,
                f"{fmt} import of {plan.rows} rows",
                confirmed,
                job.progress,
            )
            if status == 200:
                await live.db(
                    live.audit.record,
                    "content_import",
                    agent.username,
                    None,
                    client,
                    f"{batch}: {len(plan.added)} added, {len(plan.changed)} changed",
                )
            job.finish(status, payload)
        except Exception:  # the job reports it; the page never waits forever
            logger.exception("content import job %s failed", job.id)
            job.finish(
                500,
                {
                    "error": "import_failed",
                    "message": "取り込みに失敗しました。何も変更されていません。",
                },
            )
        finally:
            tasks.pop(job.id, None)

    def running_import() -> Job | None:
        return next((jobs[j] for j in tasks if j in jobs and jobs[j].kind == "import"), None)

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
            return error(
                "too_large",
                413,
                message=f"ファイルが大きすぎます(最大{transfer.MAX_BYTES // 1048576}MB)",
            )
        if dry_run:  # reading and checking only (3 s for 10,000 rows): answered at once
            lc = await studio()
            snap = await live.db(lc.service.snapshot)
            plan = await live.db(transfer.plan_import, kind, data, fmt, snap, check_changes)
            return json({"dry_run": True, "applied": False, "plan": plan.public()})
        busy = running_import()
        if busy is not None:
            return error(
                "import_running", 409, job=busy.id, message=BUSY_MESSAGE.format(who=busy.username)
            )
        agent = request.ctx.agent
        job = Job(uuid.uuid4().hex, "import", agent.username)
        for old_id in [j for j in jobs if j not in tasks][: max(0, len(jobs) - KEEP_JOBS + 1)]:
            del jobs[old_id]
        jobs[job.id] = job
        tasks[job.id] = asyncio.get_running_loop().create_task(
            run_import(
                job,
                request.app,
                agent,
                client_of(request),
                kind,
                fmt,
                data,
                confirmed_of(request, {}),
            )
        )
        return json(
            {"job": job.public(), "url": f"{request.path.rsplit('/', 1)[0]}/jobs/{job.id}"}, 202
        )

    @bp.route("/api/content/jobs/<job_id:str>", methods=["GET"])
    @editor()
    async def content_job(request: Request, job_id: str) -> HTTPResponse:
        job = jobs.get(job_id)
        agent = request.ctx.agent
        if job is None or not (job.username == agent.username or agent.can("supervisor")):
            return error("not_found", 404)
        return json(job.public())

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
            payload, mime = (
                await live.db(transfer.to_xlsx, rows, "glossary" if kind == "term" else "faq"),
                transfer.XLSX_TYPE,
            )
        return response.raw(
            payload,
            content_type=mime,
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )
