"""scripts/serve_web.py: MIME types, the vendored client, nothing else served."""

from __future__ import annotations

import pytest
import requests

from devtools.launch import free_port

from .conftest import SOCKET_IO, WebServer


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    if not SOCKET_IO.exists():
        pytest.skip("web/node_modules missing (scripts/install_browser.sh)")
    server = WebServer("http://127.0.0.1:5999", tmp_path_factory.mktemp("web"), free_port())
    yield server.url
    server.stop()


@pytest.mark.parametrize(
    "path, ctype",
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/widget.js", "text/javascript; charset=utf-8"),
        ("/widget.css", "text/css; charset=utf-8"),
        ("/config.js", "text/javascript; charset=utf-8"),
        ("/favicon.svg", "image/svg+xml"),
        ("/vendor/socket.io.min.js", "text/javascript; charset=utf-8"),
    ],
)
def test_serves_assets_with_their_mime_type(served, path, ctype):
    r = requests.get(served + path, timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype
    assert r.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    [
        "/node_modules/",
        "/node_modules/socket.io-client/package.json",
        "/package.json",
        "/package-lock.json",
        "/vendor/",
        "/vendor/../../Makefile",
        "/../credentials.yml",
        "/%2e%2e/credentials.yml",
        "/.gitignore",
        "/nothing-here.js",
        "/%00",  # used to close the connection without an answer
        "/index.html%00.js",
    ],
)
def test_nothing_outside_web_and_no_listings(served, path):
    # Raw path: requests would normalise "..".
    r = requests.get(served + path, timeout=5)
    assert r.status_code == 404


def test_rasa_url_sets_config_and_csp(served):
    config = requests.get(served + "/config.js", timeout=5).text
    assert config.rstrip().endswith('window.CCAssistantConfig.serverUrl = "http://127.0.0.1:5999";')
    page = requests.get(served + "/", timeout=5).text
    assert "connect-src 'self' http://127.0.0.1:5999 ws://127.0.0.1:5999;" in page
    assert "script-src 'self';" in page and "unsafe-inline" not in page


def test_a_vendor_file_that_is_missing_is_a_404_not_a_dropped_connection(served, monkeypatch):
    import importlib.util

    from devtools.launch import REPO

    spec = importlib.util.spec_from_file_location("serve_web", REPO / "scripts" / "serve_web.py")
    serve_web = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve_web)
    monkeypatch.setattr(serve_web, "VENDOR", REPO / "web" / "no-such-folder")
    assert serve_web.resolve("/vendor/socket.io.min.js") is None  # listed, but not there
    assert serve_web.resolve("/%00") is None


def test_the_demo_page_cannot_be_framed(served):
    """Clickjacking: the page says no to every frame (frame-ancestors works only as a header)."""
    r = requests.get(served + "/", timeout=10)
    assert r.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in r.headers["Content-Security-Policy"]
