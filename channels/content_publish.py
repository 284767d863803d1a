"""The content studio's work behind its routes (content_studio.py, content_transfer.py):
the NLU cache for preview / test all, the background import jobs, the parsing of a
request's changes and questions, and ``Studio``, one per process: test all, then publish
all or nothing (docs/content-studio.md).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sanic.request import Request

from assistant.content import live as live_content
from assistant.content import preview
from assistant.content.model import KINDS, clean
from assistant.content.service import content_of
from assistant.content.store import Change, Conflict, NotFound, Rejected
from assistant.normalize import clean_user_text

from .live import LiveChat

logger = logging.getLogger(__name__)

MAX_CHANGES = 200  # an edit publishes a few; imports go through /import
MAX_PREVIEW_QUESTIONS = 20
MAX_QUESTION = 200
PARSE_CACHE = 50_000

Progress = Callable[[str, int, int], None]


@dataclass
class Job:
    """A background import: who started it, where it is, and its outcome."""

    id: str
    kind: str
    username: str
    started: float = field(default_factory=time.time)
    status: str = "running"  # running → done | failed
    phase: str = "queued"  # queued, reading, testing, comparing, applying, reloading, done
    done: int = 0
    total: int = 0
    finished: float | None = None
    http_status: int | None = None
    result: dict[str, Any] | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def progress(self, phase: str, done: int = 0, total: int = 0) -> None:
        with self._lock:  # called from the event loop and from worker threads
            self.phase, self.done, self.total = phase, done, total

    def finish(self, status: int, result: dict[str, Any]) -> None:
        with self._lock:
            self.http_status, self.result = status, result
            self.status = "done" if status < 500 else "failed"
            self.phase, self.finished = "done", time.time()

    def public(self) -> dict[str, Any]:
        with self._lock:
            return {
                "id": self.id,
                "kind": self.kind,
                "status": self.status,
                "phase": self.phase,
                "progress": {"done": self.done, "total": self.total},
                "started_by": self.username,
                "started_at": self.started,
                "finished_at": self.finished,
                "http_status": self.http_status,
                "result": self.result,
            }


class Analyzer:
    """NLU results for preview / test all, from this server's model (cached per text)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[Any, str], preview.Parsed] = {}

    def _tokens(self, text: str) -> Any:
        try:
            return preview.tokens(text)
        except Exception:  # no GiNZA view: the surface matcher alone
            logger.exception("GiNZA tokens unavailable for preview")
            return None

    async def parse_all(
        self, app: Any, texts: list[str], progress: Callable[[int, int], None] | None = None
    ) -> dict[str, preview.Parsed]:
        agent = getattr(app.ctx, "agent", None)
        model = getattr(agent, "model_id", None)
        out: dict[str, preview.Parsed] = {}
        for n, text in enumerate(texts):
            if progress is not None and n % 50 == 0:
                progress(n, len(texts))
            clean_text = clean_user_text(text)
            key = (model, clean_text)
            parsed = self._cache.get(key)
            if parsed is None:
                latest: dict[str, Any] = {}
                if agent is not None and agent.is_ready():
                    latest = await agent.parse_message(clean_text)
                parsed = preview.Parsed(clean_text, latest, self._tokens(clean_text))
                if len(self._cache) < PARSE_CACHE:
                    self._cache[key] = parsed
                await asyncio.sleep(0)  # let customers' messages through between parses
            out[text] = parsed
        return out


def changes_of(body: dict[str, Any]) -> list[Change]:
    raw = body.get("changes")
    if not isinstance(raw, list) or not raw or len(raw) > MAX_CHANGES:
        raise ValueError("changes")
    out = []
    for c in raw:
        if not isinstance(c, dict) or c.get("kind") not in KINDS:
            raise ValueError("changes")
        item_id, expected = c.get("id"), c.get("expected")
        if (item_id is not None and not isinstance(item_id, int)) or (
            expected is not None and not isinstance(expected, int)
        ):
            raise ValueError("changes")
        data = c.get("data")
        if data is not None and not isinstance(data, dict):
            raise ValueError("changes")
        enabled = c.get("enabled")
        if data is None and (item_id is None or not isinstance(enabled, bool)):
            raise ValueError("changes")
        action = "" if data is not None else ("enable" if enabled else "disable")
        out.append(
            Change(
                c["kind"],
                clean(c["kind"], data) if data is not None else None,
                item_id,
                enabled if isinstance(enabled, bool) else None,
                expected,
                action,
            )
        )
    return out


def questions_of(body: dict[str, Any], changes: list[Change]) -> list[str]:
    raw = body.get("questions") or []
    qs = (
        [str(q)[:MAX_QUESTION] for q in raw if isinstance(q, str) and q.strip()][
            :MAX_PREVIEW_QUESTIONS
        ]
        if isinstance(raw, list)
        else []
    )
    for ch in changes:
        if ch.kind == "term" and ch.data and ch.data.get("term"):
            qs.insert(0, f"{ch.data['term']}とは?")
    return list(dict.fromkeys(qs))


def confirmed_of(request: Request, body: dict[str, Any]) -> bool:
    """A supervisor's confirmation of a publish that breaks answers."""
    return body.get("confirm") is True or request.args.get("confirm") == "1"


class Studio:
    """The studio in this process: the live content (installed at server start), the NLU
    cache, the import jobs (finished ones kept for polling, running ones referenced so
    their tasks stay alive)."""

    def __init__(self, live: LiveChat) -> None:
        self.live = live
        self.analyzer = Analyzer()
        self.holder: dict[str, Any] = {}
        self.jobs: dict[str, Job] = {}
        self.tasks: dict[str, asyncio.Task[None]] = {}

    async def install(self) -> None:
        self.holder["live"] = await self.live.db(live_content.install, self.live.store.engine)

    async def content(self) -> live_content.LiveContent:
        if "live" not in self.holder:
            await self.install()
        lc: live_content.LiveContent = self.holder["live"]
        return lc

    def warm_up_once(self, app: Any) -> None:
        if "warm" not in self.holder:
            self.holder["warm"] = asyncio.get_running_loop().create_task(self.warm_up(app))

    async def warm_up(self, app: Any) -> None:
        """Parse every stored and eval question once (in the background, yielding between
        parses) so that the first "test all" takes about a second, not several."""
        lc = await self.content()
        cases = preview.all_cases(lc.current, lc.current)
        await self.analyzer.parse_all(app, [c.text for c in cases])

    async def evaluate(
        self,
        app: Any,
        changes: list[Change],
        questions: list[str],
        full: bool,
        progress: Progress | None = None,
    ) -> dict[str, Any]:
        lc = await self.content()
        snap = await self.live.db(lc.service.snapshot)
        old = await self.live.db(content_of, snap)
        new, problems = await self.live.db(lc.service.draft, changes, snap)
        if problems:  # an invalid draft is not run (it may not even make an answer)
            return {"problems": problems, "report": preview.TestAll(), "revision": snap.revision}
        cases = (
            preview.all_cases(old, new, questions)
            if full
            else [preview.Case(q, None, "preview") for q in questions]
        )
        started = time.perf_counter()
        asking = (lambda n, total: progress("testing", n, total)) if progress else None
        comparing = (lambda n, total: progress("comparing", n, total)) if progress else None
        parsed = await self.analyzer.parse_all(app, [c.text for c in cases], asking)
        report = await self.live.db(
            preview.test_all, cases, parsed.__getitem__, old, new, comparing
        )
        report.seconds = time.perf_counter() - started
        return {"problems": problems, "report": report, "revision": snap.revision}

    async def publish_result(
        self,
        app: Any,
        agent: Any,
        client: str,
        changes: list[Change],
        questions: list[str],
        batch: str | None,
        note: str | None,
        confirmed: bool,
        progress: Progress | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """Test all, then apply all or nothing: (HTTP status, JSON body)."""
        try:
            result = await self.evaluate(app, changes, questions, full=True, progress=progress)
        except NotFound:
            return 404, {"error": "not_found"}
        report: preview.TestAll = result["report"]
        if result["problems"]:
            return 400, {
                "error": "invalid",
                "problems": result["problems"],
                "test_all": report.public(),
            }
        if report.regressions and not (confirmed and agent.can("supervisor")):
            return 409, {
                "error": "regressions",
                "test_all": report.public(),
                "needs": "supervisor" if not agent.can("supervisor") else "confirm",
            }
        lc = await self.content()
        if progress:
            progress("applying", 0, len(changes))
        try:
            revision = await self.live.db(
                lc.service.apply, changes, agent.username, batch, note, client
            )
        except Conflict as exc:
            return 409, {"error": "conflict", "current": exc.current.public()}
        except NotFound:
            return 404, {"error": "not_found"}
        except Rejected as exc:
            return 400, {"error": "invalid", "problems": exc.problems}
        if report.regressions:
            await self.live.db(
                self.live.audit.record,
                "content_regression_confirmed",
                agent.username,
                None,
                client,
                f"rev {revision}: {len(report.regressions)} regression(s)",
            )
        if progress:
            progress("reloading", len(changes), len(changes))
        await self.live.db(lc.refresh)  # this server at once; the others at their next poll
        return 200, {"revision": revision, "test_all": report.public()}
