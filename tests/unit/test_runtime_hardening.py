"""rasa_runtime's hardening pieces on their own, with real processes and Rasa's
own config reader (no mocks): endpoint files, the supervisor, the action-server
launcher's refusal to run without a token, the token check."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rasa_runtime import auth
from rasa_runtime.supervisor import parse_specs

REPO = Path(__file__).resolve().parents[2]
PY = sys.executable


# --------------------------------------------------------------------------
# endpoints.yml / endpoints.postgres.yml, read as Rasa reads them


def read_endpoint(path: Path, kind: str, env: dict, monkeypatch):
    from rasa.utils.endpoints import read_endpoint_config

    for k, v in env.items():
        monkeypatch.setenv(k, v)
    return read_endpoint_config(str(path), kind)


def test_endpoints_yml_takes_the_action_url_and_token_from_the_environment(monkeypatch):
    token = auth.new_token()
    e = read_endpoint(
        REPO / "endpoints.yml",
        "action_endpoint",
        {"ACTION_ENDPOINT_URL": "http://127.0.0.1:6123/webhook", "ACTION_SERVER_TOKEN": token},
        monkeypatch,
    )
    assert e.url == "http://127.0.0.1:6123/webhook"
    assert e.headers == {"Authorization": f"Bearer {token}"}
    assert token not in (REPO / "endpoints.yml").read_text()


def test_endpoints_yml_without_a_token_fails_loudly(monkeypatch):
    from rasa.shared.exceptions import RasaException

    monkeypatch.delenv("ACTION_SERVER_TOKEN", raising=False)
    with pytest.raises(RasaException, match="ACTION_SERVER_TOKEN"):
        read_endpoint(
            REPO / "endpoints.yml",
            "action_endpoint",
            {"ACTION_ENDPOINT_URL": "http://127.0.0.1:1/webhook"},
            monkeypatch,
        )


def test_endpoints_postgres_yml_expands_every_value(monkeypatch):
    env = {
        "ACTION_ENDPOINT_URL": "http://actions:5055/webhook",
        "ACTION_SERVER_TOKEN": auth.new_token(),
        "POSTGRES_HOST": "db.internal",
        "POSTGRES_PORT": "5433",
        "POSTGRES_USER": "bot",
        "POSTGRES_PASSWORD": "s3cret",
        "POSTGRES_DB": "rasa",
        "REDIS_HOST": "redis.internal",
        "REDIS_PORT": "6380",
    }
    path = REPO / "endpoints.postgres.yml"
    action = read_endpoint(path, "action_endpoint", env, monkeypatch)
    tracker = read_endpoint(path, "tracker_store", env, monkeypatch)
    lock = read_endpoint(path, "lock_store", env, monkeypatch)
    assert action.url == env["ACTION_ENDPOINT_URL"]
    assert action.headers["Authorization"] == f"Bearer {env['ACTION_SERVER_TOKEN']}"
    # Quoted "${POSTGRES_HOST}" used to be taken literally.
    assert tracker.url == "db.internal"
    assert {k: str(v) for k, v in tracker.kwargs.items()} == {
        "dialect": "postgresql",
        "port": "5433",
        "username": "bot",
        "password": "s3cret",
        "db": "rasa",
    }
    assert lock.url == "redis.internal" and str(lock.kwargs["port"]) == "6380"


def test_default_action_endpoint_url():
    assert auth.default_action_endpoint_url({}) == "http://127.0.0.1:5055/webhook"
    assert (
        auth.default_action_endpoint_url({"ACTIONS_PORT": "6001"})
        == "http://127.0.0.1:6001/webhook"
    )
    assert (
        auth.default_action_endpoint_url({"ACTIONS_HOST": "0.0.0.0"})
        == "http://127.0.0.1:5055/webhook"
    )
    assert auth.default_action_endpoint_url({"ACTIONS_HOST": "::"}) == "http://[::1]:5055/webhook"
    assert (
        auth.default_action_endpoint_url({"ACTIONS_HOST": "10.0.0.5"})
        == "http://10.0.0.5:5055/webhook"
    )


def test_token_check():
    token = auth.new_token()
    assert auth.authorized(f"Bearer {token}", token)
    assert not auth.authorized(f"Bearer {token}x", token)
    assert not auth.authorized(token, token)
    assert not auth.authorized(None, token)
    assert not auth.authorized("Bearer ", "")
    with pytest.raises(ValueError):
        auth.check_token("")
    with pytest.raises(ValueError):
        auth.check_token("short")


def test_rasa_side_adds_the_token_only_when_not_configured(monkeypatch):
    from rasa.utils.endpoints import EndpointConfig

    monkeypatch.setenv("ACTION_SERVER_TOKEN", "t" * 20)
    bare = EndpointConfig("http://127.0.0.1:1/webhook")
    auth.add_token_to_endpoint(bare)
    assert bare.headers == {"Authorization": "Bearer " + "t" * 20}
    configured = EndpointConfig(
        "http://127.0.0.1:1/webhook", headers={"authorization": "Bearer other"}
    )
    auth.add_token_to_endpoint(configured)
    assert configured.headers == {"authorization": "Bearer other"}


# --------------------------------------------------------------------------
# The action-server launcher


def test_action_server_does_not_start_without_a_token():
    env = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    env["PYTHONPATH"] = str(REPO)
    r = subprocess.run(
        [PY, "-m", "rasa_runtime.actions", "--port", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode != 0
    assert "ACTION_SERVER_TOKEN is not set" in r.stderr


# --------------------------------------------------------------------------
# The supervisor (what `make run` runs), with real child processes

CHILD = "import os, sys, time; print(os.getpid(), flush=True); time.sleep(120)"


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.split(")")[-1].split()[0] != "Z"


def _pids(log: Path, name: str) -> list[int]:
    import re

    return [int(p) for p in re.findall(rf"{name} started \(pid (\d+)\)", log.read_text())]


def _wait(predicate, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def _spawn_supervisor(args: list[str], log: Path) -> subprocess.Popen:
    with log.open("wb") as err:  # the supervisor keeps its own copy
        return subprocess.Popen(
            [PY, "-m", "rasa_runtime.supervisor", *args],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )


def test_supervisor_restarts_a_dead_child_and_stops_all_on_ctrl_c(tmp_path):
    log = tmp_path / "supervisor.log"
    proc = _spawn_supervisor(
        ["--grace", "5", "one", PY, "-c", CHILD, "---", "two", PY, "-c", CHILD], log
    )
    try:
        assert _wait(lambda: _pids(log, "one") and _pids(log, "two"))
        one, two = _pids(log, "one")[0], _pids(log, "two")[0]
        os.kill(one, signal.SIGKILL)
        assert _wait(lambda: len(_pids(log, "one")) == 2), log.read_text()
        assert f"one (pid {one}) stopped (killed by SIGKILL)" in log.read_text()
        assert _alive(two) and proc.poll() is None  # the rest of the stack stays up
        new_one = _pids(log, "one")[1]

        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 128 + signal.SIGINT
        assert _wait(lambda: not _alive(new_one) and not _alive(two), 10)
        assert "stopped" in log.read_text().splitlines()[-1]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_supervisor_backs_off_a_child_that_keeps_dying(tmp_path):
    log = tmp_path / "supervisor.log"
    proc = _spawn_supervisor(["bad", PY, "-c", "raise SystemExit(3)"], log)
    try:
        assert _wait(lambda: "restarting in 2 s" in log.read_text(), 20), log.read_text()
        text = log.read_text()
        assert "exit status 3" in text and "restarting in 1 s" in text
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 128 + signal.SIGTERM
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)


def test_supervisor_spec_parsing():
    children = parse_specs(["a", "x", "-y", "---", "b", "z"])
    assert [(c.name, c.argv) for c in children] == [("a", ["x", "-y"]), ("b", ["z"])]
    with pytest.raises(SystemExit):
        parse_specs(["a"])
    with pytest.raises(SystemExit):
        parse_specs(["a", "x", "---", "a", "y"])
