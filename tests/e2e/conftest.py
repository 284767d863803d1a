"""Real servers and a real browser for the widget tests.

Rasa (REST + the socket.io allowlist channel) and the action server come from
devtools/launch.py; scripts/serve_web.py serves the demo page. The page's
origin is the only one CHAT_ALLOWED_ORIGINS lets in. The browser is Debian's
headless chromium (scripts/install_browser.sh), never a Playwright download.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from devtools.launch import MODEL, REPO, free_port, start_servers
from tests.support.ci import unavailable

CHROMIUM = Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SOCKET_IO = REPO / "web" / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
SCREENSHOTS = REPO / "artifacts" / "screenshots"


class WebServer:
    def __init__(self, rasa_url: str, workdir: Path, port: int | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / f"serve_web_{self.port}.log"
        with open(self.log, "wb") as out:  # the child keeps its own copy of the descriptor
            self.popen = subprocess.Popen(
                [
                    sys.executable,
                    str(REPO / "scripts" / "serve_web.py"),
                    "--port",
                    str(self.port),
                    "--rasa-url",
                    rasa_url,
                ],
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"serve_web did not start:\n{self.log.read_text(errors='replace')}")

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            self.popen.wait(10)


@pytest.fixture(scope="session")
def web_port() -> int:
    """Chosen before Rasa starts: Rasa's allowlist needs the page's origin."""
    return free_port()


@pytest.fixture(scope="session")
def bot(tmp_path_factory, web_port):
    if not MODEL.exists():
        unavailable("no trained model (make train)")
    if not SOCKET_IO.exists():
        unavailable("web/node_modules missing (scripts/install_browser.sh runs npm ci)")
    servers = start_servers(
        workdir=tmp_path_factory.mktemp("bot"),
        env_extra={"CHAT_ALLOWED_ORIGINS": f"http://127.0.0.1:{web_port}"},
        credentials=REPO / "credentials.yml",
    )
    yield servers
    servers.stop()


@pytest.fixture(scope="session")
def web(bot, web_port):
    server = WebServer(bot.rasa_url, bot.workdir, web_port)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def other_web(bot):
    """The same page from an origin the allowlist does not contain."""
    server = WebServer(bot.rasa_url, bot.workdir)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} missing (scripts/install_browser.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


class PageProblems:
    """JavaScript dialogs, page errors and CSP violations seen by one page."""

    def __init__(self, page):
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda exc: self.errors.append(f"pageerror: {exc}"))
        page.on("console", self._console)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, msg) -> None:
        if msg.type == "error" and "Content Security Policy" in msg.text:
            self.errors.append(f"CSP: {msg.text}")


def new_page(browser, width: int = 1280, height: int = 800, **context_args):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="ja-JP",
        timezone_id="Asia/Tokyo",
        **context_args,
    )
    page = context.new_page()
    page.set_default_timeout(20_000)
    return context, page, PageProblems(page)


@pytest.fixture
def page(browser, web):
    """A fresh browser profile (empty localStorage) on the demo page."""
    context, page, problems = new_page(browser)
    page.goto(web.url + "/")
    yield page
    context.close()
    assert not problems.dialogs, f"a dialog fired: {problems.dialogs}"
    assert not problems.errors, problems.errors


@pytest.fixture
def mobile_page(browser, web):
    context, page, problems = new_page(browser, 390, 844, is_mobile=True, has_touch=True)
    page.goto(web.url + "/")
    yield page
    context.close()
    assert not problems.dialogs, f"a dialog fired: {problems.dialogs}"
    assert not problems.errors, problems.errors


@pytest.fixture
def shot():
    """shot(page, name): a screenshot into artifacts/screenshots/ (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return take


@pytest.fixture
def new_browser_page(browser):
    """For tests that need their own page (another origin, another viewport)."""
    made = []

    def make(url: str, **kwargs):
        context, page, problems = new_page(browser, **kwargs)
        made.append((context, problems))
        page.goto(url)
        return page

    yield make
    for context, problems in made:
        context.close()
        assert not problems.dialogs, f"a dialog fired: {problems.dialogs}"
