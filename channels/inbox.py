"""The unanswered inbox (未回答) in the agent console: /agent/inbox and /agent/api/inbox.

Editors and supervisors only (agents 403, no log-in 401 / a redirect). Items come from
the outcome log grouped by assistant/inbox/items.py; a fix goes through the content
studio's validated seams (assistant/content/service.py: one revision, as the person who
clicked), then the item is marked resolved; a dismissal needs a reason. Nothing is
applied without a person. Rendered by web/agent/inbox.js with textContent only.
"""

from __future__ import annotations

import unicodedata
from datetime import datetime, timezone
from typing import Any

from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.content import live as live_content
from assistant.content.store import Conflict, NotFound, Rejected
from assistant.inbox.items import (
    ACTIONS,
    MAX_KEY,
    STATUSES,
    Item,
    State,
    check_reason,
    counts,
    select,
)
from assistant.inbox.store import DEFAULT_DAYS, MAX_DAYS, InboxStore
from assistant.transcript import transcript_from_events

from .console_deps import EDITORS, ConsoleDeps, Guard

MAX_TEXT = 200
MAX_LISTED = 500
MAX_SUGGEST = 64  # characters of a question given to もしかして


def _text(value: Any) -> str:
    return " ".join(str(value or "").split())[:MAX_TEXT] if isinstance(value, (str, int)) else ""


def register(bp: Blueprint, deps: ConsoleDeps) -> None:
    live, json, error, page = deps.live, deps.json, deps.error, deps.page
    body_of, client_of = deps.body_of, deps.client_of
    holder: dict[str, InboxStore] = {}

    async def store() -> InboxStore:
        if "store" not in holder:
            holder["store"] = await live.db(InboxStore, live.store.engine)
        return holder["store"]

    async def studio() -> live_content.LiveContent:
        return await live.db(live_content.install, live.store.engine)

    def editor(csrf: bool = False, api: bool = True) -> Guard:
        return deps.requires(EDITORS, api=api, csrf=csrf)

    def suggestions(lc: live_content.LiveContent, item: Item) -> dict[str, Any]:
        """Pre-filled choices: もしかして headwords, a new headword, the FAQ the retriever picks."""
        content = lc.current
        words = item.label if item.reasons.get("unknown_term") else (item.question or item.label)
        alias_of = content.matcher.suggest(words[:MAX_SUGGEST])
        faq = content.knowledge.retrieve_faq(item.question or item.label)
        return {
            "alias_of": alias_of,
            "headword": item.label[:64] if item.reasons.get("unknown_term") else "",
            "faq_id": faq or (item.faq_id or ""),
            "question": unicodedata.normalize("NFKC", item.question or item.label)[:MAX_TEXT],
        }

    async def current(request: Request) -> list[Item]:
        days = request.args.get("days") or str(DEFAULT_DAYS)
        if not days.isdigit() or not 1 <= int(days) <= MAX_DAYS:
            raise ValueError(f"days は 1〜{MAX_DAYS} の整数です")
        s = await store()
        return await live.db(s.items, int(days))

    @bp.route("/inbox", methods=["GET"])
    @editor(api=False)
    async def inbox_page(request: Request) -> HTTPResponse:
        return page("inbox.html")

    @bp.route("/api/inbox", methods=["GET"])
    @editor()
    async def inbox_list(request: Request) -> HTTPResponse:
        status = request.args.get("status") or "open"
        if status not in (*STATUSES, "all"):
            return error(
                "bad_status", 400, reason="status は open / resolved / dismissed / all です"
            )
        try:
            items = await current(request)
        except ValueError as exc:
            return error("bad_days", 400, reason=str(exc))
        lc = await studio()

        def payload() -> dict[str, Any]:  # in a worker thread: もしかして for hundreds of items
            listed = select(items, status)[:MAX_LISTED]
            return {
                "counts": counts(items),
                "items": [
                    {**i.public(), "suggest": suggestions(lc, i) if i.status == "open" else None}
                    for i in listed
                ],
                "faqs": [{"id": f["id"], "title": f["title"]} for f in lc.current.faq_records],
            }

        return json(await live.db(payload))

    @bp.route("/api/inbox/transcript", methods=["GET"])
    @editor()
    async def inbox_transcript(request: Request) -> HTTPResponse:
        conversation = request.args.get("conversation") or ""
        if not conversation or len(conversation) > 128:
            return error("bad_conversation", 400)
        s = await store()
        agent = getattr(request.app.ctx, "agent", None)
        if not await live.db(s.seen_in, conversation) or agent is None:
            return error("not_found", 404)
        tracker = await agent.tracker_store.retrieve(conversation)
        events = [e.as_dict() for e in tracker.events] if tracker is not None else []
        return json({"conversation": conversation, "transcript": transcript_from_events(events)})

    async def find(request: Request, body: dict[str, Any]) -> Item:
        key = body.get("key")
        if not isinstance(key, str) or not key or len(key) > MAX_KEY:
            raise LookupError
        for item in await current(request):
            if item.key == key:
                return item
        raise LookupError

    async def decide(request: Request, item: Item, **state: Any) -> HTTPResponse:
        s = await store()
        st = State(
            item.key, at=datetime.now(timezone.utc), actor=request.ctx.agent.username, **state
        )
        await live.db(s.decide, st, item.label)
        detail = f"{st.status} {st.action or ''} {st.target or ''} {item.key}"[:400]
        await live.db(
            live.audit.record, "inbox_" + st.status, st.actor, None, client_of(request), detail
        )
        return json({"key": item.key, "status": st.status, "revision": st.revision})

    @bp.route("/api/inbox/fix", methods=["POST"])
    @editor(csrf=True)
    async def inbox_fix(request: Request) -> HTTPResponse:
        body = body_of(request)
        try:
            item = await find(request, body)
        except (LookupError, ValueError):
            return error("not_found", 404)
        action = body.get("action")
        if action not in ACTIONS:
            return error("bad_action", 400, reason="action は alias / term / faq です")
        lc = await studio()
        actor = request.ctx.agent.username
        try:
            if action == "alias":
                target, alias = _text(body.get("headword")), _text(body.get("alias"))
                if not target or not alias:
                    return error(
                        "invalid",
                        400,
                        problems=[{"field": "alias", "message": "用語と別名を入力してください"}],
                    )
                revision = await live.db(lc.service.add_alias, target, alias, actor)
            elif action == "faq":
                target, question = _text(body.get("faq_id")), _text(body.get("question"))
                if not target or not question:
                    return error(
                        "invalid",
                        400,
                        problems=[
                            {"field": "question", "message": "FAQと質問文を入力してください"}
                        ],
                    )
                revision = await live.db(lc.service.add_faq_question, target, question, actor)
            else:
                record = body.get("term")
                if not isinstance(record, dict):
                    return error(
                        "invalid",
                        400,
                        problems=[{"field": "term", "message": "用語の内容を入力してください"}],
                    )
                target = _text(record.get("term"))
                revision = await live.db(lc.service.create_term, record, actor)
        except NotFound:
            return error(
                "not_found",
                404,
                problems=[{"field": action, "message": "指定の用語・FAQが見つかりません"}],
            )
        except Conflict as exc:
            return error("conflict", 409, current=exc.current.public())
        except Rejected as exc:
            return error("invalid", 400, problems=exc.problems)
        await live.db(lc.refresh)  # this server answers with it at once; the others within a poll
        return await decide(
            request, item, status="resolved", action=action, target=target, revision=revision
        )

    @bp.route("/api/inbox/dismiss", methods=["POST"])
    @editor(csrf=True)
    async def inbox_dismiss(request: Request) -> HTTPResponse:
        body = body_of(request)
        try:
            item = await find(request, body)
        except (LookupError, ValueError):
            return error("not_found", 404)
        try:
            reason = check_reason(body.get("reason"))
        except ValueError as exc:
            return error("invalid", 400, problems=[{"field": "reason", "message": str(exc)}])
        return await decide(request, item, status="dismissed", reason=reason)

    @bp.route("/api/inbox/reopen", methods=["POST"])
    @editor(csrf=True)
    async def inbox_reopen(request: Request) -> HTTPResponse:
        key = body_of(request).get("key")
        if not isinstance(key, str) or not key or len(key) > MAX_KEY:
            return error("not_found", 404)
        s = await store()
        if not await live.db(s.reopen, [key]):
            return error("not_found", 404)
        await live.db(
            live.audit.record,
            "inbox_reopened",
            request.ctx.agent.username,
            None,
            client_of(request),
            key[:400],
        )
        return json({"key": key, "status": "open"})
