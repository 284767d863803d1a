"""An agent talking to the real console API over HTTP (tests, the scale-out run)."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import requests

from devtools.launch import REPO

if TYPE_CHECKING:
    from assistant.handoff.tickets import TicketStore


def add_agent(
    env: dict, username: str, display_name: str, password: str = "password-123", role: str = "agent"
) -> str:
    """Create an account the way staff do: `make agents ARGS="add …"` (the CLI)."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant.livechat.agents_cli",
            "add",
            username,
            "--name",
            display_name,
            "--role",
            role,
            "--password-stdin",
        ],
        input=password + "\n",
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        capture_output=True,
    )
    return password


class Console:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.csrf = ""

    def login(self, username: str, password: str) -> requests.Response:
        self.http.get(f"{self.base}/agent/login", timeout=10)
        token = self.http.cookies.get("cc_login_csrf", path="/agent") or ""
        r = self.http.post(
            f"{self.base}/agent/login",
            json={"username": username, "password": password},
            headers={"X-CSRF-Token": token},
            timeout=10,
        )
        if r.status_code == 200:
            self.csrf = self.get("/agent/api/me").json()["csrf_token"]
        return r

    def get(self, path: str) -> requests.Response:
        return self.http.get(self.base + path, timeout=10, allow_redirects=False)

    def post(
        self, path: str, body: dict | None = None, csrf: bool = True, timeout: float = 10
    ) -> requests.Response:
        headers = {"X-CSRF-Token": self.csrf} if csrf else {}
        return self.http.post(self.base + path, json=body or {}, headers=headers, timeout=timeout)

    def upload(self, path: str, data: bytes, timeout: float = 120) -> requests.Response:
        """A file as the request body (the content studio's import)."""
        return self.http.post(
            self.base + path,
            data=data,
            timeout=timeout,
            headers={"X-CSRF-Token": self.csrf, "Content-Type": "application/octet-stream"},
        )

    def queue(self) -> dict:
        r = self.get("/agent/api/queue")
        r.raise_for_status()
        queue: dict = r.json()
        return queue

    def waiting_ticket_of(self, sender: str, store: TicketStore) -> str:
        """The id of the sender's open ticket (as the queue lists it)."""
        ticket = store.open_for_sender(sender)
        assert ticket is not None, f"no open ticket for {sender}"
        assert ticket.id in [t["id"] for t in self.queue()["waiting"]]
        return ticket.id

    def claim(self, ticket_id: str) -> requests.Response:
        return self.post(f"/agent/api/tickets/{ticket_id}/claim")

    def say(self, ticket_id: str, text: str) -> requests.Response:
        return self.post(f"/agent/api/tickets/{ticket_id}/messages", {"text": text})

    def ticket(self, ticket_id: str) -> dict:
        r = self.get(f"/agent/api/tickets/{ticket_id}")
        r.raise_for_status()
        detail: dict = r.json()
        return detail
