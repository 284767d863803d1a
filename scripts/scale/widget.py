"""A website-widget customer from Python for the scale-out checks: Rasa's socket.io
protocol as web/widget.js speaks it (session_request with the server-issued session
token, user_uttered, bot_uttered), over engine.io polling."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any


class WidgetCustomer:
    def __init__(self, url: str, timeout: float = 15):
        import socketio

        self.received: list[dict[str, Any]] = []
        self.session: dict[str, str | None] = {"session_id": None, "token": None}
        confirmed = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", lambda data: self.received.append(data))
        self.sio.on("session_token", lambda data: self.session.update(data))

        def session_confirm(session_id: str) -> None:
            self.session["session_id"] = self.session["session_id"] or session_id
            confirmed.set()

        self.sio.on("session_confirm", session_confirm)
        self.sio.connect(
            url, transports=["polling"], socketio_path="/socket.io", wait_timeout=timeout
        )
        self.sio.emit("session_request", {"session_id": None, "token": None})
        if not confirmed.wait(timeout):
            raise TimeoutError("no session_confirm")

    @property
    def session_id(self) -> str:
        return self.session["session_id"] or ""

    def say(self, text: str) -> None:
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def payloads(self) -> list[dict[str, Any]]:
        return [m["custom"] for m in self.received if isinstance(m.get("custom"), dict)]

    def kinds(self) -> list[str | None]:
        return [p.get("kind") for p in self.payloads()]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while self.kinds().count(kind) < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {kind} in {self.kinds()}")
            time.sleep(0.02)
        return [p for p in self.payloads() if p.get("kind") == kind][count - 1]

    def close(self) -> None:
        with contextlib.suppress(Exception):  # already gone
            self.sio.disconnect()
