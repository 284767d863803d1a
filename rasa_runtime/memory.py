"""Memory hooks of both servers (docs/memory.md), from the environment:

* `MALLOC_TRIM_EVERY` (seconds; scripts/run.sh and the launcher set 30): a daemon
  thread calls glibc's malloc_trim(0) that often, so memory freed in the arenas goes
  back to the system (with MALLOC_ARENA_MAX=2 it halved the Rasa process's growth);
* `MEMTRACE_DIR`: the first SIGUSR1 starts tracemalloc, the next ones write snapshots
  there — used only by `scripts/soak.py --trace`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

MEMTRACE_ENV = "MEMTRACE_DIR"
MALLOC_TRIM_ENV = "MALLOC_TRIM_EVERY"


def install_memory_hooks() -> None:
    """Start the malloc_trim thread and the snapshot signal handler if configured."""
    trim = (os.environ.get(MALLOC_TRIM_ENV) or "").strip()
    if trim and float(trim) > 0:
        _start_trimmer(float(trim))
    install_snapshot_handler()


def install_snapshot_handler() -> None:
    """With MEMTRACE_DIR set: the first SIGUSR1 starts tracemalloc (MEMTRACE_FRAMES
    frames, default 12: tracing from the start would slow start-up and every message
    several times), every later one writes a snapshot to MEMTRACE_DIR/<pid>-<n>.snap —
    what was allocated since tracing began and is still alive. A `<pid>-0.snap` marker
    (empty) says tracing started. Without MEMTRACE_DIR: nothing."""
    folder = os.environ.get(MEMTRACE_ENV)
    if not folder:
        return
    import signal
    import tracemalloc

    frames = int(os.environ.get("MEMTRACE_FRAMES") or 12)
    counter = [0]

    def on_signal(signum: int, frame: Any) -> None:
        import gc

        path = Path(folder) / f"{os.getpid()}-{counter[0]}.snap"
        if not tracemalloc.is_tracing():
            gc.collect()
            tracemalloc.start(frames)
            path.write_bytes(b"")
        else:
            gc.collect()
            tracemalloc.take_snapshot().dump(str(path) + ".tmp")
            os.replace(str(path) + ".tmp", path)
        counter[0] += 1

    signal.signal(signal.SIGUSR1, on_signal)


def _start_trimmer(every: float) -> None:
    import ctypes
    import threading
    import time

    try:
        libc = ctypes.CDLL("libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to trim
        return

    def loop() -> None:
        while True:
            time.sleep(every)
            trim(0)

    threading.Thread(target=loop, name="malloc-trim", daemon=True).start()
