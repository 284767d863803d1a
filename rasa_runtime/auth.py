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
    env = os.environ if environ is None else environ
    return (env.get(TOKEN_ENV) or "").strip()


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


def connect_host(bind_host: str) -> str:
    """Where a local client reaches a server bound to `bind_host` (URL form)."""
    host = (bind_host or "").strip()
    if host in ("", "0.0.0.0", "*"):
        return DEFAULT_HOST
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


def default_action_endpoint_url(environ: Mapping[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    host = connect_host(env.get(HOST_ENV) or DEFAULT_HOST)
    port = (env.get(PORT_ENV) or "").strip() or str(DEFAULT_PORT)
    return f"http://{host}:{port}/webhook"


def set_default_action_endpoint_url() -> None:
    """endpoints.yml reads ${ACTION_ENDPOINT_URL}; derive it from ACTIONS_HOST/PORT
    when unset, so a plain `python -m rasa_runtime run` finds the action server."""
    if not (os.environ.get(URL_ENV) or "").strip():
        os.environ[URL_ENV] = default_action_endpoint_url()


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
