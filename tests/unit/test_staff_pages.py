"""The staff pages' scripts (web/agent): one request helper (staff-api.js) that every
page loads before its own script, no page with a copy of its own, no inline script and
no innerHTML (the pages run under a strict CSP and render server text as text)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

WEB = Path(__file__).resolve().parents[2] / "web" / "agent"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)
# login.js posts the log-in form before there is a session: the one other fetch.
OWN_FETCH_ALLOWED = {"staff-api.js", "login.js"}
HTML_SINK = re.compile(r"\.(innerHTML|outerHTML)\s*\+?=|insertAdjacentHTML\(|document\.write\(")
OWN_FETCH = re.compile(r"\bfetch\(")
STAFF_PAGES = ["index.html", "content.html", "inbox.html", "analytics.html"]


def scripts(page: str) -> list[str]:
    html = (WEB / page).read_text(encoding="utf-8")
    found = []
    for attrs, body in SCRIPT.findall(html):
        assert not body.strip(), f"{page}: inline script"
        src = re.search(r'src="([^"]+)"', attrs)
        assert src, f"{page}: script without src"
        assert src.group(1).startswith("/agent/"), f"{page}: not same-origin: {src.group(1)}"
        found.append(src.group(1).rsplit("/", 1)[-1])
    return found


@pytest.mark.parametrize("page", STAFF_PAGES)
def test_every_staff_page_loads_the_shared_helper_first(page):
    names = [n for n in scripts(page) if n != "chart.umd.js"]
    assert names[0] == "staff-api.js", names


def test_only_the_shared_helper_calls_fetch():
    offenders = [
        p.name
        for p in WEB.glob("*.js")
        if p.name not in OWN_FETCH_ALLOWED and OWN_FETCH.search(p.read_text("utf-8"))
    ]
    assert offenders == []


def test_no_page_script_assigns_html():
    offenders = [p.name for p in WEB.glob("*.js") if HTML_SINK.search(p.read_text("utf-8"))]
    assert offenders == []


@pytest.mark.parametrize(
    "pattern, text",
    [
        (OWN_FETCH, "const res = await fetch(path, opts);"),
        (HTML_SINK, "box.innerHTML = item.label;"),
        (HTML_SINK, "box.innerHTML += x;"),
        (HTML_SINK, 'li.insertAdjacentHTML("beforeend", x);'),
    ],
)
def test_the_checks_can_fail(pattern, text):
    assert pattern.search(text)
    assert not pattern.search("node.textContent = String(text); // no innerHTML anywhere")
