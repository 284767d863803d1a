"""Import and export in the content studio (/agent/api/content/import, /jobs/<id>,
/export; editors and supervisors), registered by content_studio.py on the console's
blueprint with the same ``Studio``.

Applying an import (validation against everything, test all, one transaction, reload)
can take a minute on a large file, so it is a background job: the POST answers 202 with
a job id at once and the page polls GET /api/content/jobs/<id> for the phase, n/total and,
when done, the same JSON (and HTTP status) the call used to return. One import at a time
per process; Sanic's response timeout (60 s) is left as it is for everyone. A dry run
(reading and checking only) is answered at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.content import transfer
from assistant.content.model import KINDS
from assistant.content.service import check_changes

from .console_deps import EDITORS, ConsoleDeps, Guard
from .content_publish import Job, Studio, confirmed_of

logger = logging.getLogger(__name__)

KEEP_JOBS = 20  # finished jobs kept for polling (per process)
BUSY_MESSAGE = "別の取り込みを実行中です({who}さんが開始)。終わってからもう一度お試しください。"


def register(bp: Blueprint, deps: ConsoleDeps, studio: Studio) -> None:
    live, json, error, client_of = deps.live, deps.json, deps.error, deps.client_of
    jobs, tasks = studio.jobs, studio.tasks

    def editor(csrf: bool = False, api: bool = True) -> Guard:
        return deps.requires(EDITORS, api=api, csrf=csrf)

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
            lc = await studio.content()
            snap = await live.db(lc.service.snapshot)
            plan = await live.db(transfer.plan_import, kind, data, fmt, snap, check_changes)
            if plan.errors or not plan.changes:
                job.finish(
                    400 if plan.errors else 200,
                    {"dry_run": False, "applied": False, "plan": plan.public()},
                )
                return
            batch = f"import-{uuid.uuid4().hex[:12]}"
            status, payload = await studio.publish_result(
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
            lc = await studio.content()
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
        lc = await studio.content()
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
