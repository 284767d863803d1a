"""rasa_runtime/unavailable.py against a real HTTP action server on 127.0.0.1: an
invalid response from our own action server is logged as the bug it is (Rasa's own
processor logs it with a traceback; the guard once called it an outage), and the
customer still gets the polite reply; an action server that is down stays an outage."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from rasa_runtime import unavailable

REPO = Path(__file__).resolve().parents[2]
DOMAIN = Domain.load(str(REPO / "domain.yml"))
INVALID = {"events": [{"event": "slot"}], "responses": []}  # a slot event without a name
VALID = {"events": [], "responses": [{"text": "ACWとは…"}]}


class ActionServer:
    """Answers every POST with `body` (200)."""

    def __init__(self, body: dict):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                data = json.dumps(server.body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.body = body
        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http.server_address[1]}/webhook"

    def stop(self) -> None:
        self.http.shutdown()
        self.http.server_close()


@pytest.fixture
def server():
    s = ActionServer(INVALID)
    yield s
    s.stop()


@pytest.fixture(autouse=True)
def guarded(monkeypatch):
    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    unavailable.apply()  # what `python -m rasa_runtime` does


def run_action(url: str) -> list:
    tracker = DialogueStateTracker("u-invalid", DOMAIN.slots)
    tracker.update(UserUttered("ACWとは?", {"name": "define_term", "confidence": 0.9}))
    action = RemoteAction("action_define_term", EndpointConfig(url))
    nlg = TemplatedNaturalLanguageGenerator(DOMAIN.responses)
    return asyncio.run(action.run(CollectingOutputChannel(), nlg, tracker, DOMAIN))


def polite_replies(events: list) -> list:
    return [
        e.data["custom"]["kind"]
        for e in events
        if isinstance(e, BotUttered) and (e.data or {}).get("custom")
    ]


def test_an_invalid_response_is_logged_as_a_bug_and_the_customer_gets_the_reply(server, caplog):
    with caplog.at_level(logging.ERROR, logger="rasa_runtime.unavailable"):
        events = run_action(server.url)
    assert polite_replies(events) == [unavailable.KIND]
    [record] = [r for r in caplog.records if r.name == "rasa_runtime.unavailable"]
    assert record.levelno == logging.ERROR
    assert "invalid response" in record.getMessage()
    assert "action_define_term" in record.getMessage()
    assert "Failed to validate Action server response" in record.getMessage()  # Rasa's words
    assert record.exc_info is not None  # the traceback, as Rasa's processor logs it


def test_a_valid_response_passes_through(server, caplog):
    server.body = VALID
    with caplog.at_level(logging.ERROR, logger="rasa_runtime.unavailable"):
        events = run_action(server.url)
    assert [e.text for e in events if isinstance(e, BotUttered)] == ["ACWとは…"]
    assert not caplog.records


def test_an_action_server_that_is_down_is_an_outage_not_a_bug(server, caplog):
    url = server.url
    server.stop()
    with caplog.at_level(logging.ERROR, logger="rasa_runtime.unavailable"):
        events = run_action(url)
    assert polite_replies(events) == [unavailable.KIND]
    [record] = [r for r in caplog.records if r.name == "rasa_runtime.unavailable"]
    assert "failed" in record.getMessage() and "invalid response" not in record.getMessage()
