"""The agent console's log-in, log-out and pages (/agent/login, /agent/logout, /agent/,
/agent/static/<name>, /agent/vendor/<name>), registered by agent_console.py on the
console's blueprint. Log-in: a CSRF token in a short cookie for the form, a rate limit per
name and address (assistant/livechat/console_auth.py), Argon2 on its own small pool
(console_doors.py); the session cookie is HttpOnly, SameSite=Strict.
"""

from __future__ import annotations

import logging
import secrets

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from assistant.livechat.console_auth import normalize_username

from . import console_doors
from .console_deps import ConsoleDeps, Guard
from .console_http import (
    LOGIN_CSRF_COOKIE,
    PUBLIC_STATIC,
    SECURITY_HEADERS,
    SESSION_COOKIE,
    STATIC_TYPES,
    VENDOR,
    WEB,
    body_of,
    clear_cookies,
    client_of,
    error_response,
    json_response,
    set_cookie,
)

logger = logging.getLogger(__name__)


def register(bp: Blueprint, deps: ConsoleDeps) -> None:
    live = deps.live

    def login_required(api: bool = True, csrf: bool = False) -> Guard:
        return deps.requires((), api=api, csrf=csrf)

    @bp.route("/login", methods=["GET"])
    async def login_page(request: Request) -> HTTPResponse:
        token = secrets.token_urlsafe(32)
        page = (WEB / "login.html").read_text(encoding="utf-8").replace("{{csrf_token}}", token)
        resp = response.html(page, headers=SECURITY_HEADERS)
        set_cookie(resp, LOGIN_CSRF_COOKIE, token, 3600, request)
        return resp

    @bp.route("/login", methods=["POST"])
    async def login(request: Request) -> HTTPResponse:
        expected = request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        presented = request.headers.get("x-csrf-token") or ""
        if not expected or not secrets.compare_digest(expected, presented):
            return error_response("csrf", 403)
        body = body_of(request)
        username = normalize_username(body.get("username"))  # one spelling for check and counter
        password = str(body.get("password") or "")[:1024]
        client = client_of(request)
        attempt, wait = await live.db(live.audit.begin_login, username, client)
        if attempt is None:
            logger.warning(
                "console log-in refused (rate limit): user=%r client=%s", username, client
            )
            return error_response("too_many_attempts", 429, retry_after=wait)
        try:
            agent = await console_doors.hash_pool().run(live.agents.verify, username, password)
        except console_doors.HashPoolBusy:
            await live.db(live.audit.finish_login, attempt, None)
            return error_response("busy", 429, retry_after=1)
        await live.db(live.audit.finish_login, attempt, agent is not None)
        if agent is None:
            logger.warning("console log-in failed: user=%r client=%s", username, client)
            return error_response("bad_credentials", 401)
        token, _session = await live.db(live.sessions.create, agent.username)
        await live.db(live.audit.record, "login", agent.username, None, client)
        logger.info("console log-in: user=%r client=%s", agent.username, client)
        resp = json_response({"ok": True})
        set_cookie(resp, SESSION_COOKIE, token, 12 * 3600, request)
        set_cookie(resp, LOGIN_CSRF_COOKIE, "", 0, request)
        return resp

    @bp.route("/logout", methods=["POST"])
    @login_required(csrf=True)
    async def logout(request: Request) -> HTTPResponse:
        await live.db(live.sessions.delete, request.cookies.get(SESSION_COOKIE))
        await live.db(live.agents.set_status, request.ctx.agent.username, "away")
        await live.db(
            live.audit.record, "logout", request.ctx.agent.username, None, client_of(request)
        )
        resp = json_response({"ok": True})
        clear_cookies(resp, request)
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
                return error_response("login_required", 401)
        if (
            "/" in name
            or name.startswith(".")
            or path.suffix not in STATIC_TYPES
            or not path.is_file()
        ):
            return error_response("not_found", 404)
        return await response.file(
            path, mime_type=STATIC_TYPES[path.suffix], headers=SECURITY_HEADERS
        )

    @bp.route("/vendor/<name>", methods=["GET"])
    async def vendor(request: Request, name: str) -> HTTPResponse:
        if await live.db(live.sessions.get, request.cookies.get(SESSION_COOKIE)) is None:
            return error_response("login_required", 401)
        path = VENDOR.get(name)
        if path is None or not path.is_file():
            return error_response("not_found", 404)
        return await response.file(path, mime_type=STATIC_TYPES[".js"], headers=SECURITY_HEADERS)
