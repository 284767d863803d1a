"""Rasa reuses its connections to the action server (docs/memory.md, row 7).

Rasa 3.6 makes every action call with a new `aiohttp.ClientSession`
(`rasa/utils/endpoints.py: EndpointConfig.request` → `session()`), so every call is a
new TCP connection: connect, one request, close. On the action server each closed
connection is a protocol, buffers and a request object that Sanic frees later, and at
tens of calls a second that churn was what still grew its RssAnon under traffic.

Here the action endpoint's requests go through **one long-lived ClientSession per
event loop** (a keep-alive pool, `TCPConnector(limit=0)`: no cap on concurrent calls,
as stock Rasa has none), closed when the Rasa server stops (`close_resources`, Rasa's
own `after_server_stop` listener) or by `close_sessions()`. Everything else is Rasa's
`request`, line by line: the same URL, headers (Content-Type, the endpoint's headers:
the Authorization token), basic auth, query parameters and `token`, compression, TLS
context from `cafile`, timeout (the caller's, else the session's 300 s), the same
`ClientResponseError` for a status ≥ 400 with the body read, `None` for a response that
is not JSON, and every aiohttp error unchanged (connection refused, timeout, a server
that hangs up). The session has no cookie jar (a session per call never sent cookies
back either).

Two things are new with keep-alive, and handled:

* **The server closes an idle connection** (Sanic's KEEP_ALIVE_TIMEOUT, 5 s): the pool
  drops idle connections after ACTION_KEEPALIVE_SECONDS (default 3), before the
  server does, so Rasa does not send a call into a connection being closed.
* **A connection that dies anyway** (the server closed it at the moment the call went
  out, or restarted): a call whose *reused* connection ends before any response
  (ServerDisconnectedError, a reset) is sent again on another connection, at most
  twice; a failure on a new connection is never retried. Such a call was either not
  read by the server (the keep-alive race) or the server died while running it (then
  the retry finds it down and fails as before).

Only the action endpoint is pooled: `RemoteAction.run` marks its endpoint; other
endpoints (NLG, model server, interactive training) keep Rasa's session per request.
ACTION_CONNECTION_REUSE=0 turns it off (Rasa's own behaviour; before/after soaks).
"""

from __future__ import annotations

import asyncio
import logging
import os
import ssl
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp

from assistant.settings import get_settings

if TYPE_CHECKING:
    from sanic import Sanic

logger = logging.getLogger(__name__)

MARK = "_cc_pooled"
ATTEMPTS = 3  # a call and at most two retries, each after a reused connection died
# What a dead keep-alive connection raises before a response (ClientConnectorError,
# a refused or failed connect, is a ClientOSError too but only on new connections).
STALE_ERRORS = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)

# id(loop) → (loop, session): one pool per event loop (Sanic worker, test loop).
_SESSIONS: dict[int, tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}


def enabled() -> bool:
    return get_settings().action_connection_reuse


def keepalive_seconds() -> float:
    return get_settings().action_keepalive_seconds


async def _reused(
    session: aiohttp.ClientSession,
    ctx: SimpleNamespace,
    params: aiohttp.TraceConnectionReuseconnParams,
) -> None:
    ctx.trace_request_ctx["reused"] = True


def _new_session() -> aiohttp.ClientSession:
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    trace = aiohttp.TraceConfig()
    trace.on_connection_reuseconn.append(_reused)  # type: ignore[arg-type]  # aiohttp 3.9's stub
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=0, keepalive_timeout=keepalive_seconds()),
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),  # as Rasa's session()
        cookie_jar=aiohttp.DummyCookieJar(),
        trace_configs=[trace],
    )


def session() -> aiohttp.ClientSession:
    """This event loop's pooled session (made on first use)."""
    loop = asyncio.get_running_loop()
    entry = _SESSIONS.get(id(loop))
    if entry is not None and entry[0] is loop and not entry[1].closed:
        return entry[1]
    for key, (other, _) in list(_SESSIONS.items()):
        if other.is_closed():  # a finished loop (tests): its sockets went with it
            del _SESSIONS[key]
    s = _new_session()
    _SESSIONS[id(loop)] = (loop, s)
    return s


async def close_sessions() -> None:
    """Close this event loop's pooled session (its idle connections with it)."""
    loop = asyncio.get_running_loop()
    entry = _SESSIONS.pop(id(loop), None)
    if entry is not None and entry[0] is loop:
        await entry[1].close()


async def pooled_request(
    self: Any,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any:
    """EndpointConfig.request (Rasa 3.6.21) on the loop's pooled session."""
    from aiohttp.client_exceptions import ContentTypeError
    from rasa.shared.exceptions import FileNotFoundException
    from rasa.utils.endpoints import ClientResponseError, concat_url

    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)

    url = concat_url(self.url, subpath)

    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(
                f"Failed to find certificate file, '{os.path.abspath(self.cafile)}' does not exist."
            ) from e

    # Rasa's session() carries these; the shared session cannot.
    auth = None
    if self.basic_auth:
        auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
    params = self.combine_parameters(kwargs)

    for attempt in range(1, ATTEMPTS + 1):
        trace_ctx = {"reused": False}
        answered = False
        try:
            async with session().request(
                method,
                url,
                headers=headers,
                params=params,
                compress=compress,
                ssl=sslcontext,
                auth=auth,
                trace_request_ctx=trace_ctx,
                **kwargs,
            ) as response:
                answered = True
                if response.status >= 400:
                    raise ClientResponseError(  # the body as bytes, as Rasa passes it
                        response.status,
                        response.reason,  # type: ignore[arg-type]
                        await response.content.read(),  # type: ignore[arg-type]
                    )
                try:
                    return await response.json()
                except ContentTypeError:
                    return None
        except STALE_ERRORS as e:
            if answered or not trace_ctx["reused"] or attempt == ATTEMPTS:
                raise
            logger.debug("action server closed a kept-alive connection (%s); sending again", e)
    raise AssertionError("unreachable")  # the loop returns or raises


def apply() -> None:
    """Pool the action endpoint's requests (ACTION_CONNECTION_REUSE, default on) and
    close the pool when the Rasa server stops; off: Rasa untouched."""
    from rasa_runtime import rasa_version

    rasa_version.check("rasa_runtime.action_pool")
    if not enabled():
        logger.info("ACTION_CONNECTION_REUSE is off: a new connection per action call")
        return
    keepalive_seconds()  # a bad value fails at start
    install()


def install() -> None:
    """The patch itself (idempotent). A RemoteAction's endpoint is pooled while
    ACTION_CONNECTION_REUSE is on when the action runs (tests switch it)."""
    import rasa.core.run
    from rasa.core.actions.action import RemoteAction
    from rasa.utils.endpoints import EndpointConfig

    if getattr(EndpointConfig.request, MARK, False):
        return

    stock_request = EndpointConfig.request

    async def request(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(self, MARK, False):
            return await pooled_request(self, *args, **kwargs)
        return await stock_request(self, *args, **kwargs)

    setattr(request, MARK, True)
    EndpointConfig.request = request  # type: ignore[method-assign]  # the patch itself

    stock_run = RemoteAction.run

    async def run(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.action_endpoint is not None:
            setattr(self.action_endpoint, MARK, enabled())
        return await stock_run(self, *args, **kwargs)

    run.__dict__.update(stock_run.__dict__)  # other patches' markers (unavailable's guard)
    RemoteAction.run = run  # type: ignore[method-assign]

    stock_close = rasa.core.run.close_resources  # serve_application's after_server_stop

    async def close_resources(app: Sanic, _: asyncio.AbstractEventLoop) -> None:
        try:
            await stock_close(app, _)
        finally:
            await close_sessions()

    rasa.core.run.close_resources = close_resources
