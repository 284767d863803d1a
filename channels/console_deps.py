"""What the staff page modules (analytics.py, content_studio.py, content_transfer.py,
inbox.py) take from the agent console: one dataclass built once in agent_console.py and
passed to each module's ``register(bp, deps)``, instead of loose arguments. A module needs
nothing else from the console, so it can be read (and tested) on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from sanic.request import Request
from sanic.response import HTTPResponse

from .live import LiveChat

# as Sanic's RouteHandler: a streaming handler (the event stream) returns None
Handler = Callable[..., Coroutine[Any, Any, HTTPResponse | None]]
Guard = Callable[[Handler], Handler]
EDITORS = ("editor", "supervisor")
SUPERVISOR = ("supervisor",)


@dataclass(frozen=True)
class ConsoleDeps:
    live: LiveChat  # stores, audit log, ``db`` (a call in a worker thread)
    # (live, roles, api=, csrf=) → decorator: log-in, role, CSRF (agent_console.staff_required)
    staff_required: Callable[..., Guard]
    json: Callable[..., HTTPResponse]  # body, status → JSON with the console's headers
    error: Callable[..., HTTPResponse]  # code, status, **extra → {"error": code, …}
    body_of: Callable[[Request], dict[str, Any]]  # the JSON body, {} when malformed
    client_of: Callable[[Request], str]  # the client address as the audit log records it
    page: Callable[[str], HTTPResponse]  # a page of web/agent/ with the console's CSP

    def requires(self, roles: tuple[str, ...], api: bool = True, csrf: bool = False) -> Guard:
        """Log-in with one of ``roles``; for changes (``csrf``) the session's CSRF token."""
        return self.staff_required(self.live, roles, api=api, csrf=csrf)
