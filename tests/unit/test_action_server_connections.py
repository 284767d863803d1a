"""The action server does not keep closed connections alive (docs/memory.md).

Rasa opens a new connection for every action call; Sanic's HttpProtocol schedules an
abort 15 s after closing each, and that timer kept every dead connection (protocol,
buffers, last request) alive that long — memory that grew with the call rate.
`rasa_runtime.actions.prompt_close_protocol` drops a connection once its client has
gone. A real Sanic server on a free port, real connections (one per request, as Rasa
makes them); the stock protocol is measured the same way, so the test can fail.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import socket

import aiohttp
import pytest
from sanic import Sanic, response
from sanic.server.protocols.http_protocol import HttpProtocol

from rasa_runtime.actions import prompt_close_protocol

_names = itertools.count()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _alive_after_requests(protocol: type, requests: int) -> int:
    app = Sanic(f"conn_test_{next(_names)}")

    @app.post("/webhook")
    async def webhook(request):
        return response.json({"events": [], "echo": request.json})

    port = _free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, protocol=protocol, return_asyncio_server=True
    )
    await server.startup()
    await server.start_serving()
    try:
        body = {"tracker": {"events": [{"event": "user", "text": "x" * 2000}]}}
        for _ in range(requests):
            async with (
                aiohttp.ClientSession() as session,  # a new connection, as Rasa makes them
                session.post(f"http://127.0.0.1:{port}/webhook", json=body) as r,
            ):
                assert r.status == 200
                await r.json()
        # Sanic's own timeout check holds a connection until its next round (at most
        # KEEP_ALIVE_TIMEOUT / 2 = 2.5 s); the abort timer held it 15 s.
        await asyncio.sleep(app.config.KEEP_ALIVE_TIMEOUT / 2 + 0.5)
        gc.collect()
        return sum(1 for o in gc.get_objects() if isinstance(o, protocol))
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("requests", [60])
def test_closed_connections_are_not_kept(requests, monkeypatch):
    # Several apps in one process: Sanic's test mode keeps its recompiled methods apart.
    monkeypatch.setattr(Sanic, "test_mode", True)
    loop = asyncio.new_event_loop()
    try:
        stock = loop.run_until_complete(_alive_after_requests(HttpProtocol, requests))
        prompt = loop.run_until_complete(_alive_after_requests(prompt_close_protocol(), requests))
    finally:
        loop.close()
    assert stock >= requests * 0.9  # Sanic keeps each for GRACEFUL_SHUTDOWN_TIMEOUT (15 s)
    assert prompt <= 2
