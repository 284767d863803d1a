"""The content every server answers from, kept in memory and swapped when it changes.

Each process (Rasa with its NLU term extractor and the console; the action server with
the router) holds one `LiveContent`. A daemon thread reads the change marker (one row,
``content_state.revision``) every ``CONTENT_POLL_SECONDS`` (default 1 s); when it moved,
the thread loads the enabled records, builds a new `Content` (glossary, matcher, FAQ
retriever, the router's Knowledge) and swaps it in with one assignment. Messages never
read the database and never wait for a rebuild: a turn takes `current` once and keeps
that revision to the end, the next turn gets the new one. A failed refresh (database
down) keeps the last content and is retried at the next poll.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy.engine import Engine

from ..settings import get_settings
from .model import Content
from .service import ContentService

logger = logging.getLogger(__name__)

POLL_ENV = "CONTENT_POLL_SECONDS"
DEFAULT_POLL_SECONDS = 1.0

_active: LiveContent | None = None
_lock = threading.Lock()


def poll_seconds() -> float:
    """CONTENT_POLL_SECONDS, at least 0.05 (assistant/settings.py)."""
    return get_settings().content_poll_seconds


class LiveContent:
    def __init__(self, engine: Engine, poll: float | None = None):
        self.service = ContentService(engine)
        self.service.ensure_seeded()
        self._content = self.service.content()
        self.poll = poll_seconds() if poll is None else poll
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.swaps = 0

    @property
    def current(self) -> Content:
        return self._content

    def refresh(self) -> bool:
        """Load and swap in the content if the marker moved; True if it did."""
        marker = self.service.store.marker()
        if marker is None or marker == self._content.revision:
            return False
        started = time.perf_counter()
        content = self.service.content()
        self._content = content  # one assignment: readers see the old or the new, never a mix
        self.swaps += 1
        logger.info(
            "content revision %s loaded in %.0f ms",
            content.revision,
            (time.perf_counter() - started) * 1000,
        )
        return True

    def start(self) -> LiveContent:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="content-watcher", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.poll):
            try:
                self.refresh()
            except Exception:  # keep serving the last content; retry at the next poll
                logger.exception("content refresh failed")


def install(engine: Engine) -> LiveContent:
    """This process's live content (created and started once)."""
    global _active
    with _lock:
        if _active is None:
            _active = LiveContent(engine).start()
        return _active


def active() -> LiveContent | None:
    return _active


def uninstall() -> None:
    global _active
    with _lock:
        if _active is not None:
            _active.stop()
        _active = None
