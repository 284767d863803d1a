"""Real servers for the integration tests: action server + Rasa (REST), a real
webhook receiver, business-hours files that make "now" open or closed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from devtools.launch import MODEL, start_servers
from tests.support.ci import unavailable
from tests.support.pg import pg_server_url  # noqa: F401  (fixture)
from tests.support.receiver import Receiver

DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def hours_file(path: Path, open_now: bool) -> Path:
    """A business-hours file in which the current moment is open (24h) or closed (one
    hour, two hours from now, every day)."""
    if open_now:
        window = "00:00-24:00"
    else:
        h = datetime.now(ZoneInfo("Asia/Tokyo")).hour
        start = (h + 2) % 22
        window = f"{start:02d}:00-{start + 1:02d}:00"
    lines = ["timezone: Asia/Tokyo", "weekly:"] + [f'  {d}: ["{window}"]' for d in DAYS]
    lines += ["holidays: {}", "closures: []"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def receiver():
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture(scope="session")
def bot(tmp_path_factory, receiver):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    workdir = tmp_path_factory.mktemp("bot")
    memtrace = workdir / "memtrace"
    memtrace.mkdir()
    servers = start_servers(
        workdir=workdir,
        env_extra={
            "HANDOFF_HOURS_FILE": str(hours_file(workdir / "open.yml", True)),
            "HANDOFF_WEBHOOK_URL": receiver.url,
            # gauges on SIGUSR1 (devtools.soak.read_gauges), no tracing
            "MEMTRACE_DIR": str(memtrace),
            "MEMTRACE_FRAMES": "0",
        },
    )
    yield servers
    servers.stop()


@pytest.fixture
def store(bot):
    from assistant.handoff.tickets import TicketStore

    s = TicketStore(bot.env["HANDOFF_DB_URL"])
    yield s
    s.dispose()
