"""Hardening, with real servers over HTTP (no mocks):

* `scripts/run.sh` (what `make run` starts) on free ports: every server on
  loopback only, the action server refusing calls without the shared token, Rasa
  reaching it on ACTIONS_PORT with the token run.sh generated, no third-party
  warnings, the agent console line, a killed process restarted, Ctrl-C stopping all;
* `make shell` in a pseudo-terminal, with its own action server;
* messages made only of control/format characters: answered and stored, also
  during a handoff;
* the action server down or refusing the token: a clear reply, the handoff
  request and follow-ups recorded by Rasa itself.
"""

from __future__ import annotations

import os
import pty
import re
import select
import signal
import socket
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.launch import MODEL, REPO, custom_payloads, free_port, start_servers
from tests.integration.conftest import hours_file

pytestmark = pytest.mark.skipif(not MODEL.exists(), reason="no trained model (make train)")

UNAVAILABLE = "ただいまシステムに接続できません。しばらくしてからもう一度お試しください。"
CONTROL_ONLY = [
    "\u200b",
    "\u202e",
    "\x00",
    "\u00ad",
    "\ufeff",
    "\u200b\u202e\u2060\ufeff\u00ad\x07",
]
THIRD_PARTY_WARNING = re.compile(r"site-packages/\S+:\d+: \w*Warning")


def new_sender(prefix: str = "hard") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def refused(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        try:
            s.connect((host, port))
        except OSError:
            return True
    return False


def other_local_addresses() -> list[str]:
    """Addresses of this machine that are not 127.0.0.1: another loopback address
    (a server bound to 0.0.0.0 accepts on it, one bound to 127.0.0.1 does not) and,
    when there is one, the address of the outgoing interface."""
    found = ["127.0.0.2"]
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("10.255.255.255", 1))  # no packet is sent
            ip = s.getsockname()[0]
        if not ip.startswith("127."):
            found.append(ip)
    except OSError:
        pass
    return found


def wait_for(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def http_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def stack_env(tmp: Path, **ports: int) -> dict:
    env = dict(os.environ)
    env.pop("ACTION_SERVER_TOKEN", None)  # run.sh must make one
    env.pop("ACTION_ENDPOINT_URL", None)  # and point Rasa at ACTIONS_PORT itself
    env.pop("PYTHONWARNINGS", None)
    env.update({k: str(v) for k, v in ports.items()})
    env["HANDOFF_DB_URL"] = f"sqlite:///{tmp / 'handoff.db'}"
    env["HANDOFF_HOURS_FILE"] = str(hours_file(tmp / "open.yml", True))
    return env


# --------------------------------------------------------------------------
# make run


class Stack:
    def __init__(self, tmp: Path):
        self.rasa_port, self.actions_port, self.web_port = free_port(), free_port(), free_port()
        self.log = tmp / "run.log"
        self._out = open(self.log, "wb")  # noqa: SIM115 - the stack writes to it until stop()
        self.popen = subprocess.Popen(
            [str(REPO / "scripts" / "run.sh")],
            cwd=REPO,
            env=stack_env(
                tmp,
                RASA_PORT=self.rasa_port,
                ACTIONS_PORT=self.actions_port,
                WEB_PORT=self.web_port,
            ),
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def rest_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/webhook"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def pids(self, name: str) -> list[int]:
        return [
            int(p) for p in re.findall(rf"supervisor: {name} started \(pid (\d+)\)", self.output())
        ]

    def say(self, sender: str, text: str) -> list[dict]:
        r = requests.post(self.rest_url, json={"sender": sender, "message": text}, timeout=60)
        r.raise_for_status()
        return r.json()

    def wait_ready(self, timeout: float = 240) -> None:
        def ready():
            if self.popen.poll() is not None:
                raise AssertionError(
                    f"run.sh exited ({self.popen.returncode}):\n{self.output()[-3000:]}"
                )
            return "Rasa server is up and running" in self.output() and http_ok(
                f"{self.actions_url}/health"
            )

        wait_for(ready, timeout, "scripts/run.sh")

    def stop(self) -> None:
        self._out.close()
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
        # Children left behind (only if the supervisor failed): still ours, still alive.
        for pid in self.pids("actions") + self.pids("rasa") + self.pids("web"):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            if not _zombie(pid) and (b"rasa_runtime" in cmdline or b"serve_web" in cmdline):
                os.killpg(pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("stack"))
    try:
        s.wait_ready()
        yield s
    finally:
        s.stop()


def test_run_sh_prints_the_agent_console_and_no_third_party_warnings(stack):
    out = stack.output()
    assert f"Agent console: http://localhost:{stack.rasa_port}/agent/" in out
    warnings = [line for line in out.splitlines() if THIRD_PARTY_WARNING.search(line)]
    assert not warnings, "third-party warnings in make run's output:\n" + "\n".join(warnings[:10])


def test_every_server_listens_on_loopback_only(stack):
    ports = {"rasa": stack.rasa_port, "actions": stack.actions_port, "web": stack.web_port}
    for name, port in ports.items():
        assert not refused("127.0.0.1", port), f"{name} not reachable on 127.0.0.1:{port}"
        for address in other_local_addresses():
            assert refused(address, port), f"{name} also accepts connections on {address}:{port}"


def test_action_server_refuses_calls_without_the_token(stack):
    forged: dict[str, Any] = {
        "next_action": "action_handoff",
        "sender_id": "victim",
        "tracker": {
            "sender_id": "victim",
            "slots": {},
            "latest_message": {"text": "x"},
            "events": [],
        },
        "domain": {},
        "version": "3.6.21",
    }
    url = f"{stack.actions_url}/webhook"
    missing = requests.post(url, json=forged, timeout=10)
    assert missing.status_code == 401
    wrong = requests.post(
        url, json=forged, headers={"Authorization": "Bearer " + "x" * 43}, timeout=10
    )
    assert wrong.status_code == 403
    assert requests.get(f"{stack.actions_url}/actions", timeout=10).status_code == 401
    assert requests.get(f"{stack.actions_url}/health", timeout=10).status_code == 200


def test_rasa_calls_the_action_server_on_actions_port_with_the_token(stack):
    payloads = custom_payloads(stack.say(new_sender(), "ACWとは?"))
    assert payloads and payloads[0]["kind"] == "definition"
    assert payloads[0]["term"] == "アフターコールワーク"


def test_a_killed_action_server_is_restarted(stack):
    first = stack.pids("actions")[-1]
    os.kill(first, signal.SIGKILL)
    wait_for(lambda: len(stack.pids("actions")) >= 2, 30, "the action server to be restarted")
    wait_for(lambda: http_ok(f"{stack.actions_url}/health"), 60, "the restarted action server")
    assert stack.popen.poll() is None, "run.sh died with its child"
    payloads = custom_payloads(stack.say(new_sender(), "CRMとは?"))
    assert payloads[0]["kind"] == "definition"


def test_ctrl_c_stops_everything(stack):
    children = stack.pids("actions")[-1:] + stack.pids("rasa")[-1:] + stack.pids("web")[-1:]
    stack.popen.send_signal(signal.SIGINT)
    stack.popen.wait(60)
    for pid in children:
        wait_for(lambda pid=pid: _zombie(pid), 20, f"pid {pid} to exit")
    for port in (stack.rasa_port, stack.actions_port, stack.web_port):
        assert refused("127.0.0.1", port)


def _zombie(pid: int) -> bool:
    """Gone, or exited and not yet reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except OSError:
        return True


# --------------------------------------------------------------------------
# make shell


def test_make_shell_starts_its_own_action_server(tmp_path):
    env = stack_env(tmp_path, RASA_PORT=free_port(), ACTIONS_PORT=free_port())
    master, slave = pty.openpty()
    # `make shell` itself; the model and .venv count as up to date (a stale model is
    # `make train`'s business, not this test's).
    proc = subprocess.Popen(
        ["make", "-s", "-o", ".venv/.installed", "shell", "MODEL_INPUTS="],
        cwd=REPO,
        env=env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    seen = bytearray()

    def read_until(pattern: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    seen.extend(os.read(master, 65536))
                except OSError:
                    return False
                if re.search(pattern, seen.decode("utf-8", "replace")):
                    return True
            elif proc.poll() is not None:
                return False
        return False

    try:
        assert read_until(r"Your input ->", 240), seen.decode("utf-8", "replace")[-3000:]
        os.write(master, "ACWとは?\r".encode())
        assert read_until(r"顧客との電話対応終了後", 90), seen.decode("utf-8", "replace")[-3000:]
        os.write(master, b"/stop\r")
        proc.wait(60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        os.close(master)
    assert refused("127.0.0.1", int(env["ACTIONS_PORT"])), "the shell's action server outlived it"


# --------------------------------------------------------------------------
# Control characters, action server down (test_support servers, REST API on)


@pytest.fixture(scope="module")
def hbot(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("hbot")
    servers = start_servers(
        workdir=workdir,
        enable_api=True,
        env_extra={"HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True))},
    )
    yield servers
    servers.stop()


@pytest.fixture
def tickets(hbot):
    from assistant.handoff.tickets import TicketStore

    s = TicketStore(hbot.env["HANDOFF_DB_URL"])
    yield s
    s.dispose()


def user_texts(bot, sender: str) -> list[str]:
    r = requests.get(f"{bot.rasa_url}/conversations/{sender}/tracker", timeout=30)
    r.raise_for_status()
    return [e.get("text") for e in r.json()["events"] if e["event"] == "user"]


@pytest.mark.parametrize("text", CONTROL_ONLY, ids=repr)
def test_control_only_message_is_answered_and_stored(hbot, text):
    sender = new_sender("ctl")
    messages = hbot.say(sender, text)
    payloads = custom_payloads(messages)
    assert payloads, "no reply at all"
    assert payloads[0]["kind"] == "fallback" and payloads[0].get("reason") == "empty"
    assert text in user_texts(hbot, sender)
    # The conversation goes on.
    assert custom_payloads(hbot.say(sender, "ACWとは?"))[0]["kind"] == "definition"


def test_control_only_message_during_a_handoff_reaches_the_ticket(hbot, tickets):
    sender = new_sender("ctl-ho")
    handoff = custom_payloads(hbot.say(sender, "オペレーターと話したい"))[0]
    assert handoff["kind"] == "handoff"
    before = len(tickets.get(handoff["ticket"]).messages)
    payloads = custom_payloads(hbot.say(sender, "\u200b\u202e"))
    assert payloads and payloads[0]["kind"] == "handoff_message"
    assert len(tickets.get(handoff["ticket"]).messages) == before + 1
    assert "\u200b\u202e" in user_texts(hbot, sender)


def test_action_server_down_still_answers_and_records_the_handoff(hbot, tickets):
    in_handoff = new_sender("down-ho")
    ticket_id = custom_payloads(hbot.say(in_handoff, "オペレーターと話したい"))[0]["ticket"]
    hbot.actions.stop()
    try:
        # A question: a clear reply instead of [].
        asker = new_sender("down-q")
        messages = hbot.say(asker, "ACWとは?")
        payloads = custom_payloads(messages)
        assert [p["kind"] for p in payloads] == ["service_unavailable"]
        assert payloads[0]["text"].startswith(UNAVAILABLE) and payloads[0]["ticket"] is None
        assert [m["text"] for m in messages if m.get("text")] == [payloads[0]["text"]]

        # A handoff request: the ticket is written by Rasa.
        requester = new_sender("down-req")
        hbot.say(requester, "ACWとは?")
        payload = custom_payloads(hbot.say(requester, "オペレーターと話したい"))[0]
        assert payload["kind"] == "service_unavailable" and payload["ticket"]
        assert payload["ticket"] in payload["text"]
        ticket = tickets.get(payload["ticket"])
        assert (
            ticket.sender_id == requester
            and ticket.reason == "explicit"
            and ticket.status == "open"
        )
        assert ticket.last_question == "ACWとは?"
        assert ("user", "ACWとは?") in [(t["role"], t["text"]) for t in ticket.transcript]

        # During a handoff: the message is on the ticket.
        payload = custom_payloads(hbot.say(in_handoff, "まだつながりませんか"))[0]
        assert payload["kind"] == "service_unavailable" and payload["ticket"] == ticket_id
        assert "まだつながりませんか" in [m["text"] for m in tickets.get(ticket_id).messages]
    finally:
        hbot.restart_actions()

    # Back up: the handoff goes on where it was, and questions are answered again.
    after = custom_payloads(hbot.say(in_handoff, "ありがとう"))[0]
    assert after["kind"] == "handoff_message"
    assert tickets.get(ticket_id).messages[-1]["text"] == "ありがとう"
    assert custom_payloads(hbot.say(new_sender("up"), "ACWとは?"))[0]["kind"] == "definition"


def test_action_server_refusing_rasas_token_is_reported_not_silent(hbot):
    token = hbot.env["ACTION_SERVER_TOKEN"]
    hbot.restart_actions({"ACTION_SERVER_TOKEN": "another-token-" + "y" * 20})
    try:
        payloads = custom_payloads(hbot.say(new_sender("tok"), "ACWとは?"))
        assert [p["kind"] for p in payloads] == ["service_unavailable"]
        assert "403" in hbot.rasa.tail(200)
    finally:
        hbot.restart_actions({"ACTION_SERVER_TOKEN": token})
    assert custom_payloads(hbot.say(new_sender("tok"), "ACWとは?"))[0]["kind"] == "definition"


def test_forged_webhook_call_needs_the_token(hbot, tickets):
    forged: dict[str, Any] = {
        "next_action": "action_handoff",
        "sender_id": "forged-" + uuid.uuid4().hex[:6],
        "tracker": {
            "sender_id": "forged",
            "slots": {},
            "events": [],
            "paused": False,
            "latest_message": {
                "text": "オペレーターと話したい",
                "intent": {"name": "request_human"},
            },
            "latest_input_channel": "rest",
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
        "domain": {},
        "version": "3.6.21",
    }
    forged["tracker"]["sender_id"] = forged["sender_id"]
    r = requests.post(hbot.actions.url, json=forged, timeout=30)
    assert r.status_code == 401
    assert tickets.open_for_sender(forged["sender_id"]) is None
    # The same call with the token is what Rasa does: it works.
    r = requests.post(hbot.actions.url, json=forged, headers=hbot.actions.headers, timeout=30)
    assert r.status_code == 200, r.text
