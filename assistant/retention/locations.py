"""Where the two databases are: the handoff database from HANDOFF_DB_URL (as the servers
read it), the tracker store from TRACKER_DB_URL or else the endpoints file Rasa runs with
(endpoints.yml / endpoints.postgres.yml, ${VAR} expanded from the environment as Rasa
does). No Rasa import: the SQL URL is built the way Rasa's SQLTrackerStore builds it."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.engine import URL

from ..settings import Settings, get_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
_VAR_RE = re.compile(r"\$\{([^}]+)\}")


class LocationError(ValueError):
    """The configuration does not say where a database is."""


def _expand(value: Any, env: Mapping[str, str]) -> Any:
    if not isinstance(value, str):
        return value

    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in env:
            raise LocationError(f"environment variable {m.group(1)} is not set")
        return env[m.group(1)]

    return _VAR_RE.sub(sub, value)


def tracker_url(
    endpoints: str | Path | None = None, environ: Mapping[str, str] | None = None
) -> str:
    # ${VAR} in the endpoints file is expanded from the environment, as Rasa does.
    env = os.environ if environ is None else environ
    s = get_settings() if environ is None else Settings.from_env(environ)
    if s.tracker_db_url:
        return s.tracker_db_url
    path = Path(endpoints or s.endpoints)
    if not path.is_absolute():
        path = REPO_ROOT / path
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise LocationError(f"cannot read {path}: {exc}") from exc
    store = config.get("tracker_store") or {}
    kind = str(store.get("type") or "")
    if "SQL" not in kind and kind.lower() != "sql":
        raise LocationError(f"{path.name}: tracker_store type {kind!r} is not a SQL store")
    get = {k: _expand(v, env) for k, v in store.items()}
    dialect = str(get.get("dialect") or "sqlite")
    if dialect == "sqlite":
        db = Path(str(get.get("db") or "rasa.db"))
        return f"sqlite:///{db if db.is_absolute() else REPO_ROOT / db}"
    port = get.get("port")
    url = URL.create(
        drivername=dialect,
        username=get.get("username"),
        password=get.get("password"),
        host=get.get("url"),
        port=int(port) if port not in (None, "") else None,
        database=get.get("db"),
    )
    return str(url.render_as_string(hide_password=False))
