"""Every environment variable the project reads, declared once: name, type, default,
bounds, a one-line description and the processes that read it (docs/settings.md is
generated from this module: `make settings-doc`; a unit test fails when they differ).

    from assistant.settings import get_settings
    get_settings().lock_wait_seconds                 # 60.0, or $LOCK_WAIT_SECONDS
    Settings.from_env({"LOCK_WAIT_SECONDS": "2"})   # tests: from a dict, os.environ untouched

Each field's name is its variable's name in lower case. An unset or empty (blank)
variable means the default. A value that does not parse or is out of bounds raises
`SettingsError` (a ValueError) naming every bad variable, its value and what is
accepted; the servers check the whole object at start (`python -m rasa_runtime`,
`python -m rasa_runtime.actions`, `scripts/run.sh`), so a typo stops start-up with one
clear line instead of a traceback deep inside a turn or a silently used default.

`get_settings()` parses the environment once and hands out the same frozen object as
long as the declared variables keep their values; a change of one of them (a test's
monkeypatch, the launcher writing os.environ before it spawns a server) is seen at the
next call. Subprocesses get their settings from the environment they are started with.

Why a frozen dataclass and not pydantic 1's BaseSettings (Rasa 3.6 pins
pydantic < 1.10.10): our variables have their own, tested semantics that BaseSettings
would change — an empty value means the default (BaseSettings fails on "" for a
number), TICKET_LOCK_LIFETIME=0 means the default as Rasa reads it, retention days
accept ASCII digits only, booleans accept exactly on/off words — and the errors must
name the variable and the accepted values in one line. A table of specs and five
small parsers (below) do that with the standard library, and the same table prints
the documentation.

`python -m assistant.settings check | get NAME... | env NAME... | vars NAME... | doc [--write]`
(`env` prints `export NAME=value` lines, `vars` plain assignments, for bash's eval;
derived values too: ACTION_ENDPOINT_URL's default, ACTIONS_LOCAL_URL): scripts/run.sh
asks this module for its defaults and the action server's URL instead of repeating them.

No Rasa import (the whole `assistant/` package is Rasa-free).
"""

from __future__ import annotations

import ipaddress
import os
import re
import shlex
import sys
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
DOC_PATH = REPO_ROOT / "docs" / "settings.md"

# Who reads a setting (the "used by" column).
RASA = "rasa"  # python -m rasa_runtime: channels, agent console, NLU components
ACTIONS = "actions"  # python -m rasa_runtime.actions: the action server
CLI = "cli"  # make purge / forget / report / backup, the handoff and content CLIs
RUN_SH = "run.sh"  # scripts/run.sh (make run / make shell)
SCALE = "scale"  # the scale test's locust users (scripts/scale/)
EXTERNAL = "external"  # read by Rasa itself or by glibc; declared here for the docs


class SettingsError(ValueError):
    """One or more variables have values that are not accepted."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems) + " (see docs/settings.md)")


# -- parsers -----------------------------------------------------------------------
_INT_RE = re.compile(r"-?[0-9]+")
_FLOAT_RE = re.compile(r"-?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][-+]?[0-9]+)?")
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")


@dataclass(frozen=True)
class Spec:
    """How one variable is read and documented."""

    kind: str  # int | float | bool | str | choice | list | networks
    doc: str
    used_by: tuple[str, ...]
    group: str
    low: float | None = None
    high: float | None = None
    above: bool = False  # the lower bound is exclusive (> low)
    choices: tuple[str, ...] = ()
    strip: bool = True  # secrets that were used unstripped keep their spaces
    secret: bool = False
    default_doc: str = ""  # shown instead of the default (computed defaults)

    def accepted(self) -> str:
        """What a value may be, in words (the docs and the error messages)."""
        if self.kind in ("int", "float"):
            what = "a whole number" if self.kind == "int" else "a number"
            bounds = []
            if self.low is not None:
                bounds.append(f"{'>' if self.above else '≥'} {self.low:g}")
            if self.high is not None:
                bounds.append(f"≤ {self.high:g}")
            return f"{what} {' and '.join(bounds)}".strip()
        if self.kind == "bool":
            return f"{'/'.join(TRUE_WORDS)} or {'/'.join(FALSE_WORDS)}"
        if self.kind == "choice":
            return " | ".join(self.choices)
        if self.kind == "list":
            return "comma-separated list"
        if self.kind == "networks":
            return "comma-separated IP addresses / networks (CIDR)"
        return "text"

    def parse(self, name: str, raw: str) -> Any:
        """The value of a set, non-blank variable; ValueError saying what is wrong."""
        value = raw.strip() if self.strip else raw
        bad = ValueError(f"{name}={raw!r}: must be {self.accepted()}")
        if self.kind == "int" or self.kind == "float":
            pattern = _INT_RE if self.kind == "int" else _FLOAT_RE
            if not value.isascii() or not pattern.fullmatch(value):
                raise bad
            number: float = int(value) if self.kind == "int" else float(value)
            if self.low is not None and (number <= self.low if self.above else number < self.low):
                raise bad
            if self.high is not None and number > self.high:
                raise bad
            return number
        if self.kind == "bool":
            word = value.lower()
            if word in TRUE_WORDS:
                return True
            if word in FALSE_WORDS:
                return False
            raise bad
        if self.kind == "choice":
            if value.lower() not in self.choices:
                raise bad
            return value.lower()
        if self.kind in ("list", "networks"):
            items = tuple(p.strip() for p in value.split(",") if p.strip())
            if self.kind == "networks":
                for item in items:
                    try:
                        ipaddress.ip_network(item, strict=False)
                    except ValueError:
                        raise ValueError(
                            f"{name}={raw!r}: {item!r} is not an IP address or network "
                            f"(accepted: {self.accepted()})"
                        ) from None
            return items
        return value


def setting(
    default: Any,
    kind: str,
    doc: str,
    used_by: tuple[str, ...],
    group: str,
    **spec: Any,
) -> Any:
    """A dataclass field carrying its Spec."""
    return field(default=default, metadata={"spec": Spec(kind, doc, used_by, group, **spec)})


# -- the settings ------------------------------------------------------------------
_CHAT = "Customer channels"
_LINE = "LINE"
_HANDOFF = "Handoff and agent console"
_CONTENT = "Content, privacy, analytics"
_RETENTION = "Retention"
_SERVERS = "Servers"
_SCALE = "Several servers"
_MEMORY = "Memory and diagnostics"
_BENCH = "Scale test"
# A sentence under each heading of docs/settings.md (topic documents link the headings).
GROUP_NOTES = {
    _CHAT: "The socket.io widget and the REST channel (docs/security.md, web/README.md).",
    _LINE: "The LINE channel is off unless both the secret and the token are set (docs/line.md).",
    _HANDOFF: "Tickets, the webhook, business hours, the caps on new tickets, the console's "
    "log-ins (docs/handoff.md, docs/live-chat.md).",
    _CONTENT: "The content studio, masking of personal data and the outcome log "
    "(docs/content-studio.md, docs/privacy.md, docs/analytics.md).",
    _RETENTION: "Whole days, 0 = keep forever; read by `make purge` / `make forget` / "
    "`make backup` (docs/retention.md).",
    _SERVERS: "Where the servers listen and how Rasa reaches the action server (docs/security.md).",
    _SCALE: "Locks, Redis and PostgreSQL when several Rasa servers share the load "
    "(docs/scale-out.md).",
    _MEMORY: "Memory hooks and measurements (docs/memory.md).",
    _BENCH: "Set by scripts/scale/run.py for the locust users (docs/scale-out.md).",
}


@dataclass(frozen=True)
class Settings:
    # Customer channels
    chat_max_message_chars: int = setting(
        5000,
        "int",
        "characters of one message kept; the rest is cut with a note",
        (RASA,),
        _CHAT,
        low=0,
        above=True,
    )
    chat_rate_per_sender: int = setting(
        30, "int", "messages per minute per conversation", (RASA,), _CHAT, low=0, above=True
    )
    chat_rate_per_client: int = setting(
        120, "int", "messages per minute per client address", (RASA,), _CHAT, low=0, above=True
    )
    chat_trusted_proxies: tuple[str, ...] = setting(
        (),
        "networks",
        "proxies whose X-Forwarded-For is believed (loopback always is)",
        (RASA,),
        _CHAT,
        default_doc="none",
    )
    chat_allowed_origins: tuple[str, ...] = setting(
        (),
        "list",
        "socket.io origins allowed to connect (wins over credentials.yml)",
        (RASA, RUN_SH),
        _CHAT,
        default_doc="credentials.yml, else `http://localhost:8080,http://127.0.0.1:8080`",
    )
    chat_max_metadata_bytes: int = setting(
        4096,
        "int",
        "largest socket.io message metadata kept (bytes, JSON-encoded)",
        (RASA,),
        _CHAT,
        low=0,
    )
    chat_session_secret: str = setting(
        "",
        "str",
        "HMAC key of widget session tokens; the same on every server",
        (RASA,),
        _CHAT,
        strip=False,
        secret=True,
        default_doc="made once, kept in `var/chat_session_secret`",
    )
    chat_session_ttl_hours: float = setting(
        168.0, "float", "hours a widget session token is valid", (RASA,), _CHAT, low=0
    )
    chat_session_rotate_minutes: float = setting(
        60.0,
        "float",
        "a rejoining widget gets a fresh token after this many minutes",
        (RASA,),
        _CHAT,
        low=0,
    )
    message_id_ttl_hours: float = setting(
        24.0,
        "float",
        "hours a client message id is remembered (exactly-once replies)",
        (RASA,),
        _CHAT,
        low=0,
        above=True,
        high=2160,
    )

    # LINE
    line_channel_secret: str = setting(
        "",
        "str",
        "Messaging API channel secret (checks X-Line-Signature); unset: LINE off",
        (RASA,),
        _LINE,
        secret=True,
        default_doc="unset",
    )
    line_channel_access_token: str = setting(
        "",
        "str",
        "long-lived channel access token (replies, pushes); unset: LINE off",
        (RASA,),
        _LINE,
        secret=True,
        default_doc="unset",
    )
    line_api_base: str = setting(
        "",
        "str",
        "LINE API base URL (tests point it at a local stand-in)",
        (RASA,),
        _LINE,
        default_doc="credentials.yml `api_base`, else `https://api.line.me`",
    )
    line_api_timeout: float | None = setting(
        None,
        "float",
        "seconds a call to LINE may take",
        (RASA,),
        _LINE,
        low=0,
        above=True,
        default_doc="credentials.yml `api_timeout`, else `10`",
    )
    line_reply_token_ttl: float | None = setting(
        None,
        "float",
        "seconds a reply token is used after the webhook arrived",
        (RASA,),
        _LINE,
        low=0,
        above=True,
        default_doc="credentials.yml `reply_token_ttl`, else `50`",
    )
    line_loading_after: float = setting(
        1.0,
        "float",
        "seconds a turn may take before the loading animation is requested",
        (RASA,),
        _LINE,
        low=0,
    )
    line_quota_cache: float = setting(
        60.0, "float", "seconds the console's LINE quota line is reused", (RASA,), _LINE, low=0
    )

    # Handoff
    handoff_db_url: str = setting(
        "",
        "str",
        "SQLAlchemy URL of the handoff database (tickets, console, content, training, analytics)",
        (RASA, ACTIONS, CLI),
        _HANDOFF,
        default_doc="`sqlite:///<repo>/var/handoff.db`",
    )
    handoff_webhook_url: str = setting(
        "",
        "str",
        "webhook called for new tickets; unset: no webhook",
        (RASA, ACTIONS, CLI),
        _HANDOFF,
        default_doc="unset",
    )
    handoff_webhook_format: str = setting(
        "json",
        "choice",
        "webhook body",
        (RASA, ACTIONS, CLI),
        _HANDOFF,
        choices=("json", "slack"),
    )
    handoff_webhook_timeout: float = setting(
        3.0,
        "float",
        "seconds per webhook POST",
        (RASA, ACTIONS, CLI),
        _HANDOFF,
        low=0,
        above=True,
    )
    handoff_webhook_max_attempts: int = setting(
        12,
        "int",
        "webhook attempts before a delivery is marked failed",
        (RASA, ACTIONS, CLI),
        _HANDOFF,
        low=0,
        above=True,
    )
    handoff_hours_file: str = setting(
        "config/business_hours.yml",
        "str",
        "business hours YAML (relative to the repo)",
        (RASA, ACTIONS, CLI),
        _HANDOFF,
    )
    handoff_max_tickets_per_client: int = setting(
        10,
        "int",
        "new tickets per client address per window (0: no cap)",
        (RASA, ACTIONS),
        _HANDOFF,
        low=0,
    )
    handoff_max_tickets_per_sender: int = setting(
        3,
        "int",
        "new tickets per conversation per window (0: no cap)",
        (RASA, ACTIONS),
        _HANDOFF,
        low=0,
    )
    handoff_ticket_window_minutes: int = setting(
        10, "int", "the window of the two caps above, minutes", (RASA, ACTIONS), _HANDOFF, low=0
    )
    console_hash_workers: int = setting(
        1,
        "int",
        "threads hashing console passwords (Argon2)",
        (RASA,),
        _HANDOFF,
        low=1,
        high=16,
    )
    console_hash_queue: int = setting(
        4,
        "int",
        "log-ins waiting for a hashing thread before one is refused (429)",
        (RASA,),
        _HANDOFF,
        low=0,
        high=256,
    )

    # Content, privacy, analytics
    glossary_file: str = setting(
        "",
        "str",
        "glossary YAML read instead of the content database's seed",
        (RASA, ACTIONS, CLI),
        _CONTENT,
        default_doc="`data/glossary.yml`",
    )
    content_poll_seconds: float = setting(
        1.0,
        "float",
        "how often each process looks for edited content",
        (RASA, ACTIONS),
        _CONTENT,
        low=0.05,
    )
    privacy_mask_contacts: bool = setting(
        True,
        "bool",
        "mask phone numbers and e-mail addresses (cards etc. always are)",
        (RASA, ACTIONS),
        _CONTENT,
    )
    outcome_log: bool = setting(
        True, "bool", "write the analytics outcome log", (RASA, ACTIONS), _CONTENT
    )
    outcome_flush_seconds: float = setting(
        1.0,
        "float",
        "how often the outcome writer inserts what queued",
        (RASA, ACTIONS),
        _CONTENT,
        low=0.01,
    )
    analytics_refresh_seconds: float = setting(
        60.0,
        "float",
        "how old today's roll-ups may get (0: rebuilt for every report)",
        (RASA, CLI),
        _CONTENT,
        low=0,
    )

    # Retention
    retention_conversations_days: int = setting(
        90, "int", "tracker events", (CLI,), _RETENTION, low=0, high=36500
    )
    retention_tickets_days: int = setting(
        90,
        "int",
        "closed tickets are anonymised, their messages deleted",
        (CLI,),
        _RETENTION,
        low=0,
        high=36500,
    )
    retention_training_days: int = setting(
        365,
        "int",
        "training answers, sessions, boxes, gaps",
        (CLI,),
        _RETENTION,
        low=0,
        high=36500,
    )
    retention_audit_days: int = setting(
        365,
        "int",
        "console audit log (forget entries are kept)",
        (CLI,),
        _RETENTION,
        low=0,
        high=36500,
    )
    retention_outcomes_days: int = setting(
        400,
        "int",
        "analytics outcome log, missed questions and user hashes of the roll-ups",
        (CLI,),
        _RETENTION,
        low=0,
        high=36500,
    )
    tracker_db_url: str = setting(
        "",
        "str",
        "SQLAlchemy URL of the tracker store for purge/backup",
        (CLI,),
        _RETENTION,
        default_doc="from the endpoints file",
    )
    endpoints: str = setting(
        "endpoints.yml",
        "str",
        "endpoints file the tracker store is read from (purge/backup)",
        (CLI,),
        _RETENTION,
    )

    # Servers
    action_server_token: str = setting(
        "",
        "str",
        "shared secret Rasa sends and the action server requires (≥ 16 chars)",
        (RASA, ACTIONS, RUN_SH),
        _SERVERS,
        secret=True,
        default_doc="random per start (make run, make shell, test servers)",
    )
    action_endpoint_url: str = setting(
        "",
        "str",
        "where Rasa calls the action server (endpoints.yml)",
        (RASA, RUN_SH),
        _SERVERS,
        default_doc="`http://<ACTIONS_HOST>:<ACTIONS_PORT>/webhook`",
    )
    actions_host: str = setting(
        "127.0.0.1", "str", "address the action server binds", (ACTIONS, RASA, RUN_SH), _SERVERS
    )
    actions_port: int = setting(
        5055,
        "int",
        "the action server's port",
        (ACTIONS, RASA, RUN_SH),
        _SERVERS,
        low=1,
        high=65535,
    )
    action_connection_reuse: bool = setting(
        True,
        "bool",
        "Rasa keeps its connections to the action server open (off: one per call, as stock)",
        (RASA,),
        _SERVERS,
    )
    action_keepalive_seconds: float = setting(
        3.0,
        "float",
        "seconds Rasa keeps an idle action-server connection (below the server's 5 s)",
        (RASA,),
        _SERVERS,
        low=0,
        above=True,
        high=4.5,
    )
    rasa_host: str = setting("127.0.0.1", "str", "address Rasa binds", (RUN_SH,), _SERVERS)
    rasa_port: int = setting(
        5005,
        "int",
        "Rasa's port (REST, socket.io, agent console)",
        (RUN_SH,),
        _SERVERS,
        low=1,
        high=65535,
    )
    web_host: str = setting(
        "127.0.0.1", "str", "address the demo page server binds", (RUN_SH,), _SERVERS
    )
    web_port: int = setting(
        8080, "int", "the demo page's port", (RUN_SH,), _SERVERS, low=1, high=65535
    )
    rasa_model: str = setting(
        "models/model.tar.gz", "str", "the trained model Rasa serves", (RUN_SH,), _SERVERS
    )

    # Several servers
    socketio_redis_url: str = setting(
        "",
        "str",
        "Redis URL sharing socket.io emits between Rasa servers; unset: one server",
        (RASA,),
        _SCALE,
        default_doc="unset",
    )
    ticket_lock_lifetime: float = setting(
        0.0,
        "float",
        "seconds a conversation lock of a dead server lasts (0: the default; Rasa's own variable)",
        (RASA,),
        _SCALE,
        low=0,
        default_doc="`10` (Rasa's own default: 60)",
    )
    lock_retry_seconds: float = setting(
        0.02,
        "float",
        "how often a waiter looks at a lock another server holds",
        (RASA,),
        _SCALE,
        low=0,
        above=True,
    )
    lock_wait_seconds: float = setting(
        60.0,
        "float",
        "longest a message waits behind a turn of its conversation",
        (RASA,),
        _SCALE,
        low=0,
        above=True,
    )
    postgres_host: str = setting(
        "",
        "str",
        "PostgreSQL tracker store host (endpoints.postgres.yml)",
        (EXTERNAL,),
        _SCALE,
        default_doc="unset",
    )
    postgres_port: str = setting("", "str", "its port", (EXTERNAL,), _SCALE, default_doc="unset")
    postgres_user: str = setting("", "str", "its user", (EXTERNAL,), _SCALE, default_doc="unset")
    postgres_password: str = setting(
        "", "str", "its password", (EXTERNAL,), _SCALE, secret=True, default_doc="unset"
    )
    postgres_db: str = setting("", "str", "its database", (EXTERNAL,), _SCALE, default_doc="unset")
    postgresql_schema: str = setting(
        "",
        "str",
        "PostgreSQL schema of the tracker store (Rasa's own variable; Rasa checks it exists)",
        (EXTERNAL,),
        _SCALE,
        default_doc="unset",
    )
    redis_host: str = setting(
        "",
        "str",
        "Redis lock store host (endpoints.postgres.yml)",
        (EXTERNAL,),
        _SCALE,
        default_doc="unset",
    )
    redis_port: str = setting("", "str", "its port", (EXTERNAL,), _SCALE, default_doc="unset")

    # Memory and diagnostics
    malloc_trim_every: float = setting(
        0.0,
        "float",
        "seconds between malloc_trim calls (0: never)",
        (RASA, ACTIONS),
        _MEMORY,
        low=0,
        default_doc="`0` (run.sh and the test servers set `30`)",
    )
    malloc_arena_max: int = setting(
        2,
        "int",
        "glibc malloc arenas (read by glibc; run.sh exports this default)",
        (EXTERNAL, RUN_SH),
        _MEMORY,
        low=1,
    )
    memtrace_dir: str = setting(
        "",
        "str",
        "with it, SIGUSR1 starts tracemalloc and writes snapshots there (soak)",
        (RASA, ACTIONS),
        _MEMORY,
        default_doc="unset",
    )
    memtrace_frames: int = setting(
        12,
        "int",
        "frames per tracemalloc trace (0: no tracing, only the gauges: soak --gauges-only)",
        (RASA, ACTIONS),
        _MEMORY,
        low=0,
    )
    lean_tokenizer: bool = setting(
        True,
        "bool",
        "GiNZA tokenizer without spaCy's per-message memory (off: spaCy's own)",
        (RASA,),
        _MEMORY,
    )

    # Scale test
    scale_journal: str = setting(
        "",
        "str",
        "file the locust users write their journal to",
        (SCALE,),
        _BENCH,
        default_doc="unset",
    )
    scale_socket_share: float = setting(
        0.5,
        "float",
        "share of socket.io users (the rest use REST)",
        (SCALE,),
        _BENCH,
        low=0,
        high=1,
    )
    scale_handoff_share: float = setting(
        0.3,
        "float",
        "share of socket.io users who ask for an agent",
        (SCALE,),
        _BENCH,
        low=0,
        high=1,
    )
    scale_max_attempts: int = setting(6, "int", "attempts per message", (SCALE,), _BENCH, low=1)
    scale_request_timeout: float = setting(
        60.0, "float", "seconds per HTTP request", (SCALE,), _BENCH, low=0, above=True
    )
    scale_reply_timeout: float = setting(
        20.0,
        "float",
        "seconds a socket.io user waits for a reply",
        (SCALE,),
        _BENCH,
        low=0,
        above=True,
    )
    scale_wait_min: float = setting(
        1.0, "float", "shortest think time, seconds", (SCALE,), _BENCH, low=0
    )
    scale_wait_max: float = setting(
        4.0, "float", "longest think time, seconds", (SCALE,), _BENCH, low=0
    )
    scale_end_at: float = setting(
        0.0,
        "float",
        "no new message after this epoch second (0: none)",
        (SCALE,),
        _BENCH,
        low=0,
    )
    scale_grace: float = setting(
        60.0,
        "float",
        "seconds messages under way may take after the end",
        (SCALE,),
        _BENCH,
        low=0,
    )

    # -- reading -----------------------------------------------------------------------
    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse ``environ`` (default os.environ); SettingsError names every bad value."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        problems: list[str] = []
        for f in fields(cls):
            name = f.name.upper()
            raw = env.get(name)
            if raw is None or not raw.strip():
                continue
            try:
                values[f.name] = spec_of(f.name).parse(name, raw)
            except ValueError as exc:
                problems.append(str(exc))
        if problems:
            raise SettingsError(problems)
        return cls(**values)

    # -- derived values --------------------------------------------------------------
    def lock_lifetime(self) -> float:
        """TICKET_LOCK_LIFETIME; unset or 0 is the default (10 s), as Rasa reads 0."""
        return self.ticket_lock_lifetime or DEFAULT_LOCK_LIFETIME

    def actions_local_url(self) -> str:
        """Where a client on this machine reaches the action server (no path)."""
        return f"http://{connect_host(self.actions_host)}:{self.actions_port}"

    def action_endpoint(self) -> str:
        """ACTION_ENDPOINT_URL, else the local action server's /webhook."""
        return self.action_endpoint_url or f"{self.actions_local_url()}/webhook"


DEFAULT_LOCK_LIFETIME = 10.0
NAMES: tuple[str, ...] = tuple(f.name.upper() for f in fields(Settings))
# Values the command line can print besides the variables (run.sh).
DERIVED = {
    "ACTION_ENDPOINT_URL": Settings.action_endpoint,
    "ACTIONS_LOCAL_URL": Settings.actions_local_url,
}


def spec_of(field_name: str) -> Spec:
    for f in fields(Settings):
        if f.name == field_name:
            spec: Spec = f.metadata["spec"]
            return spec
    raise KeyError(field_name)


def connect_host(bind_host: str) -> str:
    """Where a local client reaches a server bound to `bind_host` (URL form)."""
    host = (bind_host or "").strip()
    if host in ("", "0.0.0.0", "*"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


_cache: tuple[tuple[Any, ...], Settings] | None = None
# The variables as os.environ stores them (bytes on POSIX): comparing them is ~40 times
# faster than os.environ.get, which encodes every name and decodes every value — the
# check runs on every call, some of them per message.
_RAW = getattr(os.environ, "_data", None)
_ENCODE = getattr(os.environ, "encodekey", None)
_RAW_NAMES = tuple(map(_ENCODE, NAMES)) if isinstance(_RAW, dict) and _ENCODE else ()


def _environ_key() -> tuple[Any, ...]:
    """The declared variables' current values, to see whether they changed."""
    if _RAW_NAMES and getattr(os.environ, "_data", None) is _RAW:
        return tuple(map(_RAW.get, _RAW_NAMES))  # type: ignore[union-attr]
    return tuple(map(os.environ.get, NAMES))


def get_settings() -> Settings:
    """The settings of this process (see the module's notes on caching)."""
    global _cache
    key = _environ_key()
    cached = _cache
    if cached is not None and cached[0] == key:
        return cached[1]
    settings = Settings.from_env()
    _cache = (key, settings)
    return settings


def check_or_exit(program: str) -> Settings:
    """The settings, or exit with one clear message (process start)."""
    try:
        return get_settings()
    except SettingsError as exc:
        sys.exit(f"{program}: bad settings: {exc}")


# -- documentation -------------------------------------------------------------------
def _default_text(f: Any) -> str:
    spec: Spec = f.metadata["spec"]
    if spec.default_doc:
        return spec.default_doc
    value = f.default if f.default is not MISSING else None
    if isinstance(value, bool):
        return "on" if value else "off"
    if value in ("", None, ()):
        return "unset"
    return f"`{value:g}`" if isinstance(value, float) else f"`{value}`"


def markdown() -> str:
    """docs/settings.md."""
    lines = [
        "# Settings",
        "",
        "Every environment variable the project reads. Generated from `assistant/settings.py`",
        "by `make settings-doc`; `tests/unit/test_settings.py` fails when this file and the",
        "module differ. Unset or blank means the default. A bad value stops the servers at",
        "start with one line naming the variable, the value and what is accepted",
        "(`python -m assistant.settings check` checks the current environment). To add a",
        "setting: a field of `Settings` named as the variable in lower case, read through",
        "`get_settings()`, then `make settings-doc`.",
        "",
        "Used by: `rasa` = `python -m rasa_runtime` (channels, agent console, NLU),",
        "`actions` = the action server, `cli` = the make targets' command-line tools,",
        "`run.sh` = `scripts/run.sh`, `scale` = the scale test's locust users,",
        "`external` = read by Rasa (endpoints files) or glibc, listed for completeness.",
    ]
    group = None
    for f in fields(Settings):
        spec: Spec = f.metadata["spec"]
        if spec.group != group:
            group = spec.group
            lines += [
                "",
                f"## {group}",
                "",
                GROUP_NOTES[group],
                "",
                "| variable | accepted | default | used by | what |",
                "|---|---|---|---|---|",
            ]
        secret = " (secret)" if spec.secret else ""
        cells = [
            f"`{f.name.upper()}`",
            spec.accepted(),
            _default_text(f),
            ", ".join(spec.used_by),
            spec.doc + secret,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    return "\n".join(lines)


# -- command line ------------------------------------------------------------------
def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, tuple):
        return ",".join(value)
    if isinstance(value, float):
        return f"{value:g}"
    return "" if value is None else str(value)


def lookup(settings: Settings, name: str) -> str:
    """The effective value of a variable (or a derived value) as text."""
    key = name.upper()
    if key in DERIVED:
        return str(DERIVED[key](settings))
    if key not in NAMES:
        raise KeyError(f"unknown setting {name!r} (see docs/settings.md)")
    return _value_text(getattr(settings, key.lower()))


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    usage = (
        "usage: python -m assistant.settings check | get NAME... | env NAME... | vars NAME... "
        "| doc [--write]"
    )
    if not args:
        print(usage, file=sys.stderr)
        return 2
    command, names = args[0], args[1:]
    if command == "doc":
        text = markdown()
        if names == ["--write"]:
            DOC_PATH.write_text(text, encoding="utf-8")
            print(f"wrote {DOC_PATH.relative_to(REPO_ROOT)}")
        else:
            sys.stdout.write(text)
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"bad settings: {exc}", file=sys.stderr)
        return 2
    try:
        if command == "check":
            print(f"ok: {len(NAMES)} settings")
        elif command == "get":
            for name in names:
                print(lookup(settings, name))
        elif command in ("env", "vars"):  # for eval in bash: exported, or shell variables
            export = "export " if command == "env" else ""
            for name in names:
                print(f"{export}{name.upper()}={shlex.quote(lookup(settings, name))}")
        else:
            print(usage, file=sys.stderr)
            return 2
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
