"""`make backup` / `make restore` (assistant.backup) with real servers: a backup taken
while customers chat is consistent, restores into a fresh directory, and new servers
started on the restored files continue a conversation (the handoff in progress, the same
ticket) where the old ones left it. Bad backups and overwrites are refused."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
import uuid

from devtools.launch import MODEL, REPO, custom_payloads, start_servers
from tests.integration.conftest import hours_file
from tests.support.ci import unavailable


def cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "assistant.backup", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_backup_while_serving_restores_and_the_conversation_continues(tmp_path):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    first = start_servers(
        workdir=tmp_path / "live",
        env_extra={"HANDOFF_HOURS_FILE": str(hours_file(tmp_path / "open.yml", True))},
    )
    env = {**first.env, "TRACKER_DB_URL": f"sqlite:///{first.workdir / 'tracker.db'}"}
    sender = f"bk-{uuid.uuid4().hex[:10]}"
    failures: list[str] = []
    stop = threading.Event()

    def chat() -> None:  # other customers keep writing while the backup runs
        while not stop.is_set():
            try:
                first.say(f"busy-{uuid.uuid4().hex[:8]}", "ACWとは?", timeout=20)
            except Exception as exc:  # noqa: BLE001  (any failure is the finding)
                failures.append(repr(exc))

    try:
        assert custom_payloads(first.say(sender, "ACWとは?"))[0]["kind"] == "definition"
        handoff = custom_payloads(first.say(sender, "オペレーターと話したい"))[0]
        assert handoff["kind"] == "handoff"
        ticket = handoff["ticket"]
        worker = threading.Thread(target=chat)
        worker.start()
        try:
            made = cli(env, "backup", "--dir", str(tmp_path / "backups"))
        finally:
            stop.set()
            worker.join(30)
        assert made.returncode == 0, made.stderr
        assert failures == []
    finally:
        first.stop()
    folder = tmp_path / "backups" / made.stdout.split("backup: ")[1].split("/")[-1].strip()
    manifest = json.loads((folder / "manifest.json").read_text())
    assert set(manifest["files"]) == {"tracker.db", "handoff.db"}
    assert all(f["integrity"] == "ok" for f in manifest["files"].values())

    fresh = tmp_path / "restored"
    done = cli(env, "restore", str(folder), "--to", str(fresh))
    assert done.returncode == 0, done.stderr
    # restoring over existing files needs --force; nothing is written without it
    again = cli(env, "restore", str(folder), "--to", str(fresh))
    assert again.returncode == 2 and "would overwrite" in again.stderr

    second = start_servers(
        workdir=fresh, env_extra={"HANDOFF_HOURS_FILE": str(tmp_path / "open.yml")}
    )
    try:
        reply = custom_payloads(second.say(sender, f"まだですか {sender}"))
        assert reply[0]["kind"] == "handoff_message" and reply[0]["ticket"] == ticket, reply
        with sqlite3.connect(fresh / "handoff.db") as db:
            texts = [
                r[0]
                for r in db.execute(
                    "SELECT text FROM handoff_ticket_messages WHERE ticket_id = ?", (ticket,)
                )
            ]
        assert any(sender in t for t in texts)
    finally:
        second.stop()


def test_a_damaged_or_missing_backup_is_refused(tmp_path):
    env = {
        "HANDOFF_DB_URL": f"sqlite:///{tmp_path / 'h.db'}",
        "TRACKER_DB_URL": f"sqlite:///{tmp_path / 't.db'}",
    }
    import os

    env = {**os.environ, **env}
    for name in ("h.db", "t.db"):
        with sqlite3.connect(tmp_path / name) as db:
            db.execute("CREATE TABLE x (v TEXT)")
            db.execute("INSERT INTO x VALUES ('会話')")
    made = cli(env, "backup", "--dir", str(tmp_path / "b"))
    assert made.returncode == 0, made.stderr
    folder = next((tmp_path / "b").iterdir())
    missing = cli(env, "restore", str(tmp_path / "nope"), "--to", str(tmp_path / "r1"))
    assert missing.returncode == 2 and "not a backup" in missing.stderr
    with open(folder / "handoff.db", "r+b") as f:  # one flipped byte
        f.seek(200)
        byte = f.read(1)
        f.seek(200)
        f.write(bytes([byte[0] ^ 0xFF]))
    damaged = cli(env, "restore", str(folder), "--to", str(tmp_path / "r2"))
    assert damaged.returncode == 2 and "SHA-256" in damaged.stderr
    assert not (tmp_path / "r2").exists()
