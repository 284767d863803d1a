"""The shared secret between Rasa and the action server, and where they meet.

rasa-sdk's server has no authentication and, unless told otherwise, listens on
every interface: anyone reaching its port could POST a forged tracker to
/webhook (any sender id, any slot, a ticket in someone else's name). So:

* every server binds to loopback unless ACTIONS_HOST / RASA_HOST / WEB_HOST say
  otherwise (`scripts/run.sh`, `python -m rasa_runtime.actions`);
* Rasa sends `Authorization: Bearer $ACTION_SERVER_TOKEN` with every action call
  (endpoints.yml; a Rasa started through `python -m rasa_runtime` also adds it to
  an endpoint configured without it), and the action server refuses a call
  without it (401) or with another token (403). Only /health stays open.

ACTION_SERVER_TOKEN   the shared secret; `make run`, `make shell` and the test
                      servers generate a random one per start when it is unset.
ACTION_ENDPOINT_URL   where Rasa calls the action server (endpoints.yml); default
                      http://127.0.0.1:$ACTIONS_PORT/webhook.
ACTIONS_HOST          address the action server binds (default 127.0.0.1).
ACTIONS_PORT          its port (default 5055).
"""

from __future__ import annotations

import hmac
import os
import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rasa.utils.endpoints import EndpointConfig

from assistant import settings as _settings
from assistant.settings import Settings, get_settings

TOKEN_ENV = "ACTION_SERVER_TOKEN"
URL_ENV = "ACTION_ENDPOINT_URL"
HOST_ENV = "ACTIONS_HOST"
PORT_ENV = "ACTIONS_PORT"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 5055
HEADER = "Authorization"
SCHEME = "Bearer"
MIN_TOKEN_LENGTH = 16
# Paths the action server answers without the token (load balancers, `make run`'s checks).
OPEN_PATHS = frozenset({"/health"})


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_from_env(environ: Mapping[str, str] | None = None) -> str:
    return _of(environ).action_server_token


def _of(environ: Mapping[str, str] | None) -> Settings:
    return get_settings() if environ is None else Settings.from_env(environ)


def check_token(token: str) -> str:
    """The token, or ValueError saying what is wrong with it."""
    if not token:
        raise ValueError(
            f"{TOKEN_ENV} is not set: the action server refuses to run without "
            f"authentication (make run / make shell generate one; or export "
            f"{TOKEN_ENV}=$(python -c 'import secrets; print(secrets.token_urlsafe(32))'))"
        )
    if len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(f"{TOKEN_ENV} is too short (at least {MIN_TOKEN_LENGTH} characters)")
    return token


def header_value(token: str) -> str:
    return f"{SCHEME} {token}"


def authorized(header: str | None, token: str) -> bool:
    """Constant-time check of an Authorization header against the token."""
    if not header or not token:
        return False
    return hmac.compare_digest(header.strip().encode("utf-8"), header_value(token).encode("utf-8"))


connect_host = _settings.connect_host  # where a local client reaches a bound server


def default_action_endpoint_url(environ: Mapping[str, str] | None = None) -> str:
    """http://<ACTIONS_HOST as reachable>:<ACTIONS_PORT>/webhook (scripts/run.sh asks
    `python -m assistant.settings get ACTION_ENDPOINT_URL` for the same)."""
    return f"{_of(environ).actions_local_url()}/webhook"


def set_default_action_endpoint_url() -> None:
    """endpoints.yml reads ${ACTION_ENDPOINT_URL}; derive it from ACTIONS_HOST/PORT
    when unset, so a plain `python -m rasa_runtime run` finds the action server."""
    s = get_settings()
    if not s.action_endpoint_url:
        os.environ[URL_ENV] = s.action_endpoint()


def add_token_to_endpoint(endpoint: EndpointConfig | None) -> None:
    """Give an action EndpointConfig the Authorization header from the environment,
    unless its configuration already sets one."""
    if endpoint is None:
        return
    token = token_from_env()
    if not token:
        return
    headers = endpoint.headers
    if any(str(k).lower() == HEADER.lower() for k in headers):
        return
    headers[HEADER] = header_value(token)
