"""assistant/settings.py: the parser table-tested, the generated doc kept equal to the
object, the command line scripts/run.sh uses, and no module reading os.environ for a
declared setting behind its back."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from assistant import settings as settings_module
from assistant.settings import (
    DOC_PATH,
    EXTERNAL,
    NAMES,
    Settings,
    SettingsError,
    get_settings,
    markdown,
    spec_of,
)

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "name, raw, expected",
    [
        # whole numbers, > 0
        ("CHAT_MAX_MESSAGE_CHARS", "100", 100),
        ("CHAT_MAX_MESSAGE_CHARS", " 100 ", 100),
        ("CHAT_MAX_MESSAGE_CHARS", "", 5000),
        ("CHAT_MAX_MESSAGE_CHARS", "   ", 5000),
        ("CHAT_MAX_MESSAGE_CHARS", "0", None),
        ("CHAT_MAX_MESSAGE_CHARS", "-5", None),
        ("CHAT_MAX_MESSAGE_CHARS", "1.5", None),
        ("CHAT_MAX_MESSAGE_CHARS", "1e3", None),
        ("CHAT_MAX_MESSAGE_CHARS", "１００", None),  # full-width digits
        ("CHAT_MAX_MESSAGE_CHARS", "ten", None),
        # whole numbers with both bounds
        ("RETENTION_CONVERSATIONS_DAYS", "0", 0),
        ("RETENTION_CONVERSATIONS_DAYS", "36500", 36500),
        ("RETENTION_CONVERSATIONS_DAYS", "36501", None),
        ("RETENTION_CONVERSATIONS_DAYS", "-1", None),
        ("CONSOLE_HASH_WORKERS", "16", 16),
        ("CONSOLE_HASH_WORKERS", "17", None),
        ("CONSOLE_HASH_WORKERS", "0", None),
        ("ACTIONS_PORT", "65535", 65535),
        ("ACTIONS_PORT", "65536", None),
        ("ACTIONS_PORT", "0", None),
        # numbers
        ("LOCK_WAIT_SECONDS", "0.5", 0.5),
        ("LOCK_WAIT_SECONDS", ".5", 0.5),
        ("LOCK_WAIT_SECONDS", "2", 2.0),
        ("LOCK_WAIT_SECONDS", "1e1", 10.0),
        ("LOCK_WAIT_SECONDS", "0", None),  # > 0
        ("LOCK_WAIT_SECONDS", "nan", None),
        ("LOCK_WAIT_SECONDS", "inf", None),
        ("LOCK_WAIT_SECONDS", "1,5", None),
        ("TICKET_LOCK_LIFETIME", "0", 0.0),  # ≥ 0 (0: the default)
        ("TICKET_LOCK_LIFETIME", "-1", None),
        ("MESSAGE_ID_TTL_HOURS", "2160", 2160.0),
        ("MESSAGE_ID_TTL_HOURS", "2160.5", None),
        ("CONTENT_POLL_SECONDS", "0.05", 0.05),
        ("CONTENT_POLL_SECONDS", "0.01", None),
        ("SCALE_SOCKET_SHARE", "1", 1.0),
        ("SCALE_SOCKET_SHARE", "1.1", None),
        # on/off words
        ("PRIVACY_MASK_CONTACTS", "0", False),
        ("PRIVACY_MASK_CONTACTS", "Off", False),
        ("PRIVACY_MASK_CONTACTS", " no ", False),
        ("PRIVACY_MASK_CONTACTS", "FALSE", False),
        ("PRIVACY_MASK_CONTACTS", "yes", True),
        ("PRIVACY_MASK_CONTACTS", "1", True),
        ("PRIVACY_MASK_CONTACTS", "", True),
        ("PRIVACY_MASK_CONTACTS", "maybe", None),
        ("OUTCOME_LOG", "off", False),
        ("LEAN_TOKENIZER", "0", False),
        # choices (case-insensitive, kept lower-case)
        ("HANDOFF_WEBHOOK_FORMAT", "Slack", "slack"),
        ("HANDOFF_WEBHOOK_FORMAT", "xml", None),
        # lists
        ("CHAT_ALLOWED_ORIGINS", "https://a.jp, ,https://b.jp", ("https://a.jp", "https://b.jp")),
        ("CHAT_TRUSTED_PROXIES", "10.0.0.0/8, 192.168.1.1", ("10.0.0.0/8", "192.168.1.1")),
        ("CHAT_TRUSTED_PROXIES", "::1", ("::1",)),
        ("CHAT_TRUSTED_PROXIES", "10.0.0.0/8,not-a-network", None),
        # text: stripped, except the session secret (it was used with its spaces)
        ("HANDOFF_WEBHOOK_URL", "  http://x/hook ", "http://x/hook"),
        ("CHAT_SESSION_SECRET", " s3cret ", " s3cret "),
    ],
)
def test_parse(name, raw, expected):
    if expected is None:
        with pytest.raises(SettingsError) as caught:
            Settings.from_env({name: raw})
        message = str(caught.value)
        assert name in message and repr(raw) in message  # names the variable and the value
        assert spec_of(name.lower()).accepted().split(" (")[0] in message  # and what is accepted
    else:
        assert getattr(Settings.from_env({name: raw}), name.lower()) == expected


def test_every_bad_value_is_named_at_once():
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({"LOCK_WAIT_SECONDS": "x", "ACTIONS_PORT": "http", "OUTCOME_LOG": "?"})
    assert len(caught.value.problems) == 3
    assert isinstance(caught.value, ValueError)  # callers that caught ValueError still do


def test_defaults_are_the_declared_ones():
    s = Settings.from_env({})
    assert s == Settings()
    assert (s.chat_max_message_chars, s.handoff_webhook_max_attempts, s.lock_lifetime()) == (
        5000,
        12,
        10.0,
    )
    assert s.line_reply_token_ttl is None and s.chat_allowed_origins == ()
    assert Settings.from_env({"TICKET_LOCK_LIFETIME": "4"}).lock_lifetime() == 4.0


@pytest.mark.parametrize(
    "env, url",
    [
        ({}, "http://127.0.0.1:5055/webhook"),
        ({"ACTIONS_PORT": "6001"}, "http://127.0.0.1:6001/webhook"),
        ({"ACTIONS_HOST": "0.0.0.0"}, "http://127.0.0.1:5055/webhook"),
        ({"ACTIONS_HOST": "::"}, "http://[::1]:5055/webhook"),
        ({"ACTIONS_HOST": "fe80::1"}, "http://[fe80::1]:5055/webhook"),
        ({"ACTIONS_HOST": "10.0.0.5"}, "http://10.0.0.5:5055/webhook"),
        ({"ACTION_ENDPOINT_URL": "http://a:1/webhook"}, "http://a:1/webhook"),
    ],
)
def test_action_endpoint(env, url):
    assert Settings.from_env(env).action_endpoint() == url


def test_get_settings_parses_once_and_sees_changes(monkeypatch):
    monkeypatch.delenv("LOCK_WAIT_SECONDS", raising=False)
    first = get_settings()
    assert get_settings() is first  # parsed once
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "3")
    assert get_settings().lock_wait_seconds == 3.0
    monkeypatch.setenv("LOCK_WAIT_SECONDS", "0")
    with pytest.raises(SettingsError, match="LOCK_WAIT_SECONDS"):
        get_settings()


def test_the_doc_is_generated_from_the_object():
    assert DOC_PATH.read_text(encoding="utf-8") == markdown(), "run `make settings-doc`"
    for name in NAMES:
        assert f"| `{name}` |" in markdown()


NOT_OURS = {
    "GRACEFUL_SHUTDOWN_TIMEOUT": "Sanic's config key (docs/memory.md)",
    "KEEP_ALIVE_TIMEOUT": "Sanic's config key (docs/memory.md, rasa_runtime/actions.py)",
    "TF_INTRA_OP_PARALLELISM_THREADS": "TensorFlow's (docs/measurements.md)",
}


def test_every_variable_the_docs_name_is_declared_and_every_link_resolves():
    docs = [REPO / "README.md", REPO / "web" / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    headings = {
        re.sub(r"[^a-z0-9 -]", "", h.lower()).replace(" ", "-")
        for h in re.findall(r"^## (.+)$", markdown(), re.M)
    }
    for path in docs:
        text = path.read_text(encoding="utf-8")
        for name in re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", text):
            assert name in NAMES or name in NOT_OURS, f"{path.name} names undeclared {name}"
        for anchor in re.findall(r"settings\.md#([a-z0-9-]+)", text):
            assert anchor in headings, f"{path.name} links settings.md#{anchor}"


def test_every_setting_is_documented_and_read_somewhere():
    """A one-line description and a reader for each: an unused declaration is dead."""
    sources = "\n".join(
        path.read_text(encoding="utf-8")
        for package in PACKAGES
        for path in (REPO / package).rglob("*.py")
        if path.name != "settings.py" or path.parent.name != "assistant"
    )
    outside = "\n".join(
        (REPO / name).read_text(encoding="utf-8")
        for name in ("scripts/run.sh", "endpoints.yml", "endpoints.postgres.yml")
    )
    for f in fields(Settings):
        spec = spec_of(f.name)
        assert spec.doc and "\n" not in spec.doc and spec.used_by
        assert f.name == f.name.lower()
        name = f.name.upper()
        read = f".{f.name}" in sources or name in outside or EXTERNAL in spec.used_by
        # Read through a derived value (Settings.lock_lifetime) or RetentionSettings' fields.
        indirect = f.name == "ticket_lock_lifetime" or f.name.startswith("retention_")
        assert read or indirect, f"{name} is declared but never read"


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    return subprocess.run(
        [sys.executable, "-m", "assistant.settings", *args],
        cwd=REPO,
        env={**clean, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_command_line():
    got = run_cli("get", "ACTION_ENDPOINT_URL", "RASA_PORT", "ACTIONS_LOCAL_URL", ACTIONS_HOST="::")
    assert got.returncode == 0, got.stderr
    assert got.stdout.splitlines() == ["http://[::1]:5055/webhook", "5005", "http://[::1]:5055"]
    exported = run_cli("env", "RASA_MODEL", RASA_MODEL="models/a b.tar.gz")
    assert exported.stdout == "export RASA_MODEL='models/a b.tar.gz'\n"
    bad = run_cli("check", ACTIONS_PORT="http")
    assert bad.returncode == 2 and "ACTIONS_PORT='http'" in bad.stderr
    assert "Traceback" not in bad.stderr
    unknown = run_cli("get", "NO_SUCH_THING")
    assert unknown.returncode == 2 and "NO_SUCH_THING" in unknown.stderr


def test_servers_refuse_to_start_with_a_bad_value():
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    for module in ("rasa_runtime.actions", "rasa_runtime"):
        got = subprocess.run(
            [sys.executable, "-m", module, "--help"],
            cwd=REPO,
            env={**clean, "PYTHONPATH": str(REPO), "LOCK_WAIT_SECONDS": "soon"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert got.returncode != 0 and "LOCK_WAIT_SECONDS='soon'" in got.stderr, module
        assert "Traceback" not in got.stderr


# Modules that still read os.environ, and why: nothing else may (writes for a child
# process, e.g. the launcher's environment for the servers, are not reads).
READERS_ALLOWED = {
    "assistant/settings.py": "the settings themselves",
    "assistant/retention/locations.py": "${VAR} in the endpoints file, expanded as Rasa does",
    "rasa_runtime/quiet.py": "PYTHONWARNINGS, Python's own variable",
}
_READ = re.compile(
    r"os\.environ\.get\(|os\.getenv\(|os\.environ\[[^\]]+\](?!\s*=[^=])|os\.environ if"
)
PACKAGES = ("assistant", "actions", "channels", "components", "rasa_runtime", "devtools", "scripts")


def test_no_module_reads_the_environment_behind_the_object():
    offenders = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            rel = str(path.relative_to(REPO))
            if rel in READERS_ALLOWED:
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if _READ.search(line):
                    offenders.append(f"{rel}: {line.strip()}")
    assert not offenders, "read these through assistant.settings:\n" + "\n".join(offenders)


def test_defaults_match_the_modules_constants():
    """Modules keep their constants (tests and callers use them); they must agree."""
    from assistant import intake, receipts
    from assistant.content import live
    from assistant.handoff import notify, webhook_format
    from rasa_runtime import auth, lockwait

    s = Settings()
    assert s.chat_max_message_chars == intake.DEFAULT_MAX_CHARS
    assert s.message_id_ttl_hours == receipts.DEFAULT_TTL_HOURS
    assert s.content_poll_seconds == live.DEFAULT_POLL_SECONDS
    assert s.handoff_webhook_max_attempts == notify.DEFAULT_MAX_ATTEMPTS
    assert spec_of("handoff_webhook_format").choices == webhook_format.FORMATS
    assert (s.actions_host, s.actions_port) == (auth.DEFAULT_HOST, auth.DEFAULT_PORT)
    assert s.lock_retry_seconds == lockwait.DEFAULT_RETRY
    assert s.lock_wait_seconds == lockwait.DEFAULT_WAIT
    assert s.lock_lifetime() == lockwait.DEFAULT_LIFETIME


def test_module_has_no_rasa_import():
    source = Path(settings_module.__file__).read_text(encoding="utf-8")
    assert not re.search(r"^\s*(from|import) rasa", source, re.M)


def test_run_sh_stops_on_a_bad_value_before_starting_anything():
    clean = {k: v for k, v in os.environ.items() if k not in NAMES}
    got = subprocess.run(
        [str(REPO / "scripts" / "run.sh")],
        cwd=REPO,
        env={**clean, "ACTIONS_HOST": "::", "ACTIONS_PORT": "50x5"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert got.returncode != 0
    assert "ACTIONS_PORT='50x5': must be a whole number ≥ 1 and ≤ 65535" in got.stderr
    assert "Traceback" not in got.stderr and "REST:" not in got.stdout
