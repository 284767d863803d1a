"""Starts the real action server and Rasa server on free localhost ports.

Shared launch code (scripts never import from tests/): used by the integration,
e2e and scale tests, `scripts/eval.py`, the benchmarks and the scale-out cluster, so all
of them talk to the same thing `make run` starts: the action server through
`python -m rasa_runtime.actions` (loopback, token required), Rasa through
`python -m rasa_runtime`, both with the same ACTION_SERVER_TOKEN (a random one
per test session unless the environment sets it).
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests

from assistant.settings import get_settings

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
# How the tests start Rasa and the action server: as `make run` does (scripts/run.sh).
RASA_CLI = (str(VENV_BIN / "python"), "-m", "rasa_runtime")
ACTIONS_CLI = (str(VENV_BIN / "python"), "-m", "rasa_runtime.actions")
TOKEN_ENV = "ACTION_SERVER_TOKEN"
# One secret per test session, like one per `make run`; never written to the repo.
_SESSION_TOKEN = get_settings().action_server_token or secrets.token_urlsafe(32)
MODEL = REPO / "models" / "model.tar.gz"
# As endpoints.yml: Rasa's SQL tracker store with the faster reads and writes.
TRACKER_STORE = "rasa_runtime.tracker_store.FastSQLTrackerStore"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Process:
    name: str
    popen: subprocess.Popen
    log: Path

    def stop(self, timeout: float = 15) -> None:
        if self.popen.poll() is None:
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()

    def tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def spawn(name: str, args: list[str], workdir: Path, env: dict) -> Process:
    log = workdir / f"{name}.log"
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(
            args,
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: stop() takes its children too
        )
    return Process(name, popen, log)


def wait_http(url: str, proc: Process, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited early:\n{proc.tail()}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{proc.name} not ready after {timeout}s:\n{proc.tail()}")


def start_redis(workdir: Path, port: int | None = None) -> tuple[Process, int]:
    """A throwaway redis-server on loopback, no persistence (lock store, socket.io
    manager). FileNotFoundError without redis-server, RuntimeError if it does not answer."""
    binary = shutil.which("redis-server")
    if not binary:
        raise FileNotFoundError("redis-server not installed (scripts/install_scale_services.sh)")
    port = port or free_port()
    folder = workdir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    args = [
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(folder),
    ]
    proc = spawn("redis", args, workdir, dict(os.environ))
    import redis

    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc, port
        except redis.ConnectionError:
            time.sleep(0.1)
    proc.stop()
    raise RuntimeError(f"redis-server did not start:\n{proc.tail()}")


def base_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    env.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")
    env.setdefault(TOKEN_ENV, _SESSION_TOKEN)
    # As scripts/run.sh: two glibc arenas, malloc_trim every 30 s (docs/memory.md).
    env.setdefault("MALLOC_ARENA_MAX", "2")
    env.setdefault("MALLOC_TRIM_EVERY", "30")
    env.update(extra or {})
    return env


@dataclass
class ActionServer:
    url: str
    port: int
    process: Process
    token: str = ""

    @property
    def headers(self) -> dict:
        """What Rasa sends: the Authorization header with the shared token."""
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        self.process.stop()


def start_action_server(workdir: Path, env: dict, port: int | None = None) -> ActionServer:
    """The action server on 127.0.0.1. `env` gets an ACTION_SERVER_TOKEN if it has
    none, so the caller's Rasa (started with the same env) can authenticate."""
    port = port or free_port()
    env.setdefault(TOKEN_ENV, _SESSION_TOKEN)
    proc = spawn(
        "actions",
        [*ACTIONS_CLI, "--host", "127.0.0.1", "--port", str(port), "--actions", "actions"],
        workdir,
        env,
    )
    wait_http(f"http://127.0.0.1:{port}/health", proc)
    return ActionServer(f"http://127.0.0.1:{port}/webhook", port, proc, env[TOKEN_ENV])


@dataclass
class BotServers:
    rasa_url: str
    workdir: Path
    env: dict
    actions: ActionServer
    rasa: Process
    extra: list = field(default_factory=list)
    rasa_args: list = field(default_factory=list)

    @property
    def rest_url(self) -> str:
        return f"{self.rasa_url}/webhooks/rest/webhook"

    def say(self, sender: str, text: str, timeout: float = 30) -> list[dict]:
        r = requests.post(self.rest_url, json={"sender": sender, "message": text}, timeout=timeout)
        r.raise_for_status()
        replies: list[dict] = r.json()
        return replies

    def restart_actions(self, env_extra: dict | None = None) -> None:
        """Stop and start the action server on the same port (restart-safety tests,
        or new settings such as another business-hours file)."""
        self.env.update(env_extra or {})
        port = self.actions.port
        self.actions.stop()
        self.actions = start_action_server(self.workdir, self.env, port)

    def restart_rasa(self) -> None:
        """Stop Rasa and start it again on the same port, same stores."""
        self.rasa.stop()
        self.rasa = spawn("rasa", self.rasa_args, self.workdir, self.env)
        wait_http(f"{self.rasa_url}/", self.rasa)

    def stop(self) -> None:
        for p in [self.rasa, self.actions.process, *self.extra]:
            p.stop()


def sqlite_tracker_store(workdir: Path, store_type: str = TRACKER_STORE) -> str:
    """The endpoints.yml section of a SQLite tracker store in `workdir` (`store_type` "SQL":
    Rasa's own store, as a stock bot runs it)."""
    return (
        f"tracker_store:\n  type: {store_type}\n  dialect: sqlite\n  db: {workdir / 'tracker.db'}\n"
    )


def write_endpoints(workdir: Path, action_url: str, tracker_store: str | None = None) -> Path:
    tracker = tracker_store or sqlite_tracker_store(workdir)
    path = workdir / "endpoints.yml"
    # As endpoints.yml: the token comes from Rasa's environment (unquoted: Rasa
    # expands ${VAR} only in plain YAML scalars), never from a file.
    path.write_text(
        f'action_endpoint:\n  url: "{action_url}"\n'
        f"  headers:\n    Authorization: Bearer ${{{TOKEN_ENV}}}\n{tracker}",
        encoding="utf-8",
    )
    return path


def start_servers(
    env_extra: dict | None = None,
    workdir: Path | None = None,
    model: Path = MODEL,
    credentials: Path | None = None,
    tracker_store: str | None = None,
    enable_api: bool = False,
    actions_via: Callable[[ActionServer], str] | None = None,
) -> BotServers:
    """Start both servers; the caller must call .stop(). `actions_via(actions)` gives
    the URL Rasa calls instead of the action server's (a proxy in front of it)."""
    if not model.exists():
        raise FileNotFoundError(f"{model} missing: run `make train` first")
    workdir = workdir or Path(tempfile.mkdtemp(prefix="cc-bot-"))
    workdir.mkdir(parents=True, exist_ok=True)
    env = base_env({"HANDOFF_DB_URL": f"sqlite:///{workdir / 'handoff.db'}", **(env_extra or {})})
    actions = start_action_server(workdir, env)
    action_url = actions_via(actions) if actions_via else actions.url
    endpoints = write_endpoints(workdir, action_url, tracker_store)
    port = free_port()
    args = [
        *RASA_CLI,
        "run",
        "--model",
        str(model),
        "--endpoints",
        str(endpoints),
        "--credentials",
        str(credentials or REPO / "credentials.yml"),
        "--port",
        str(port),
        "--interface",
        "127.0.0.1",
        "--cors",
        "*",
    ]
    if enable_api:
        args.append("--enable-api")
    rasa = spawn("rasa", args, workdir, env)
    try:
        wait_http(f"http://127.0.0.1:{port}/", rasa)
    except Exception:
        actions.stop()
        rasa.stop()
        raise
    return BotServers(f"http://127.0.0.1:{port}", workdir, env, actions, rasa, rasa_args=args)


def custom_payloads(messages: list[dict]) -> list[dict]:
    """The payloads of a reply, each checked against the response contract
    (assistant/contract.py): every test that reads a payload checks it."""
    from assistant.contract import problems

    found = [m["custom"] for m in messages if isinstance(m.get("custom"), dict)]
    for payload in found:
        assert not problems(payload), (problems(payload), payload)
    return found
