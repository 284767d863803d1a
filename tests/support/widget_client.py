"""A website-widget customer from Python: Rasa's socket.io protocol as web/widget.js
speaks it (session_request with the session token, user_uttered, bot_uttered)."""

from __future__ import annotations

import threading
import time

from devtools.launch import custom_payloads


class Customer:
    """The widget's protocol (session_request, user_uttered, bot_uttered) from Python."""

    def __init__(self, url: str, session_id: str | None = None, token: str | None = None):
        import socketio

        self.received: list[dict] = []
        self.invalid = threading.Event()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("bot_uttered", lambda data: self.received.append(data))
        self.sio.on("session_invalid", lambda _data: self.invalid.set())
        issued: dict = {}
        self.sio.on("session_token", lambda data: issued.update(data))
        confirmed = threading.Event()
        self.sio.on("session_confirm", lambda _id: confirmed.set())
        self.sio.connect(url, transports=["polling"], socketio_path="/socket.io")
        self.sio.emit("session_request", {"session_id": session_id, "token": token})
        assert confirmed.wait(10)
        self.session_id, self.token = issued["session_id"], issued["token"]

    def say(self, text: str) -> None:
        self.sio.emit("user_uttered", {"message": text, "session_id": self.session_id})

    def kinds(self) -> list[str]:
        """Kinds of the payloads received so far, each checked against the contract."""
        return [p["kind"] for p in custom_payloads(self.received)]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while self.kinds().count(kind) < count:
            assert time.monotonic() < deadline, f"no {kind} in {self.kinds()}"
            time.sleep(0.05)

    def close(self) -> None:
        # A polite disconnect waits for the pending long-poll (up to the ping interval).
        self.sio.eio.disconnect(abort=True)
