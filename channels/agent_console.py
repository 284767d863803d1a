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
import functools
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.handoff.tickets import AlreadyClaimed, TicketClosed, TicketNotFound
from assistant.livechat.console_auth import normalize_username
from assistant.livechat.console_view import queue_view, ticket_detail

from . import analytics, console_doors, content_studio, inbox, privacy
from .live import LiveChat, live_chat

logger = logging.getLogger(__name__)
# as Sanic's RouteHandler: a streaming handler (the event stream) returns None
Handler = Callable[..., Coroutine[Any, Any, HTTPResponse | None]]

WEB = Path(__file__).resolve().parents[1] / "web" / "agent"
# Chart.js from the npm registry (web/package.json; `npm ci` in web/), served as a static file.
VENDOR = {"chart.umd.js": WEB.parent / "node_modules" / "chart.js" / "dist" / "chart.umd.js"}
SESSION_COOKIE = "cc_agent"
LOGIN_CSRF_COOKIE = "cc_login_csrf"
COOKIE_PATH = "/agent"
PUBLIC_STATIC = {"login.js", "console.css"}
STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
PING_SECONDS = 5  # also how often an open event stream re-checks its session
FORBIDDEN_PAGE = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>権限がありません</title>'
    "<p>このページはスーパーバイザーのみ利用できます。</p>"
    '<p><a href="/agent/">コンソールへ戻る</a></p>'
    "</html>"
)
SANIC_CORS_DONE = "_sanic_cors_e"  # the console is same-origin only: Sanic-CORS adds nothing


def _json(body: Any, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, headers=SECURITY_HEADERS, ensure_ascii=False)


def _error(code: str, status: int, **extra: Any) -> HTTPResponse:
    return _json({"error": code, **extra}, status)


def _client(request: Request) -> str:
    return console_doors.client(request)


def _set_cookie(
    resp: HTTPResponse, name: str, value: str, max_age: int, request: Request | None = None
) -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = COOKIE_PATH
    cookie["max-age"] = max_age
    if request is not None and console_doors.https(request):
        cookie["secure"] = True


def _clear_cookies(resp: HTTPResponse, request: Request) -> None:
    """Expire both console cookies on the path they were set on (a bare
    ``del resp.cookies[…]`` sends no Path, and the browser keeps /agent's)."""
    for name in (SESSION_COOKIE, LOGIN_CSRF_COOKIE):
        _set_cookie(resp, name, "", 0, request)


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

        def login_required(
            api: bool = True, csrf: bool = False, roles: tuple | None = None
        ) -> Callable[[Handler], Handler]:
            return staff_required(live, roles, api=api, csrf=csrf)

        # -- log-in ---------------------------------------------------------

        @bp.route("/login", methods=["GET"])
        async def login_page(request: Request) -> HTTPResponse:
            token = secrets.token_urlsafe(32)
            page = (WEB / "login.html").read_text(encoding="utf-8").replace("{{csrf_token}}", token)
            resp = response.html(page, headers=SECURITY_HEADERS)
            _set_cookie(resp, LOGIN_CSRF_COOKIE, token, 3600, request)
            return resp

        @bp.route("/login", methods=["POST"])
        async def login(request: Request) -> HTTPResponse:
            expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
            presented = request.headers.get("x-csrf-token") or ""
            if not expected or not secrets.compare_digest(expected, presented):
                return _error("csrf", 403)
            body = _body(request)
            username = normalize_username(
                body.get("username")
            )  # one spelling for check and counter
            password = str(body.get("password") or "")[:1024]
            client = _client(request)
            attempt, wait = await live.db(live.audit.begin_login, username, client)
            if attempt is None:
                logger.warning(
                    "console log-in refused (rate limit): user=%r client=%s", username, client
                )
                return _error("too_many_attempts", 429, retry_after=wait)
            try:
                agent = await console_doors.hash_pool().run(live.agents.verify, username, password)
            except console_doors.HashPoolBusy:
                await live.db(live.audit.finish_login, attempt, None)
                return _error("busy", 429, retry_after=1)
            await live.db(live.audit.finish_login, attempt, agent is not None)
            if agent is None:
                logger.warning("console log-in failed: user=%r client=%s", username, client)
                return _error("bad_credentials", 401)
            token, _session = await live.db(live.sessions.create, agent.username)
            await live.db(live.audit.record, "login", agent.username, None, client)
            logger.info("console log-in: user=%r client=%s", agent.username, client)
            resp = _json({"ok": True})
            _set_cookie(resp, SESSION_COOKIE, token, 12 * 3600, request)
            _set_cookie(resp, LOGIN_CSRF_COOKIE, "", 0, request)
            return resp

        @bp.route("/logout", methods=["POST"])
        @login_required(csrf=True)
        async def logout(request: Request) -> HTTPResponse:
            await live.db(live.sessions.delete, request.cookies.get(SESSION_COOKIE))
            await live.db(live.agents.set_status, request.ctx.agent.username, "away")
            await live.db(
                live.audit.record, "logout", request.ctx.agent.username, None, _client(request)
            )
            resp = _json({"ok": True})
            _clear_cookies(resp, request)
            live.publish(None)  # open event streams re-check their session and close
            return resp

        # -- pages ------------------------------------------------------------

        @bp.route("/", methods=["GET"])
        @login_required(api=False)
        async def console_page(request: Request) -> HTTPResponse:
            return response.html(
                (WEB / "index.html").read_text(encoding="utf-8"), headers=SECURITY_HEADERS
            )

        @bp.route("/static/<name>", methods=["GET"])
        async def static(request: Request, name: str) -> HTTPResponse:
            path = WEB / name
            if name not in PUBLIC_STATIC:
                session = await live.db(live.sessions.get, request.cookies.get(SESSION_COOKIE))
                if session is None:
                    return _error("login_required", 401)
            if (
                "/" in name
                or name.startswith(".")
                or path.suffix not in STATIC_TYPES
                or not path.is_file()
            ):
                return _error("not_found", 404)
            return await response.file(
                path, mime_type=STATIC_TYPES[path.suffix], headers=SECURITY_HEADERS
            )

        @bp.route("/vendor/<name>", methods=["GET"])
        async def vendor(request: Request, name: str) -> HTTPResponse:
            if await live.db(live.sessions.get, request.cookies.get(SESSION_COOKIE)) is None:
                return _error("login_required", 401)
            path = VENDOR.get(name)
            if path is None or not path.is_file():
                return _error("not_found", 404)
            return await response.file(
                path, mime_type=STATIC_TYPES[".js"], headers=SECURITY_HEADERS
            )

        def page(name: str) -> HTTPResponse:
            return response.html((WEB / name).read_text(encoding="utf-8"), headers=SECURITY_HEADERS)

        analytics.register(bp, live, login_required, _json, _error, page)

        # -- API ----------------------------------------------------------------

        @bp.route("/api/me", methods=["GET"])
        @login_required()
        async def me(request: Request) -> HTTPResponse:
            agent = request.ctx.agent
            return _json(
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
            value = _body(request).get("status")
            if value not in ("available", "away"):
                return _error("bad_status", 400)
            await live.db(live.agents.set_status, request.ctx.agent.username, value)
            live.publish(None)
            return _json({"status": value})

        @bp.route("/api/queue", methods=["GET"])
        @login_required()
        async def queue(request: Request) -> HTTPResponse:
            tickets = await live.db(live.store.list, "open", 500)
            available = await live.db(live.agents.available_count)
            view = queue_view(tickets, request.ctx.agent.username, available)
            return _json({**view, "channels": await live.channel_status()})

        @bp.route("/api/tickets/<ticket_id>", methods=["GET"])
        @login_required()
        async def ticket(request: Request, ticket_id: str) -> HTTPResponse:
            try:
                found = await live.db(live.store.get, ticket_id)
            except TicketNotFound:
                return _error("not_found", 404)
            position = await live.db(live.store.queue_position, found.id)
            return _json(ticket_detail(found, position))

        @bp.route("/api/tickets/<ticket_id>/claim", methods=["POST"])
        @login_required(csrf=True)
        async def claim(request: Request, ticket_id: str) -> HTTPResponse:
            try:
                claimed = await live.claim(ticket_id, request.ctx.agent, _client(request))
            except TicketNotFound:
                return _error("not_found", 404)
            except AlreadyClaimed as exc:
                return _error("already_claimed", 409, owner=exc.owner_name)
            except TicketClosed:
                return _error("closed", 409)
            return _json(ticket_detail(await live.db(live.store.get, claimed.id), None))

        async def owned(request: Request, ticket_id: str) -> Any:
            """The ticket if this agent owns it and it is open, else an error response."""
            try:
                found = await live.db(live.store.get, ticket_id)
            except TicketNotFound:
                return _error("not_found", 404)
            if found.owner != request.ctx.agent.username:
                return _error("not_owner", 403)
            if found.status != "open":
                return _error("closed", 409)
            return found

        @bp.route("/api/tickets/<ticket_id>/messages", methods=["POST"])
        @login_required(csrf=True)
        async def send(request: Request, ticket_id: str) -> HTTPResponse:
            found = await owned(request, ticket_id)
            if isinstance(found, HTTPResponse):
                return found
            try:
                text = privacy.mask_agent_text(_body(request).get("text"))
                stored = await live.agent_message(found, request.ctx.agent, text)
            except ValueError as exc:
                return _error(str(exc), 400)
            return _json({k: stored[k] for k in ("id", "role", "author", "text", "time")}, 201)

        def ending(reason: str) -> Handler:
            async def end(request: Request, ticket_id: str) -> HTTPResponse:
                found = await owned(request, ticket_id)
                if isinstance(found, HTTPResponse):
                    return found
                await live.end(found, request.ctx.agent, reason, _client(request))
                return _json(ticket_detail(await live.db(live.store.get, ticket_id), None))

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
                    if not await _still_logged_in(live, token):  # log-out, disable, expiry
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

        content_studio.register(
            bp,
            live,
            staff_required,
            _json,
            _error,
            _body,
            _client,
            lambda name: response.html(
                (WEB / name).read_text(encoding="utf-8"), headers=SECURITY_HEADERS
            ),
        )
        inbox.register(
            bp,
            live,
            staff_required,
            _json,
            _error,
            _body,
            _client,
            lambda name: response.html(
                (WEB / name).read_text(encoding="utf-8"), headers=SECURITY_HEADERS
            ),
        )

        return bp


def staff_required(
    live: LiveChat, roles: tuple | None = None, api: bool = True, csrf: bool = False
) -> Callable[[Handler], Handler]:
    """Every console page and API: a log-in session (else 401 for an API, a redirect to the
    log-in page for a page), an enabled account with one of `roles` when given (else 403),
    and for changes the session's CSRF token in ``X-CSRF-Token`` (else 403)."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(request: Request, *args: Any, **kwargs: Any) -> HTTPResponse | None:
            session = await live.db(live.sessions.get, request.cookies.get(SESSION_COOKIE))
            agent = await live.db(live.agents.get, session.username) if session else None
            if session is None or agent is None or agent.disabled:
                if api:
                    return _error("login_required", 401)
                return response.redirect(f"{COOKIE_PATH}/login", headers=SECURITY_HEADERS)
            if roles and not agent.can(*roles):
                if api:
                    return _error("forbidden", 403)
                return response.html(FORBIDDEN_PAGE, status=403, headers=SECURITY_HEADERS)
            if csrf and not session.csrf_ok(request.headers.get("x-csrf-token")):
                return _error("csrf", 403)
            request.ctx.session, request.ctx.agent = session, agent
            return await handler(request, *args, **kwargs)

        return checked

    return wrap


async def _still_logged_in(live: LiveChat, token: str | None) -> bool:
    session = await live.db(live.sessions.get, token)
    agent = await live.db(live.agents.get, session.username) if session else None
    return agent is not None and not agent.disabled


def _body(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:  # malformed JSON is a 400 for the caller below, never a 500
        return {}
    return body if isinstance(body, dict) else {}
