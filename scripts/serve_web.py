#!/usr/bin/env python3
"""Serve the demo support page and the chat widget (web/) on localhost.

Only files inside web/ are served, plus the vendored socket.io client from
web/node_modules (run `npm ci` in web/ first) at /vendor/. No directory
listings, no dotfiles, no node_modules or package*.json.

--rasa-url points the demo page at another Rasa server: /config.js gets that
serverUrl and the page's CSP connect-src allows exactly that origin.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import sys
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

WEB = Path(__file__).resolve().parents[1] / "web"
VENDOR = WEB / "node_modules" / "socket.io-client" / "dist"
VENDOR_FILES = {"socket.io.min.js", "socket.io.min.js.map", "socket.io.js", "socket.io.js.map"}
HIDDEN = {"node_modules", "package.json", "package-lock.json"}

MIME = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".md": "text/markdown; charset=utf-8",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".ico": "image/x-icon",
    ".txt": "text/plain; charset=utf-8",
}


def origin_of(url: str) -> tuple[str, str]:
    """(http origin, ws origin) of a server URL; rejects anything but http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    ws = "wss" if parts.scheme == "https" else "ws"
    return f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"


def resolve(url_path: str) -> Path | None:
    """The file a URL path names, or None if it is not ours to serve."""
    path = unquote(urlsplit(url_path).path)
    if "\x00" in path:  # pathlib raises on NUL: answer 404, never drop the connection
        return None
    if path.startswith("/vendor/"):
        name = path[len("/vendor/") :]
        vendored = VENDOR / name
        return vendored if name in VENDOR_FILES and vendored.is_file() else None
    parts = [p for p in path.split("/") if p]
    if any(p.startswith(".") or p in HIDDEN for p in parts):
        return None
    target = (WEB.joinpath(*parts)).resolve()
    if not target.is_relative_to(WEB.resolve()):
        return None
    if target.is_dir():
        target = target / "index.html"  # never a listing
    return target if target.is_file() else None


class Handler(BaseHTTPRequestHandler):
    rasa_url: str | None = None  # set by main()
    server_version = "serve_web"
    sys_version = ""

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def do_GET(self) -> None:
        self._serve(head=False)

    def _serve(self, head: bool) -> None:
        try:
            target = resolve(self.path)
        except (OSError, ValueError):  # an unreadable or odd path is simply not ours
            target = None
        if target is None:
            self._send(HTTPStatus.NOT_FOUND, b"not found\n", "text/plain; charset=utf-8", head)
            return
        body = target.read_bytes()
        if self.rasa_url and target == WEB / "config.js":
            body += self._config_override()
        elif self.rasa_url and target.suffix == ".html":
            body = self._rewrite_csp(body, self.rasa_url)
        self._send(HTTPStatus.OK, body, MIME.get(target.suffix, "application/octet-stream"), head)

    def _config_override(self) -> bytes:
        line = f"\nwindow.CCAssistantConfig.serverUrl = {json.dumps(self.rasa_url)};\n"
        return line.encode()

    def _rewrite_csp(self, body: bytes, rasa_url: str) -> bytes:
        http_origin, ws_origin = origin_of(rasa_url)
        connect = f"connect-src 'self' {http_origin} {ws_origin}"
        # Only inside the CSP meta's content="…", never in prose or comments.
        return re.sub(
            rb'(http-equiv="Content-Security-Policy"\s+content="[^"]*?)connect-src [^;"]*',
            lambda m: m.group(1) + connect.encode(),
            body,
            count=1,
        )

    def _send(self, status: HTTPStatus, body: bytes, ctype: str, head: bool) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Referrer-Policy", "no-referrer")
        # The page must not be framed (clickjacking); the widget embeds by <script>, not <iframe>.
        # frame-ancestors works only in a header, never in the page's CSP <meta>.
        self.send_header("X-Frame-Options", "DENY")
        self.send_header("Content-Security-Policy", "frame-ancestors 'none'")
        self.send_header("Cache-Control", "no-cache")  # a dev server: edits show at once
        self.end_headers()
        if not head:
            self.wfile.write(body)

    def log_message(self, fmt: str, *args: Any) -> None:
        sys.stderr.write(f"serve_web: {self.address_string()} {fmt % args}\n")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--rasa-url", help="Rasa server for the demo page (default: web/config.js)")
    args = ap.parse_args(argv)
    if args.rasa_url:
        origin_of(args.rasa_url)  # fail now, not on the first request
        Handler.rasa_url = args.rasa_url.rstrip("/")
    if not (VENDOR / "socket.io.min.js").is_file():
        sys.stderr.write("serve_web: web/node_modules missing, run `npm ci` in web/\n")
    httpd = ThreadingHTTPServer((args.host, args.port), Handler)
    print(f"serve_web: http://{args.host}:{httpd.server_port}/", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        httpd.serve_forever()


if __name__ == "__main__":
    main()
