"""Rasa keeps its connections to the action server (rasa_runtime/action_pool.py,
docs/memory.md row 7), through the real stack: the action server and Rasa started as
`make run` starts them, a TCP proxy in front of the action server counting the
connections Rasa opens. Stock Rasa (ACTION_CONNECTION_REUSE=0) opens one per action
call; with the pool, sequential turns share one (two at most: a turn may start while
the previous call's connection is being given back)."""

from __future__ import annotations

import asyncio
import threading
import uuid

import pytest

from devtools.launch import MODEL, ActionServer, free_port, start_servers
from tests.support.ci import unavailable

TURNS = 12
TEXTS = ["ACWとは?", "IVRって何ですか", "オペレーターと話したい", "ありがとう"]


class CountingProxy:
    """127.0.0.1:port → the action server, byte for byte; counts the connections."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = free_port()
        self.connections = 0
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(10)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.port)
        )
        ready.set()
        self.loop.run_forever()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/webhook"

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.mark.parametrize("reuse", ["1", "0"], ids=["pooled", "stock"])
def test_turns_through_rasa_reuse_the_action_servers_connection(reuse, tmp_path):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    proxies: list[CountingProxy] = []

    def via_proxy(actions: ActionServer) -> str:
        proxies.append(CountingProxy(actions.port))
        return proxies[0].url()

    servers = start_servers(
        workdir=tmp_path, env_extra={"ACTION_CONNECTION_REUSE": reuse}, actions_via=via_proxy
    )
    try:
        sender = f"pool-{uuid.uuid4().hex[:8]}"
        for i in range(TURNS):
            replies = servers.say(f"{sender}-{i % 3}", TEXTS[i % len(TEXTS)])
            assert replies, TEXTS[i % len(TEXTS)]
        connections = proxies[0].connections
        log = servers.rasa.tail(400)
    finally:
        servers.stop()
        for p in proxies:
            p.stop()
    print(f"ACTION_CONNECTION_REUSE={reuse}: {connections} connections for {TURNS} turns")
    assert "service_unavailable" not in log and "Failed to execute custom action" not in log
    if reuse == "1":
        assert 1 <= connections <= 2, connections
    else:
        assert connections >= TURNS, connections  # at least one action call per turn
