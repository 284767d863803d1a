"""The content studio's pages and JSON API under /agent (editors and supervisors).

Registered on the agent console's blueprint (same log-in, cookie, CSRF token and CSP).
Every route needs at least the `editor` role (agents get 403); confirming a publish that
breaks answers needs `supervisor`. Content is sent as JSON and rendered by
web/agent/content.js with textContent only. API: docs/content-studio.md.

Preview and "test all" run the real NLU (this Rasa server's model) and the real router
(assistant/content/preview.py) on the old and the draft content. NLU results are cached
per text and model (the term entities are recomputed per content), and each parse
yields to the event loop, so customers' messages are not held up.

Import and export (a background job for a large file): content_transfer.py; the work
behind the routes (NLU cache, test all, publish all or nothing): content_publish.py.
Dependencies from the console come in one ``ConsoleDeps`` (console_deps.py).
"""

from __future__ import annotations

from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.content.store import Change, NotFound

from . import content_transfer
from .console_deps import EDITORS, ConsoleDeps, Guard
from .content_publish import Studio, changes_of, confirmed_of, questions_of


def register(bp: Blueprint, deps: ConsoleDeps) -> None:
    live, json, error, page = deps.live, deps.json, deps.error, deps.page
    body_of, client_of = deps.body_of, deps.client_of
    studio = Studio(live)

    @bp.listener("after_server_start")
    async def start_content(app: Any, _loop: Any) -> None:
        await studio.install()

    def editor(csrf: bool = False, api: bool = True) -> Guard:
        return deps.requires(EDITORS, api=api, csrf=csrf)

    # -- pages ------------------------------------------------------------------

    @bp.route("/content", methods=["GET"])
    @editor(api=False)
    async def content_page(request: Request) -> HTTPResponse:
        return page("content.html")

    # -- reads ------------------------------------------------------------------

    @bp.route("/api/content", methods=["GET"])
    @editor()
    async def content_list(request: Request) -> HTTPResponse:
        lc = await studio.content()
        snap = await live.db(lc.service.snapshot)
        studio.warm_up_once(request.app)
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
        lc = await studio.content()
        try:
            item = await live.db(lc.service.store.get, item_id)
        except NotFound:
            return error("not_found", 404)
        return json(
            {"item": item.public(), "history": await live.db(lc.service.store.history, item_id)}
        )

    # -- preview, test all, publish -------------------------------------------------

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
            result = await studio.evaluate(
                request.app, changes, questions_of(body, changes), full=bool(body.get("test_all"))
            )
        except NotFound:
            return error("not_found", 404)
        return json({"problems": result["problems"], "test_all": result["report"].public()})

    async def publish(
        request: Request,
        changes: list[Change],
        questions: list[str],
        batch: str | None,
        note: str | None,
    ) -> HTTPResponse:
        status, payload = await studio.publish_result(
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
        lc = await studio.content()
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

    content_transfer.register(bp, deps, studio)
