"""Memory hooks of both servers (docs/memory.md), from the environment:

* `MALLOC_TRIM_EVERY` (seconds; scripts/run.sh and the launcher set 30): a daemon
  thread calls glibc's malloc_trim(0) that often, so memory freed in the arenas goes
  back to the system (with MALLOC_ARENA_MAX=2 it halved the Rasa process's growth);
* `MEMTRACE_DIR`: the first SIGUSR1 starts tracemalloc, the next ones write snapshots
  there — used only by `scripts/soak.py --trace`. Beside each snapshot a `.json`
  holds the gauges tracemalloc cannot see (`gauges()`: glibc's heap in use and free,
  SQLite's own allocations, threads, RssAnon), so growth in C shows too, and the
  counts other modules register in `assistant.gauges` (the agent console's open event
  streams: channels/live.py) — read only through this signal, never an endpoint.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from assistant.gauges import read_counts
from assistant.settings import get_settings

MEMTRACE_ENV = "MEMTRACE_DIR"
MALLOC_TRIM_ENV = "MALLOC_TRIM_EVERY"


def install_memory_hooks() -> None:
    """Start the malloc_trim thread and the snapshot signal handler if configured."""
    trim = get_settings().malloc_trim_every
    if trim > 0:
        _start_trimmer(trim)
    install_snapshot_handler()


def install_snapshot_handler() -> None:
    """With MEMTRACE_DIR set: the first SIGUSR1 starts tracemalloc (MEMTRACE_FRAMES
    frames, default 12: tracing from the start would slow start-up and every message
    several times), every later one writes a snapshot to MEMTRACE_DIR/<pid>-<n>.snap —
    what was allocated since tracing began and is still alive. A `<pid>-0.snap` marker
    (empty) says tracing started. `MEMTRACE_FRAMES=0`: no tracing, only the gauges
    beside empty snapshots (glibc, pymalloc, SQLite at full speed). Without
    MEMTRACE_DIR: nothing."""
    settings = get_settings()
    folder = settings.memtrace_dir
    if not folder:
        return
    import signal
    import tracemalloc

    frames = settings.memtrace_frames  # 0: gauges only, no tracing
    counter = [0]

    def on_signal(signum: int, frame: Any) -> None:
        import gc

        # numbered before the file appears: the caller sends the next signal as soon as
        # it sees the file, and that one may run before this handler has returned
        n, counter[0] = counter[0], counter[0] + 1
        path = Path(folder) / f"{os.getpid()}-{n}.snap"
        gc.collect()
        if n == 0:
            if frames > 0:
                tracemalloc.start(frames)
            path.write_bytes(b"")
        else:
            if tracemalloc.is_tracing():
                tracemalloc.take_snapshot().dump(str(path) + ".tmp")
            else:
                Path(str(path) + ".tmp").write_bytes(b"")  # gauges only
            Path(str(path) + ".json").write_text(json.dumps(gauges()))
            os.replace(str(path) + ".tmp", path)

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


def gauges() -> dict[str, Any]:
    """Memory figures from below Python: glibc's heap (`mallinfo2`: bytes in use and
    free in the arenas, i.e. fragmentation), SQLite's own allocations
    (`sqlite3_memory_used`: page caches, schemas, statements of every connection),
    Python's small-object allocator (`pymalloc_stats`: it maps its arenas itself,
    outside glibc's heap),
    the number of threads, the traced Python heap and RssAnon. Missing ones are left out."""
    import ctypes
    import tracemalloc

    out: dict[str, Any] = {"threads": threading.active_count()}
    if tracemalloc.is_tracing():
        out["traced"] = tracemalloc.get_traced_memory()[0]
    try:
        libc = ctypes.CDLL("libc.so.6")

        class MallInfo2(ctypes.Structure):
            _fields_ = [
                (name, ctypes.c_size_t)
                for name in (
                    "arena",
                    "ordblks",
                    "smblks",
                    "hblks",
                    "hblkhd",
                    "usmblks",
                    "fsmblks",
                    "uordblks",
                    "fordblks",
                    "keepcost",
                )
            ]

        libc.mallinfo2.restype = MallInfo2
        info = libc.mallinfo2()
        out["malloc_in_use"] = info.uordblks + info.hblkhd
        out["malloc_free"] = info.fordblks
    except (OSError, AttributeError):
        pass
    try:
        import sqlite3  # noqa: F401 — loads the library the process uses

        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        out["sqlite"] = lib.sqlite3_memory_used()
    except (OSError, AttributeError):
        pass
    out.update(pymalloc_stats())
    out.update(read_counts())  # registered counts (assistant/gauges.py)
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("RssAnon:"):
                out["rss_anon"] = int(line.split()[1]) * 1024
    except OSError:
        pass
    return out


def pymalloc_stats() -> dict[str, int]:
    """pymalloc's arenas (bytes mapped) and the bytes in its allocated blocks, from
    `sys._debugmallocstats()` (it prints to fd 2: captured for the call). Diagnosis
    only (the snapshot handler): other threads' stderr in that instant is lost."""
    import re
    import sys
    import tempfile

    out: dict[str, int] = {}
    try:
        with tempfile.TemporaryFile() as tmp:
            saved = os.dup(2)
            try:
                sys.stderr.flush()
                os.dup2(tmp.fileno(), 2)
                sys._debugmallocstats()
            finally:
                os.dup2(saved, 2)
                os.close(saved)
            tmp.seek(0)
            text = tmp.read().decode("ascii", "replace")
    except (OSError, AttributeError):
        return out
    arenas = re.search(r"(\d+) arenas \* (\d+) bytes/arena", text)
    used = re.search(r"# bytes in allocated blocks\s*=\s*([\d,]+)", text)
    if arenas:
        out["pymalloc_arenas"] = int(arenas.group(1)) * int(arenas.group(2))
    if used:
        out["pymalloc_used"] = int(used.group(1).replace(",", ""))
    return out
