"""`python -m rasa_runtime.actions --port 5055 --actions actions`: the rasa-sdk
action server, bound to loopback and refusing calls without the shared token.

rasa-sdk 3.6 binds 0.0.0.0 (SANIC_HOST) and has no authentication hook, so this
builds the same Sanic app (`rasa_sdk.endpoint.create_app`, same plugins, same
logging) and adds a request middleware: every path but /health needs
`Authorization: Bearer $ACTION_SERVER_TOKEN` (401 without, 403 with another
token). The server does not start without a token. See rasa_runtime/auth.py.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from assistant.settings import check_or_exit
from rasa_runtime import auth
from rasa_runtime.quiet import quiet_third_party_warnings

logger = logging.getLogger("rasa_runtime.actions")

# Sanic closes a connection idle this long (its default, set here so the pair is in
# one place): Rasa's pool (rasa_runtime/action_pool.py) lets its idle connections go
# earlier, after ACTION_KEEPALIVE_SECONDS (≤ 4.5), so it never sends into one being closed.
KEEP_ALIVE_TIMEOUT = 5


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from rasa_sdk.endpoint import create_argument_parser

    settings = check_or_exit("rasa_runtime.actions")  # a bad value: one line, no traceback
    parser = create_argument_parser()  # --port, --actions, --cors, --ssl-*, logging flags
    parser.description = "rasa-sdk action server: loopback by default, token required"
    parser.add_argument(
        "--host",
        default=settings.actions_host,
        help=f"address to bind (default: ${auth.HOST_ENV} or {auth.DEFAULT_HOST})",
    )
    parser.set_defaults(port=settings.actions_port, actions="actions")
    args: argparse.Namespace = parser.parse_args(argv)
    return args


def add_token_check(app: Any, token: str) -> None:
    """Refuse every request but /health without `Authorization: Bearer <token>`."""
    from sanic import response

    @app.middleware("request")
    async def require_token(request: Any) -> Any:
        if request.path in auth.OPEN_PATHS:
            return None
        header = request.headers.get(auth.HEADER)
        if not header:
            return response.json(
                {"error": "authentication required"},
                status=401,
                headers={"WWW-Authenticate": f'{auth.SCHEME} realm="action-server"'},
            )
        if not auth.authorized(header, token):
            logger.warning(
                "refused %s %s from %s: wrong token", request.method, request.path, request.ip
            )
            return response.json({"error": "invalid token"}, status=403)
        return None


def create_app(
    actions: str, token: str, cors: str | list[str] | None = None, auto_reload: bool = False
) -> Any:
    """rasa-sdk's app (actions registered, plugins attached) with the token check."""
    from rasa_sdk.endpoint import create_app as sdk_create_app
    from rasa_sdk.plugin import plugin_manager

    app = sdk_create_app(actions, cors_origins=cors or "", auto_reload=auto_reload)
    app.config.KEEP_ALIVE = True
    app.config.KEEP_ALIVE_TIMEOUT = KEEP_ALIVE_TIMEOUT
    plugin_manager().hook.attach_sanic_app_extensions(app=app)
    add_token_check(app, auth.check_token(token))
    start_services_with(app, actions)
    return app


def prompt_close_protocol() -> type:
    """Sanic's HttpProtocol without the 15 s afterlife of closed connections.

    Rasa 3.6 opens a new connection for every action call (a new aiohttp session per
    request). Sanic 21.12 closes each with `close()`, which also schedules `abort()`
    `GRACEFUL_SHUTDOWN_TIMEOUT` (15 s) later, even when the client has already gone;
    the timer keeps the protocol, its connection info, buffers and last request alive
    that long. Under traffic that is ~15 s × calls per second of dead connections
    (400-1,500 in the soak, a few MiB), growing with the rate, and the arenas they pin
    stay when the rate falls: the action server's RSS rose in steps when the load
    changed (docs/memory.md). Here a connection the client has closed is not kept:
    the pending abort is cancelled when the connection is lost, and none is scheduled
    after that (what remains is Sanic's timeout check, at most KEEP_ALIVE_TIMEOUT / 2
    = 2.5 s). A connection still open (a slow client, a shutdown) keeps Sanic's
    timeout."""
    from sanic.server.protocols.http_protocol import HttpProtocol

    class PromptCloseHttpProtocol(HttpProtocol):
        __slots__ = ("_abort_timer", "_lost")  # HttpProtocol has slots

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._lost = False
            self._abort_timer: Any = None

        def close(self, timeout: float | None = None) -> None:
            if self._lost:  # the client has gone: nothing to wait for
                return
            if self.transport:
                self.transport.close()
                if timeout is None:
                    timeout = self.app.config.GRACEFUL_SHUTDOWN_TIMEOUT
                self._abort_timer = self.loop.call_later(timeout, self.abort)

        def connection_lost(self, exc: Exception | None) -> None:
            self._lost = True
            super().connection_lost(exc)
            if self._abort_timer is not None:
                self._abort_timer.cancel()  # drops the timer's reference to self
                self._abort_timer = None

    return PromptCloseHttpProtocol


def start_services_with(app: Any, actions: str) -> None:
    """Call the actions package's `services.start()` once the server runs (webhook
    delivery, retries of tickets left pending): importing the actions starts nothing."""
    import importlib

    name = f"{actions}.services"
    try:
        services = importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name != name:
            raise
        return

    async def start(app: Any, loop: Any) -> None:
        services.start()

    app.register_listener(start, "after_server_start")


def main(argv: list[str] | None = None) -> None:
    check_or_exit("rasa_runtime.actions")
    quiet_third_party_warnings()
    from rasa_runtime.memory import install_memory_hooks

    install_memory_hooks()  # MALLOC_TRIM_EVERY, MEMTRACE_DIR (docs/memory.md)
    args = parse_args(argv)
    try:
        token = auth.check_token(auth.token_from_env())
    except ValueError as e:
        sys.exit(f"rasa_runtime.actions: {e}")

    from rasa_sdk import utils
    from rasa_sdk.constants import APPLICATION_ROOT_LOGGER_NAME
    from rasa_sdk.endpoint import create_ssl_context

    # As rasa_sdk.__main__ does.
    logging.getLogger("matplotlib").setLevel(logging.WARN)
    utils.configure_colored_logging(args.loglevel)
    utils.configure_file_logging(
        logging.getLogger(APPLICATION_ROOT_LOGGER_NAME),
        args.log_file,
        args.loglevel,
        args.logging_config_file,
    )
    utils.update_sanic_log_level()

    app = create_app(args.actions, token, args.cors, args.auto_reload)
    ssl_context = create_ssl_context(args.ssl_certificate, args.ssl_keyfile, args.ssl_password)
    protocol = "https" if ssl_context else "http"
    logger.info(
        f"Action server on {protocol}://{auth.connect_host(args.host)}:{args.port} "
        f"(bound to {args.host}; token required)"
    )
    app.run(
        args.host,
        args.port,
        ssl=ssl_context,
        workers=utils.number_of_sanic_workers(),
        auto_reload=False,
        protocol=prompt_close_protocol(),
    )


if __name__ == "__main__":
    main()
