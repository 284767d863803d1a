"""The content studio's long work (import apply) is a background job, so nothing may raise
Sanic's response timeout for the whole Rasa process: a hung customer turn still ends at
Sanic's default 60 s."""

from __future__ import annotations

import re
from pathlib import Path

from sanic.config import DEFAULT_CONFIG

ROOT = Path(__file__).resolve().parents[3]
SETS_TIMEOUT = re.compile(
    r"RESPONSE_TIMEOUT\s*=|\[\s*[\"']RESPONSE_TIMEOUT[\"']\s*\]\s*=|"
    r"update\([^)]*RESPONSE_TIMEOUT|setattr\([^)]*RESPONSE_TIMEOUT"
)


def test_sanics_default_response_timeout_is_60_seconds():
    assert DEFAULT_CONFIG["RESPONSE_TIMEOUT"] == 60


def test_no_server_code_changes_the_response_timeout():
    files = [
        p
        for d in ("channels", "assistant", "rasa_runtime", "actions")
        if (ROOT / d).is_dir()
        for p in (ROOT / d).rglob("*.py")
    ]
    assert any(p.name == "content_studio.py" for p in files)
    offenders = [
        f"{p.relative_to(ROOT)}:{n}"
        for p in files
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if SETS_TIMEOUT.search(line)
    ]
    assert offenders == []


def test_the_pattern_finds_a_change():
    assert SETS_TIMEOUT.search("app.config.RESPONSE_TIMEOUT = max(60, 600)")
    assert SETS_TIMEOUT.search('app.config["RESPONSE_TIMEOUT"] = 600')
    assert SETS_TIMEOUT.search("app.config.update(RESPONSE_TIMEOUT=600)")
    assert not SETS_TIMEOUT.search("timeout = app.config.RESPONSE_TIMEOUT")
