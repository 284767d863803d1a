"""rasa_runtime/action_pool.py: Rasa's action calls reuse their connections, and
nothing else changes (docs/memory.md, row 7).

Real servers on free loopback ports: a Sanic app (the action server's framework, its
HttpProtocol counting the connections it accepts) and, for a connection that dies
under a call, a raw asyncio HTTP server. Every behaviour is run twice, through Rasa's
own `EndpointConfig.request` / `RemoteAction.run` (ACTION_CONNECTION_REUSE=0) and
through the pool, and compared: the same answers, the same headers on the wire, the
same exceptions with the same messages and causes.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import json
import re
import socket
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import rasa.core.run
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig
from sanic import Sanic, response
from sanic.server.protocols.http_protocol import HttpProtocol

from assistant.settings import Settings
from rasa_runtime import action_pool
from rasa_runtime.actions import KEEP_ALIVE_TIMEOUT

REPO = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(REPO / "domain.yml"))
OK = {"events": [{"event": "slot", "name": "term", "value": "ACW"}], "responses": []}
_names = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(autouse=True)
def installed(monkeypatch):
    """The patch as `python -m rasa_runtime` applies it, undone after each test."""
    monkeypatch.setattr(EndpointConfig, "request", EndpointConfig.request)
    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    monkeypatch.setattr(rasa.core.run, "close_resources", rasa.core.run.close_resources)
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps in one process
    monkeypatch.delenv("ACTION_CONNECTION_REUSE", raising=False)
    monkeypatch.delenv("ACTION_KEEPALIVE_SECONDS", raising=False)
    action_pool.apply()
    yield
    action_pool._SESSIONS.clear()


def reuse(monkeypatch, on: bool) -> None:
    monkeypatch.setenv("ACTION_CONNECTION_REUSE", "1" if on else "0")


class Server:
    """A Sanic action server; `connections` counts the TCP connections it accepted."""

    def __init__(self, port: int):
        self.port = port
        self.connections = 0
        self.open: set[Any] = set()
        self.requests: list[dict] = []

    def url(self, path: str = "webhook") -> str:
        return f"http://127.0.0.1:{self.port}/{path}"


@asynccontextmanager
async def sanic_server(keep_alive_timeout: float = KEEP_ALIVE_TIMEOUT) -> AsyncIterator[Server]:
    app = Sanic(f"pool_test_{next(_names)}")
    app.config.update({"KEEP_ALIVE_TIMEOUT": keep_alive_timeout})
    server = Server(_free_port())

    class Counting(HttpProtocol):
        def connection_made(self, transport: Any) -> None:
            server.connections += 1
            server.open.add(self)
            super().connection_made(transport)

        def connection_lost(self, exc: Any) -> None:
            server.open.discard(self)
            super().connection_lost(exc)

    def seen(request: Any) -> None:
        server.requests.append(
            {
                "headers": sorted(  # the port differs from server to server
                    (k.lower(), v.rsplit(":", 1)[0] if k.lower() == "host" else v)
                    for k, v in request.headers.items()
                ),
                "query": request.query_string,
                "body": request.body,
                "method": request.method,
                "path": request.path,
            }
        )

    @app.post("/webhook")
    async def webhook(request: Any) -> Any:
        seen(request)
        return response.json(OK)

    @app.route("/echo", methods=["GET", "POST"])
    async def echo(request: Any) -> Any:
        seen(request)
        return response.json({"events": [], "responses": []})

    @app.post("/reject")
    async def reject(request: Any) -> Any:
        return response.json({"action_name": "action_x", "error": "no"}, status=400)

    @app.post("/status/<code:int>")
    async def status(request: Any, code: int) -> Any:
        return response.text(f"failed with {code}", status=code)

    @app.post("/text")
    async def text(request: Any) -> Any:
        return response.text("not json")

    @app.post("/slow")
    async def slow(request: Any) -> Any:
        await asyncio.sleep(1.5)
        return response.json(OK)

    @app.post("/hangup")
    async def hangup(request: Any) -> Any:
        request.transport.abort()  # the action server dies under the call
        await asyncio.sleep(0.2)
        return response.json(OK)

    srv = await app.create_server(
        host="127.0.0.1", port=server.port, protocol=Counting, return_asyncio_server=True
    )
    await srv.startup()
    await srv.start_serving()
    try:
        yield server
    finally:
        await action_pool.close_sessions()
        srv.close()
        await srv.wait_closed()


def run(coro_fn: Any) -> Any:
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coro_fn())
    finally:
        loop.run_until_complete(action_pool.close_sessions())
        loop.close()


def tracker() -> DialogueStateTracker:
    t = DialogueStateTracker("u-pool", DOMAIN.slots)
    t.update(UserUttered("ACWとは?", {"name": "define_term", "confidence": 0.9}))
    return t


async def call_action(endpoint: EndpointConfig) -> list:
    action = RemoteAction("action_define_term", endpoint)
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return await action.run(CollectingOutputChannel(), nlg, tracker(), DOMAIN)


async def outcome(coro: Any) -> tuple:
    """What a call gave: its result, or its exception, message and cause."""
    try:
        return ("ok", repr(await coro))
    except Exception as e:  # noqa: BLE001 what it raised is what the test compares
        cause = e.__cause__
        return (
            type(e).__name__,
            re.sub(r"127\.0\.0\.1:[0-9]+", "127.0.0.1:PORT", str(e)),  # servers differ
            type(cause).__name__ if cause else None,
            getattr(cause, "status", None),
            getattr(cause, "text", None),
        )


# -- connections ----------------------------------------------------------------------


@pytest.mark.parametrize("on", [False, True], ids=["stock", "pooled"])
def test_sequential_action_calls_reuse_one_connection(on, monkeypatch):
    reuse(monkeypatch, on)
    calls = 12

    async def go() -> Server:
        async with sanic_server() as server:
            endpoint = EndpointConfig(server.url(), headers={"Authorization": "Bearer t" * 4})
            for _ in range(calls):
                events = await call_action(endpoint)
                assert [e.as_dict()["name"] for e in events] == ["term"]
            return server

    server = run(go)
    assert len(server.requests) == calls
    if on:
        assert server.connections == 1
    else:
        assert server.connections == calls  # stock Rasa: a new connection per call


def test_concurrent_calls_open_at_most_one_connection_each_and_keep_them(monkeypatch):
    reuse(monkeypatch, True)

    async def go() -> tuple[int, int]:
        async with sanic_server() as server:
            endpoint = EndpointConfig(server.url())
            await asyncio.gather(*(call_action(endpoint) for _ in range(8)))
            first = server.connections
            for _ in range(3):
                await asyncio.gather(*(call_action(endpoint) for _ in range(8)))
            return first, server.connections

    first, total = run(go)
    assert 1 <= first <= 8
    assert total == first  # the next 24 calls used the kept connections


def test_other_endpoints_keep_rasas_session_per_request(monkeypatch):
    """Only the action endpoint (marked by RemoteAction.run) is pooled."""
    reuse(monkeypatch, True)

    async def go() -> Server:
        async with sanic_server() as server:
            nlg = EndpointConfig(server.url("echo"))
            for _ in range(3):
                await nlg.request(json={"x": 1})
            return server

    assert run(go).connections == 3


# -- the same requests, answers and errors as stock Rasa --------------------------------


def both(monkeypatch, scenario: Any) -> tuple[Any, Any]:
    """`scenario(server)` through stock Rasa and through the pool, each with a fresh
    endpoint and server; the pooled run twice (a new and a reused connection)."""
    results = []
    for on in (False, True):
        reuse(monkeypatch, on)

        async def go(times: int = 2 if on else 1) -> tuple[list, Server]:
            async with sanic_server() as server:
                return [await scenario(server) for _ in range(times)], server

        got, server = run(go)
        if on:
            assert got[0] == got[1], got
        results.append((got[0], server.requests))
    return results[0], results[1]


@pytest.mark.parametrize(
    "endpoint",
    [
        {"headers": {"Authorization": "Bearer secret-token-123456", "X-Extra": "y"}},
        {"params": {"a": "1"}, "token": "tok", "token_name": "tk"},
        {"basic_auth": {"username": "rasa", "password": "pw"}},
    ],
    ids=["headers", "token", "basic_auth"],
)
@pytest.mark.parametrize("compress", [False, True])
def test_the_same_request_on_the_wire(endpoint, compress, monkeypatch):
    async def scenario(server: Server) -> Any:
        config = EndpointConfig(server.url("echo"), **endpoint)
        setattr(config, action_pool.MARK, action_pool.enabled())  # as RemoteAction.run
        return await outcome(
            config.request(
                json={"tracker": {"events": ["x" * 3000]}},
                method="post",
                timeout=300,
                compress=compress,
                params={"extra": "2"},
            )
        )

    (stock, stock_seen), (pooled, pooled_seen) = both(monkeypatch, scenario)
    assert stock == pooled
    assert stock_seen[0] == pooled_seen[0] == pooled_seen[1]
    assert stock_seen[0]["query"]  # the parameters went out


@pytest.mark.parametrize(
    "path",
    ["webhook", "reject", "status/401", "status/403", "status/404", "status/500", "text"],
)
def test_action_answers_and_errors_are_rasas(path, monkeypatch):
    async def scenario(server: Server) -> Any:
        return await outcome(call_action(EndpointConfig(server.url(path))))

    (stock, _), (pooled, _) = both(monkeypatch, scenario)
    assert stock == pooled
    if path != "webhook":
        assert stock[0] != "ok"


def test_a_refused_connection_is_rasas_error(monkeypatch):
    port = _free_port()  # nobody listens
    results = []
    for on in (False, True):
        reuse(monkeypatch, on)

        async def go() -> Any:
            return await outcome(call_action(EndpointConfig(f"http://127.0.0.1:{port}/webhook")))

        results.append(run(go))
    assert results[0] == results[1]
    assert results[0][0] == "RasaException" and "Couldn't connect" in results[0][1]


def test_a_timeout_is_rasas_error(monkeypatch):
    async def scenario(server: Server) -> Any:
        config = EndpointConfig(server.url("slow"))
        setattr(config, action_pool.MARK, action_pool.enabled())
        return await outcome(config.request(json={}, method="post", timeout=0.3))

    (stock, _), (pooled, _) = both(monkeypatch, scenario)
    assert stock == pooled
    assert stock[0] == "TimeoutError"


def test_a_server_dying_under_a_new_connection_is_not_sent_again(monkeypatch):
    async def scenario(server: Server) -> Any:
        return await outcome(call_action(EndpointConfig(server.url("hangup"))))

    (stock, _), (pooled, _) = both(monkeypatch, scenario)
    assert stock == pooled
    assert stock[0] == "RasaException" and "Couldn't connect" in stock[1]


# -- keep-alive: the server closes idle connections --------------------------------------


def test_the_pool_lets_idle_connections_go_before_the_server_does():
    assert Sanic("keep_alive_default").config.KEEP_ALIVE_TIMEOUT == KEEP_ALIVE_TIMEOUT
    assert Settings.from_env({}).action_keepalive_seconds < KEEP_ALIVE_TIMEOUT
    for f in Settings.__dataclass_fields__.values():
        if f.name == "action_keepalive_seconds":
            assert f.metadata["spec"].high < KEEP_ALIVE_TIMEOUT  # no setting reaches it


@pytest.mark.parametrize(
    ("client", "server_timeout"),
    [(0.5, 1.0), (4.0, 0.5)],  # as configured; a server closing first (misconfigured)
    ids=["client_first", "server_first"],
)
def test_idle_connections_closed_by_either_side_do_not_fail_a_call(
    client, server_timeout, monkeypatch
):
    reuse(monkeypatch, True)
    monkeypatch.setenv("ACTION_KEEPALIVE_SECONDS", str(client))

    async def go() -> tuple[Server, list]:
        async with sanic_server(keep_alive_timeout=server_timeout) as server:
            endpoint = EndpointConfig(server.url())
            results = [await outcome(call_action(endpoint))]
            await asyncio.sleep(0.1)
            results.append(await outcome(call_action(endpoint)))  # reused
            counts = [server.connections]
            # Longer than the side that closes first (Sanic looks every timeout / 2).
            await asyncio.sleep(min(client, server_timeout) * 1.5 + 0.3)
            results.append(await outcome(call_action(endpoint)))
            counts.append(server.connections)
            return server, results + counts

    _, got = run(go)
    *results, reused, after_idle = got
    assert all(r[0] == "ok" for r in results), results
    assert reused == 1 and after_idle == 2


class DropsSecondRequest:
    """A raw HTTP/1.1 server that answers the first request of a connection with
    keep-alive and closes the connection on the second one without answering: from
    the client's side exactly a kept connection the server closed as the call went out."""

    def __init__(self, drop_every: bool = False) -> None:
        self.requests = 0
        self.connections = 0
        self.drop_every = drop_every

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        served = 0
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.decode("latin-1").split("\r\n"):
                    if line.lower().startswith("content-length:"):
                        length = int(line.split(":", 1)[1])
                await reader.readexactly(length)
                self.requests += 1
                if served or self.drop_every:
                    break  # read, not answered: the connection goes
                body = json.dumps(OK).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Content-Length: %d\r\nConnection: keep-alive\r\n\r\n%s" % (len(body), body)
                )
                await writer.drain()
                served += 1
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def test_a_kept_connection_that_dies_under_a_call_is_sent_again(monkeypatch):
    reuse(monkeypatch, True)
    raw = DropsSecondRequest()

    async def go() -> list:
        srv = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/webhook"
        try:
            endpoint = EndpointConfig(url)
            return [await outcome(call_action(endpoint)) for _ in range(3)]
        finally:
            srv.close()
            await srv.wait_closed()

    results = run(go)
    assert all(r[0] == "ok" for r in results), results
    # 1: new connection; 2: reused, dropped, sent again on a new one; 3: the same
    assert raw.requests == 5 and raw.connections == 3


def test_without_the_pool_the_dropped_call_would_have_failed(monkeypatch):
    """The raw server does drop calls: a call on a new connection it drops fails
    (the retry above is what saves the reused ones), as in stock Rasa."""
    results = []
    for on in (False, True):
        reuse(monkeypatch, on)
        raw = DropsSecondRequest(drop_every=True)

        async def go(raw: DropsSecondRequest = raw) -> Any:
            srv = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
            url = f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}/webhook"
            try:
                return await outcome(call_action(EndpointConfig(url)))
            finally:
                srv.close()
                await srv.wait_closed()

        results.append(run(go))
        assert raw.requests == 1  # not sent again: the connection was new
    assert results[0] == results[1] and results[0][0] == "RasaException"


# -- shutdown ---------------------------------------------------------------------------


def test_the_pool_is_closed_when_the_rasa_server_stops(monkeypatch):
    reuse(monkeypatch, True)

    class App:
        ctx = type("ctx", (), {})  # Sanic's app.ctx, without an agent

    async def go() -> tuple[int, int, bool]:
        async with sanic_server() as server:
            await call_action(EndpointConfig(server.url()))
            session = action_pool.session()
            open_before = len(server.open)
            await rasa.core.run.close_resources(App(), asyncio.get_running_loop())  # type: ignore[arg-type]
            await asyncio.sleep(0.2)
            return open_before, len(server.open), session.closed

    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        before, after, closed = run(go)
        gc.collect()
    assert before == 1 and after == 0 and closed


def test_off_leaves_rasa_untouched(monkeypatch):
    monkeypatch.setenv("ACTION_CONNECTION_REUSE", "0")

    async def stock_request(self, *args, **kwargs):  # stands for Rasa's, unpatched
        return None

    monkeypatch.setattr(EndpointConfig, "request", stock_request)
    action_pool.apply()
    assert EndpointConfig.request is stock_request


def test_a_pool_per_event_loop():
    async def get() -> aiohttp.ClientSession:
        return action_pool.session()

    loops = [asyncio.new_event_loop() for _ in range(2)]
    try:
        a, b = (loop.run_until_complete(get()) for loop in loops)
        assert a is not b
        assert loops[0].run_until_complete(get()) is a
    finally:
        for loop in loops:
            loop.run_until_complete(action_pool.close_sessions())
            loop.close()
