"""The agent console (/agent): log-in, queue, claim, talk, hand back, close.

A Rasa input channel (listed in credentials.yml) only so that it runs inside the
Rasa server next to the customer channels; it receives no customer messages. The
HTTP API is documented in docs/live-chat.md. Security: every page and API needs a
log-in session (HttpOnly, SameSite=Strict cookie); every POST needs the session's
CSRF token in ``X-CSRF-Token``; pages carry a strict Content-Security-Policy and
render user text only with textContent (web/agent/).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.handoff.tickets import AlreadyClaimed, TicketClosed, TicketNotFound
from assistant.livechat.console_view import queue_view, ticket_detail

from . import analytics, console_login, content_studio, inbox, privacy
from .console_deps import ConsoleDeps, Guard, Handler
from .console_http import (
    SESSION_COOKIE,
    body_of,
    client_of,
    error_response,
    json_response,
    page,
    staff_required,
    still_logged_in,
)
from .live import live_chat

logger = logging.getLogger(__name__)

PING_SECONDS = 5  # also how often an open event stream re-checks its session
SANIC_CORS_DONE = "_sanic_cors_e"  # the console is same-origin only: Sanic-CORS adds nothing


class AgentConsoleInput(InputChannel):
    @classmethod
    def name(cls) -> str:
        return "agent_console"

    def url_prefix(self) -> str:
        return "/agent"  # absolute: mounted at /agent, not /webhooks/...

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        return cls()

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        live = live_chat()
        bp = Blueprint("agent_console", __name__)

        @bp.listener("after_server_start")
        async def attach(app: Any, _loop: Any) -> None:
            live.attach_server(app)

        @bp.middleware("request")
        async def same_origin_only(request: Request) -> None:
            setattr(request.ctx, SANIC_CORS_DONE, True)

        deps = ConsoleDeps(
            live, staff_required, json_response, error_response, body_of, client_of, page
        )

        def login_required(api: bool = True, csrf: bool = False) -> Guard:
            return deps.requires((), api=api, csrf=csrf)

        console_login.register(bp, deps)  # log-in, log-out, pages, static files
        analytics.register(bp, deps)

        # -- API ----------------------------------------------------------------

        @bp.route("/api/me", methods=["GET"])
        @login_required()
        async def me(request: Request) -> HTTPResponse:
            agent = request.ctx.agent
            return json_response(
                {
                    "username": agent.username,
                    "display_name": agent.display_name,
                    "status": agent.status,
                    "role": agent.role,
                    "csrf_token": request.ctx.session.csrf_token,
                }
            )

        @bp.route("/api/status", methods=["POST"])
        @login_required(csrf=True)
        async def status(request: Request) -> HTTPResponse:
            value = body_of(request).get("status")
            if value not in ("available", "away"):
                return error_response("bad_status", 400)
            await live.db(live.agents.set_status, request.ctx.agent.username, value)
            live.publish(None)
            return json_response({"status": value})

        @bp.route("/api/queue", methods=["GET"])
        @login_required()
        async def queue(request: Request) -> HTTPResponse:
            tickets = await live.db(live.store.list, "open", 500)
            available = await live.db(live.agents.available_count)
            view = queue_view(tickets, request.ctx.agent.username, available)
            return json_response({**view, "channels": await live.channel_status()})

        @bp.route("/api/tickets/<ticket_id>", methods=["GET"])
        @login_required()
        async def ticket(request: Request, ticket_id: str) -> HTTPResponse:
            try:
                found = await live.db(live.store.get, ticket_id)
            except TicketNotFound:
                return error_response("not_found", 404)
            position = await live.db(live.store.queue_position, found.id)
            return json_response(ticket_detail(found, position))

        @bp.route("/api/tickets/<ticket_id>/claim", methods=["POST"])
        @login_required(csrf=True)
        async def claim(request: Request, ticket_id: str) -> HTTPResponse:
            try:
                claimed = await live.claim(ticket_id, request.ctx.agent, client_of(request))
            except TicketNotFound:
                return error_response("not_found", 404)
            except AlreadyClaimed as exc:
                return error_response("already_claimed", 409, owner=exc.owner_name)
            except TicketClosed:
                return error_response("closed", 409)
            return json_response(ticket_detail(await live.db(live.store.get, claimed.id), None))

        async def owned(request: Request, ticket_id: str) -> Any:
            """The ticket if this agent owns it and it is open, else an error response."""
            try:
                found = await live.db(live.store.get, ticket_id)
            except TicketNotFound:
                return error_response("not_found", 404)
            if found.owner != request.ctx.agent.username:
                return error_response("not_owner", 403)
            if found.status != "open":
                return error_response("closed", 409)
            return found

        @bp.route("/api/tickets/<ticket_id>/messages", methods=["POST"])
        @login_required(csrf=True)
        async def send(request: Request, ticket_id: str) -> HTTPResponse:
            found = await owned(request, ticket_id)
            if isinstance(found, HTTPResponse):
                return found
            try:
                text = privacy.mask_agent_text(body_of(request).get("text"))
                stored = await live.agent_message(found, request.ctx.agent, text)
            except ValueError as exc:
                return error_response(str(exc), 400)
            return json_response(
                {k: stored[k] for k in ("id", "role", "author", "text", "time")}, 201
            )

        def ending(reason: str) -> Handler:
            async def end(request: Request, ticket_id: str) -> HTTPResponse:
                found = await owned(request, ticket_id)
                if isinstance(found, HTTPResponse):
                    return found
                await live.end(found, request.ctx.agent, reason, client_of(request))
                return json_response(ticket_detail(await live.db(live.store.get, ticket_id), None))

            return end

        bp.add_route(
            login_required(csrf=True)(ending("handback")),
            "/api/tickets/<ticket_id>/handback",
            methods=["POST"],
            name="handback",
        )
        bp.add_route(
            login_required(csrf=True)(ending("close")),
            "/api/tickets/<ticket_id>/close",
            methods=["POST"],
            name="close",
        )

        @bp.route("/api/events", methods=["GET"])
        @login_required()
        async def events(request: Request) -> None:
            username = request.ctx.agent.username
            stream = await request.respond(
                content_type="text/event-stream; charset=utf-8",
                headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
            )
            q = live.listen()
            token = request.cookies.get(SESSION_COOKIE)
            try:
                await live.db(live.agents.touch, username)
                await stream.send("retry: 2000\nevent: changed\ndata: {}\n\n")
                while True:
                    try:
                        item = await asyncio.wait_for(q.get(), PING_SECONDS)
                    except asyncio.TimeoutError:
                        item = None
                    if not await still_logged_in(live, token):  # log-out, disable, expiry
                        await stream.send("event: logged_out\ndata: {}\n\n")
                        await stream.eof()
                        return
                    if item is None:
                        await live.db(live.agents.touch, username)
                        await stream.send(": ping\n\n")
                    else:
                        await stream.send(f"event: changed\ndata: {json.dumps(item)}\n\n")
            finally:
                live.unlisten(q)

        content_studio.register(bp, deps)
        inbox.register(bp, deps)

        return bp
