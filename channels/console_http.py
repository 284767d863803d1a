"""The agent console's HTTP pieces shared by its route modules (agent_console.py,
console_login.py and the staff pages registered through console_deps.ConsoleDeps): the
security headers, JSON and error responses, cookies, pages of web/agent/, and
``staff_required``, the log-in + role + CSRF check every console page and API goes through.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sanic import response
from sanic.exceptions import InvalidUsage
from sanic.request import Request
from sanic.response import HTTPResponse

from . import console_doors
from .console_deps import Handler
from .live import LiveChat

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
FORBIDDEN_PAGE = (
    '<!doctype html><html lang="ja"><meta charset="utf-8"><title>権限がありません</title>'
    "<p>このページはスーパーバイザーのみ利用できます。</p>"
    '<p><a href="/agent/">コンソールへ戻る</a></p>'
    "</html>"
)


def json_response(body: Any, status: int = 200) -> HTTPResponse:
    return response.json(body, status=status, headers=SECURITY_HEADERS, ensure_ascii=False)


def error_response(code: str, status: int, **extra: Any) -> HTTPResponse:
    return json_response({"error": code, **extra}, status)


def client_of(request: Request) -> str:
    """The client address as the audit log records it (trusted proxies honoured)."""
    return console_doors.client(request)


def set_cookie(
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


def clear_cookies(resp: HTTPResponse, request: Request) -> None:
    """Expire both console cookies on the path they were set on (a bare
    ``del resp.cookies[…]`` sends no Path, and the browser keeps /agent's)."""
    for name in (SESSION_COOKIE, LOGIN_CSRF_COOKIE):
        set_cookie(resp, name, "", 0, request)


def page(name: str) -> HTTPResponse:
    """A page of web/agent/ with the console's headers (CSP)."""
    return response.html((WEB / name).read_text(encoding="utf-8"), headers=SECURITY_HEADERS)


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
                    return error_response("login_required", 401)
                return response.redirect(f"{COOKIE_PATH}/login", headers=SECURITY_HEADERS)
            if roles and not agent.can(*roles):
                if api:
                    return error_response("forbidden", 403)
                return response.html(FORBIDDEN_PAGE, status=403, headers=SECURITY_HEADERS)
            if csrf and not session.csrf_ok(request.headers.get("x-csrf-token")):
                return error_response("csrf", 403)
            request.ctx.session, request.ctx.agent = session, agent
            return await handler(request, *args, **kwargs)

        return checked

    return wrap


async def still_logged_in(live: LiveChat, token: str | None) -> bool:
    session = await live.db(live.sessions.get, token)
    agent = await live.db(live.agents.get, session.username) if session else None
    return agent is not None and not agent.disabled


def body_of(request: Request) -> dict[str, Any]:
    try:
        body = request.json
    except InvalidUsage:  # malformed JSON is a 400 for the caller below, never a 500
        return {}
    return body if isinstance(body, dict) else {}
