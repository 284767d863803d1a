"""Soak: does memory stay flat under traffic? (issue 21, docs/memory.md)

    python scripts/soak.py [--messages 100000 | --seconds 600] [--clients 8] [--trace]
    python scripts/soak.py --in-process [--messages 3000] [--max-slope 100]

Stack mode (default) starts the action server and Rasa as `make run` does (loopback, free
ports, a temporary folder for the databases; or `--rasa-url` with `--rasa-pid` /
`--actions-pid` for a stack already running), sends messages over REST from `--clients`
threads (a new conversation every `--turns` messages), samples VmRSS and RssAnon of both
server processes and prints a table and the slope after warm-up in KiB per 1,000
messages. The texts are the eval questions with `--unseen` of them carrying a word made
up for the message (katakana names, numbers, typos): devtools/soak.py.

`--trace` starts the servers with MEMTRACE_DIR: at the end of warm-up a SIGUSR1 starts
tracemalloc in both, at the end another writes a snapshot; the script prints, by
traceback, what was allocated since warm-up and is still alive in each process.
`--env K=V` passes settings to both servers (e.g. MALLOC_ARENA_MAX=2, MALLOC_TRIM_EVERY=10).

`--sse N` adds N agent-console clients to the traffic: each logs in as its own agent
(created with the staff CLI) and churns the console's event stream (/agent/api/events):
open it, read `--sse-events` events, drop the connection, again — thousands of streams
while the messages flow. The RssAnon slope is then also given per 1,000 streams, and
the Rasa process's count of open streams (its listener table, a gauge read with
`--trace`/`--gauges-only`, never an endpoint) must be back to 0 at the end.

`--windows` prints the slopes over sub-windows too (default: halves and quarters of
the messages after warm-up), so warm-up that flattens shows apart from steady growth.

`--in-process` loads the model in this process and parses the texts with
`agent.parse_message` under tracemalloc (no servers, no HTTP): the traced heap's slope and
the top growth by traceback; with `--max-slope` it exits 1 above that bound (the short
soak in tests/unit/test_memory.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devtools.soak import (  # noqa: E402
    SoakTexts,
    rss_kib,
    slope,
    window_bounds,
    window_slopes,
)
from rasa_runtime.memory import MEMTRACE_ENV  # noqa: E402


# --- stack ------------------------------------------------------------------------------
class Traffic:
    def __init__(self, url: str, texts: SoakTexts, total: int, seconds: float, turns: int) -> None:
        self.url = url
        self.texts = texts
        self.total = total
        self.deadline = time.monotonic() + seconds if seconds else None
        self.turns = turns
        self.sent = 0
        self.errors = 0
        self.statuses: dict[int, int] = {}
        self.sessions = 0  # socket.io sessions opened (--socketio)
        self.streams = 0  # agent console event streams opened and read (--sse)
        self.stream_errors = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

    def finished(self) -> bool:
        with self.lock:
            return bool(
                self.stop.is_set()
                or (self.total and self.sent >= self.total)
                or (self.deadline and time.monotonic() > self.deadline)
            )

    def next_text(self) -> str | None:
        with self.lock:
            if (
                self.stop.is_set()
                or (self.total and self.sent >= self.total)
                or (self.deadline and time.monotonic() > self.deadline)
            ):
                return None
            self.sent += 1
            return next(self.texts)

    def client(self) -> None:
        import requests

        session = requests.Session()
        sender, turn = "", self.turns
        while True:
            text = self.next_text()
            if text is None:
                return
            if turn >= self.turns:
                sender, turn = f"soak-{uuid.uuid4().hex[:12]}", 0
            turn += 1
            try:
                r = session.post(self.url, json={"sender": sender, "message": text}, timeout=60)
                code = r.status_code
            except requests.RequestException:
                code = -1
            with self.lock:
                self.statuses[code] = self.statuses.get(code, 0) + 1
                if code != 200:
                    self.errors += 1

    def sio_client(self, base_url: str, transports: list[str]) -> None:
        """Widget churn: a socket.io session per conversation — connect, session_request,
        `turns` messages (each waits for the bot's first reply), disconnect — as many
        short website-widget visits do (issue 21, item 3)."""
        import logging

        import socketio

        # "packet queue is empty, aborting" on every aborted session: expected here.
        logging.getLogger("engineio.client").setLevel(logging.CRITICAL)
        done = False
        while not done:
            sio = socketio.Client(reconnection=False)
            confirmed, replied = threading.Event(), threading.Event()
            session: dict = {}
            sio.on("session_confirm", lambda _sid, c=confirmed: c.set())
            sio.on("session_token", lambda data, s=session: s.update(data))
            last_reply = [0.0]

            def on_reply(
                _data: object, r: threading.Event = replied, last: list[float] = last_reply
            ) -> None:
                last[0] = time.monotonic()
                r.set()

            sio.on("bot_uttered", on_reply)
            try:
                sio.connect(base_url, transports=transports, socketio_path="/socket.io")
                sio.emit("session_request", {"session_id": None, "token": None})
                if not confirmed.wait(30):
                    raise TimeoutError("no session_confirm")
                with self.lock:
                    self.sessions += 1
                for _ in range(self.turns):
                    text = self.next_text()
                    if text is None:
                        done = True
                        break
                    replied.clear()
                    sio.emit("user_uttered", {"message": text, "session_id": session["session_id"]})
                    ok = replied.wait(60)
                    while ok and time.monotonic() - last_reply[0] < 0.2:
                        time.sleep(0.05)  # the turn's other messages (a turn sends several)
                    with self.lock:
                        self.statuses[200 if ok else -1] = (
                            self.statuses.get(200 if ok else -1, 0) + 1
                        )
                        self.errors += 0 if ok else 1
            except Exception:  # noqa: BLE001 — counted; the soak goes on
                with self.lock:
                    self.statuses[-1] = self.statuses.get(-1, 0) + 1
                    self.errors += 1
                done = self.stop.is_set()
            finally:
                # as a closed tab (a polite disconnect waits for the pending long-poll);
                # the session is gone either way
                with contextlib.suppress(Exception):
                    sio.eio.disconnect(abort=True)

    def sse_client(self, base_url: str, username: str, password: str, events: int) -> None:
        """Agent console churn (issue 21, item 3): log in once, then again and again open
        the console's event stream, read its first event and `events` more (a queue change
        or the 5 s ping), and drop the connection as a closed or reloaded tab does, until
        the message traffic ends."""
        import requests

        from devtools.console_client import Console

        console = Console(base_url)
        try:
            ok = console.login(username, password).status_code == 200
        except requests.RequestException:
            ok = False
        if not ok:
            with self.lock:
                self.stream_errors += 1
            return
        while not self.finished():
            try:
                with console.http.get(
                    console.base + "/agent/api/events", stream=True, timeout=(10, 15)
                ) as stream:
                    if stream.status_code != 200:
                        raise requests.RequestException(f"status {stream.status_code}")
                    seen = 0
                    for line in stream.iter_lines(decode_unicode=True):
                        if str(line).startswith(("event:", ":")):
                            seen += 1  # an event, or a ping
                        if seen > events:
                            break
                with self.lock:
                    self.streams += 1
            except requests.RequestException:
                with self.lock:
                    self.stream_errors += 1
                time.sleep(1)


def signal_snapshot(pid: int, folder: Path, timeout: float = 300) -> Path | None:
    """SIGUSR1 to a server started with MEMTRACE_DIR: the first starts tracing (an empty
    marker file appears), the next ones write a snapshot. The file, or None."""
    before = set(folder.glob(f"{pid}-*.snap"))
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        new = set(folder.glob(f"{pid}-*.snap")) - before
        if new:
            return sorted(new)[-1]
        time.sleep(0.5)
    return None


# counts, not bytes (rasa_runtime/memory.py: gauges, add_gauge)
COUNTS = ("threads", "console_streams")
GAUGES = (
    "rss_anon",
    "traced",
    "pymalloc_arenas",
    "pymalloc_used",
    "malloc_in_use",
    "malloc_free",
    "sqlite",
)


def print_gauges(name: str, got: list[tuple[Path, int]], every_row: bool = False) -> None:
    """The gauges written beside each snapshot (rasa_runtime/memory.py: gauges): RssAnon,
    the traced Python heap, pymalloc's arenas / used blocks, glibc's heap in use / free,
    SQLite's own memory, threads.
    The last row, or (at the end) all of them, in KiB."""
    rows = []
    for snap, n in got[1:]:
        try:
            g = json.loads(Path(str(snap) + ".json").read_text())
        except (OSError, ValueError):
            continue
        rows.append((n, g))
    if not rows:
        return
    counts = [k for k in COUNTS if any(k in g for _, g in rows)]
    if every_row:
        print(f"\n{name}: gauges at each snapshot (KiB)")
        print(
            f"{'messages':>9} "
            + " ".join(f"{k:>16}" for k in GAUGES)
            + "".join(f" {k:>{max(8, len(k))}}" for k in counts)
        )
    for n, g in rows if every_row else rows[-1:]:
        print(
            f"{'' if every_row else name + ' '}{n:9,} "
            + " ".join(f"{g.get(k, 0) / 1024:16,.0f}" for k in GAUGES)
            + "".join(f" {g.get(k, 0):{max(8, len(k))}}" for k in counts),
            flush=True,
        )
    if every_row and len(rows) >= 2:
        points = {k: [(n, g.get(k, 0) / 1024) for n, g in rows] for k in GAUGES}
        print(
            f"{'slope':>9} "
            + " ".join(f"{slope(points[k]):16.1f}" for k in GAUGES)
            + "   (KiB per 1,000 messages, between the snapshots)"
        )


def print_growth(label: str, snap: Path, messages: int, top: int) -> None:
    """What was allocated since tracing began (end of warm-up) and is still alive."""
    import tracemalloc

    snapshot = tracemalloc.Snapshot.load(str(snap)).filter_traces(
        [
            tracemalloc.Filter(False, tracemalloc.__file__),
            tracemalloc.Filter(False, "<frozen importlib._bootstrap>"),
        ]
    )
    stats = snapshot.statistics("traceback")
    total = sum(s.size for s in stats)
    print(
        f"\n{label}: {total / 1024:,.0f} KiB allocated since warm-up and alive after {messages:,} "
        f"messages ({total / 1024 / max(messages, 1) * 1000:,.1f} KiB per 1,000)"
    )
    for stat in stats[:top]:
        print(f"  {stat.size / 1024:9,.1f} KiB {stat.count:8,} blocks")
        frames = [
            f for f in stat.traceback if "site-packages" in f.filename or str(REPO) in f.filename
        ]
        for frame in (frames or list(stat.traceback))[-8:]:
            print(f"      {frame.filename.replace(str(REPO) + '/', '')}:{frame.lineno}")


def run_stack(args: argparse.Namespace) -> int:
    from devtools.launch import start_servers

    texts = SoakTexts(unseen=args.unseen, seed=args.seed)
    servers = None
    trace_dir = None
    env_extra = dict(kv.split("=", 1) for kv in args.env)
    if args.rasa_url:
        if args.sse:
            user, _, password = (args.agent or ":").partition(":")
            if not user or not password:
                print("--sse with --rasa-url needs --agent USER:PASSWORD", file=sys.stderr)
                return 2
            args.agents = [(user, password)] * args.sse
        url = args.rasa_url.rstrip("/") + "/webhooks/rest/webhook"
        pids = {"rasa": args.rasa_pid, "actions": args.actions_pid}
    else:
        workdir = Path(tempfile.mkdtemp(prefix="cc-soak-"))
        if args.gauges_only:
            args.trace = True
            env_extra["MEMTRACE_FRAMES"] = "0"
        if args.trace:
            trace_dir = workdir / "memtrace"
            trace_dir.mkdir()
            env_extra[MEMTRACE_ENV] = str(trace_dir)
        print(f"starting servers in {workdir} (env {env_extra or '-'}) …", flush=True)
        servers = start_servers(env_extra=env_extra, workdir=workdir)
        if args.sse:
            from devtools.console_client import add_agent

            args.agents = [
                (f"soak{i}", add_agent(servers.env, f"soak{i}", f"負荷{i}"))
                for i in range(args.sse)
            ]
        url = servers.rest_url
        pids = {"rasa": servers.rasa.popen.pid, "actions": servers.actions.process.popen.pid}
    try:
        return _drive(args, url, pids, texts, trace_dir)
    finally:
        if servers:
            servers.stop()


def _drive(
    args: argparse.Namespace,
    url: str,
    pids: dict[str, int],
    texts: SoakTexts,
    trace_dir: Path | None,
) -> int:
    traffic = Traffic(url, texts, args.messages, args.seconds, args.turns)
    if args.socketio:
        base = url.removesuffix("/webhooks/rest/webhook")
        transports = ["polling"] if args.socketio == "polling" else ["polling", "websocket"]
        threads = [
            threading.Thread(target=traffic.sio_client, args=(base, transports), daemon=True)
            for _ in range(args.clients)
        ]
    else:
        threads = [
            threading.Thread(target=traffic.client, daemon=True) for _ in range(args.clients)
        ]
    base_url = url.removesuffix("/webhooks/rest/webhook")
    sse_threads = [
        threading.Thread(
            target=traffic.sse_client, args=(base_url, user, pw, args.sse_events), daemon=True
        )
        for user, pw in getattr(args, "agents", [])[: args.sse]
    ]
    t0 = time.monotonic()
    for t in threads + sse_threads:
        t.start()
    samples: list[tuple[float, int, dict, int]] = []
    snaps: dict[str, list[tuple[Path, int]]] = {name: [] for name in pids}
    warm_done = False
    next_snap = None
    traced = [
        name for name in pids if pids[name] and (not args.trace_only or name in args.trace_only)
    ]
    last_print = 0.0
    print(
        f"{'s':>6} {'messages':>9} "
        + " ".join(f"{n + ' RSS':>12} {n + ' anon':>12}" for n in pids)
        + (f" {'streams':>9}" if args.sse else "")
        + "  (MiB)",
        flush=True,
    )
    try:
        while any(t.is_alive() for t in threads + sse_threads):
            time.sleep(args.every)
            n = traffic.sent
            mem = {name: rss_kib(pid) for name, pid in pids.items() if pid}
            samples.append((time.monotonic() - t0, n, mem, traffic.streams))
            if trace_dir and not warm_done and n >= args.warmup:
                warm_done = True
                next_snap = n + args.snap_every if args.snap_every else None
                for name in traced:
                    snap = signal_snapshot(pids[name], trace_dir)
                    if snap:
                        snaps[name].append((snap, traffic.sent))
            elif trace_dir and warm_done and next_snap and n >= next_snap:
                next_snap = n + args.snap_every
                for name in traced:
                    snap = signal_snapshot(pids[name], trace_dir)
                    if snap:
                        snaps[name].append((snap, traffic.sent))
                        print_gauges(name, snaps[name])
            if time.monotonic() - last_print >= args.print_every:
                last_print = time.monotonic()
                print(
                    f"{samples[-1][0]:6.0f} {n:9,} "
                    + " ".join(f"{m[0] / 1024:12.1f} {m[1] / 1024:12.1f}" for m in mem.values())
                    + (f" {traffic.streams:9,}" if args.sse else ""),
                    flush=True,
                )
    except KeyboardInterrupt:
        traffic.stop.set()
    for t in threads + sse_threads:
        t.join(timeout=90)
    time.sleep(args.idle)  # let keep-alive connections and in-flight work end first
    if trace_dir:
        for name in traced:
            snap = signal_snapshot(pids[name], trace_dir)
            if snap:
                snaps[name].append((snap, traffic.sent))
    elapsed = time.monotonic() - t0
    after = [(n, mem) for _, n, mem, _ in samples if n >= args.warmup]
    after_streams = [(k, mem) for _, n, mem, k in samples if n >= args.warmup]
    unseen_share = texts.unseen_count / max(texts.count, 1)
    print(
        f"\n{traffic.sent:,} messages in {elapsed:.0f} s ({traffic.sent / elapsed:.1f}/s), "
        f"{unseen_share:.0%} with unseen words, errors {traffic.errors} {traffic.statuses}; "
        f"warm-up {args.warmup:,} messages, {len(after)} samples after it"
        + (f"; {traffic.sessions:,} socket.io sessions" if args.socketio else "")
        + (
            f"; {traffic.streams:,} console event streams ({traffic.stream_errors} errors)"
            if args.sse
            else ""
        )
    )
    result = {
        "messages": traffic.sent,
        "seconds": round(elapsed),
        "unseen": round(unseen_share, 3),
        "warmup": args.warmup,
        "errors": traffic.errors,
        "socketio_sessions": traffic.sessions if args.socketio else None,
        "console_streams": traffic.streams if args.sse else None,
        "slopes": {},
        # every sample after warm-up: messages, {process: [VmRSS, RssAnon] KiB}
        "samples": [[n, mem] for n, mem in after],
        # every sample from the start, with the time and the console streams (--sse)
        "timeline": [
            {"s": round(t, 1), "messages": n, "streams": k, **{p: list(m) for p, m in mem.items()}}
            for t, n, mem, k in samples
        ],
    }
    print(
        f"{'process':<10}{'RSS at warm-up':>16}{'RSS at end':>12}"
        f"{'RSS slope':>12}{'anon slope':>12}{'2nd half':>10}"
        "   (MiB; slopes KiB per 1,000 messages; 2nd half: anon over the later half)"
    )
    for name in pids:
        if not pids[name] or len(after) < 2:
            continue
        rss = [(n, m[name][0]) for n, m in after]
        anon = [(n, m[name][1]) for n, m in after]
        s_rss, s_anon = slope(rss), slope(anon)
        # A bounded cache filling up and a leak both give a slope; a leak keeps it later.
        middle = (anon[0][0] + anon[-1][0]) / 2
        late = [(n, a) for n, a in anon if n >= middle]
        s_late = slope(late) if len(late) >= 2 else float("nan")
        result["slopes"][name] = {
            "rss": round(s_rss, 1),
            "anon": round(s_anon, 1),
            "anon_second_half": round(s_late, 1),
            "rss_start_mib": round(rss[0][1] / 1024, 1),
            "rss_end_mib": round(rss[-1][1] / 1024, 1),
        }
        print(
            f"{name:<10}{rss[0][1] / 1024:16.1f}{rss[-1][1] / 1024:12.1f}"
            f"{s_rss:12.1f}{s_anon:12.1f}{s_late:10.1f}"
        )
        if args.sse and len(after_streams) >= 2:
            per_stream = slope([(k, m[name][1]) for k, m in after_streams])
            result["slopes"][name]["anon_per_1000_streams"] = round(per_stream, 1)
            print(f"{'':<10}RssAnon slope per 1,000 console event streams: {per_stream:.1f} KiB")
    if len(after) >= 2:
        result["windows"] = print_windows(after, pids, args.windows)
    for name, got in snaps.items():
        result.setdefault("gauges", {})[name] = [
            {"messages": n, **json.loads(Path(str(snap) + ".json").read_text())}
            for snap, n in got[1:]
            if Path(str(snap) + ".json").exists()
        ]
        if len(got) >= 2:
            (_, n0), (last, n1) = got[0], got[-1]
            if last.stat().st_size:  # empty with --gauges-only
                print_growth(f"{name} (pid {pids[name]})", last, n1 - n0, args.top)
            print_gauges(name, got, every_row=True)
    failed = False
    if args.sse:
        rows = (result.get("gauges") or {}).get("rasa") or []
        left = rows[-1].get("console_streams") if rows else None
        result["console_streams_left"] = left
        if left is None:
            print("console event streams open at the end: unknown (needs --trace or --gauges-only)")
        else:
            print(f"console event streams open at the end (Rasa's listener table): {left}")
            failed = left != 0
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    bad = [n for n, s in result["slopes"].items() if args.max_slope and s["anon"] > args.max_slope]
    if bad:
        print(f"FAIL: slope above {args.max_slope} KiB per 1,000 messages: {', '.join(bad)}")
        return 1
    if failed:
        print("FAIL: console event streams still open after the traffic ended")
        return 1
    return 0


def print_windows(
    after: list[tuple[int, dict]], pids: dict[str, int], windows: str
) -> dict[str, list[dict]]:
    """RssAnon slopes over sub-windows of the messages after warm-up: `windows` is a
    comma-separated list of message counts (boundaries), or empty for the halves and
    the quarters of the run after warm-up."""
    start, end = after[0][0], after[-1][0]
    if windows:
        cuts = [float(x) for x in windows.split(",") if x.strip()]
        sets = [[max(start, c) for c in cuts]]
    else:
        sets = [window_bounds(start, end, 2), window_bounds(start, end, 4)]
    out: dict[str, list[dict]] = {}
    print("\nRssAnon over sub-windows (KiB per 1,000 messages; growth in MiB first → last sample)")
    print(
        f"{'messages':>21} {'samples':>8}"
        + "".join(f" {n + ' slope':>14} {'growth':>7}" for n in pids if pids[n])
    )
    for bounds in sets:
        rows = {
            name: window_slopes([(n, m[name][1]) for n, m in after], bounds)
            for name in pids
            if pids[name]
        }
        for i in range(len(bounds) - 1):
            any_rows = next(iter(rows.values()))
            lo, hi, count = any_rows[i][0], any_rows[i][1], any_rows[i][2]
            print(
                f"{lo:10,.0f}–{hi:10,.0f} {count:8}"
                + "".join(f" {r[i][3]:14.1f} {r[i][4] / 1024:+7.1f}" for r in rows.values())
            )
            for name, r in rows.items():
                out.setdefault(name, []).append(
                    {
                        "from": round(lo),
                        "to": round(hi),
                        "slope": round(r[i][3], 1),
                        "growth_kib": r[i][4],
                        "samples": count,
                    }
                )
    return out


# --- in-process -------------------------------------------------------------------------
def run_in_process(args: argparse.Namespace) -> int:
    import asyncio
    import gc
    import tracemalloc

    from rasa_runtime import graph_runner, quiet, speedups

    quiet.quiet_third_party_warnings()
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # as a server logs by default (no debug lines)
    quiet.apply_to_rasa()
    speedups.apply()
    graph_runner.apply()
    from rasa.core.agent import Agent

    agent = Agent.load(args.model)
    texts = SoakTexts(unseen=args.unseen, seed=args.seed)
    loop = asyncio.new_event_loop()
    total = args.messages
    t0 = time.monotonic()
    for _ in range(args.warmup):
        loop.run_until_complete(agent.parse_message(next(texts)))
    tracemalloc.start(25)
    gc.collect()
    points = [(0, tracemalloc.get_traced_memory()[0] / 1024)]
    step = max(1, (total - args.warmup) // 20)
    for i in range(1, total - args.warmup + 1):
        loop.run_until_complete(agent.parse_message(next(texts)))
        if i % step == 0:
            gc.collect()
            points.append((i, tracemalloc.get_traced_memory()[0] / 1024))
    gc.collect()
    last = tracemalloc.take_snapshot()
    measured = total - args.warmup
    s = slope(points)
    print(
        f"in-process: {total:,} parses ({args.warmup:,} warm-up) in {time.monotonic() - t0:.0f} s, "
        f"{texts.unseen_count / max(texts.count, 1):.0%} with unseen words; traced heap "
        f"{points[0][1]:,.0f} → {points[-1][1]:,.0f} KiB; slope {s:.1f} KiB per 1,000 messages"
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "last"
        last.dump(str(path))
        print_growth("in-process NLU", path, measured, args.top)
    if args.json:
        Path(args.json).write_text(json.dumps({"messages": total, "slope": round(s, 1)}))
    if args.max_slope and s > args.max_slope:
        print(f"FAIL: slope {s:.1f} above {args.max_slope} KiB per 1,000 messages")
        return 1
    return 0


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # SIGTERM ends the soak like Ctrl-C: report, stop the servers


def main() -> int:
    signal.signal(signal.SIGTERM, _interrupt)
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--messages", type=int, default=0, help="stop after this many (0: --seconds)")
    p.add_argument("--seconds", type=float, default=0, help="stop after this long")
    p.add_argument(
        "--warmup",
        type=int,
        default=0,
        help="messages before the slope counts (default: a fifth of --messages, or 2,000)",
    )
    p.add_argument("--clients", type=int, default=8)
    p.add_argument(
        "--turns", type=int, default=0, help="messages per conversation (3; 2 with --socketio)"
    )
    p.add_argument(
        "--socketio",
        nargs="?",
        const="upgrade",
        choices=["upgrade", "polling"],
        help="widget churn over socket.io instead of REST: connect, --turns messages, "
        "disconnect, again (upgrade: polling then websocket, as browsers; or polling only)",
    )
    p.add_argument(
        "--unseen", type=float, default=0.4, help="share of messages with a made-up word"
    )
    p.add_argument("--seed", type=int, default=21)
    p.add_argument("--every", type=float, default=2.0, help="seconds between RSS samples")
    p.add_argument("--print-every", type=float, default=30.0)
    p.add_argument(
        "--idle",
        type=float,
        default=10.0,
        help="seconds to wait after the traffic before the last snapshot",
    )
    p.add_argument("--trace", action="store_true", help="tracemalloc in the servers (slower)")
    p.add_argument(
        "--snap-every",
        type=int,
        default=0,
        help="with --trace: a snapshot (and its gauges) every this many messages",
    )
    p.add_argument(
        "--gauges-only",
        action="store_true",
        help="as --trace without tracemalloc: only the gauges (glibc, pymalloc, SQLite) "
        "at each snapshot, at full speed",
    )
    p.add_argument(
        "--trace-only",
        action="append",
        choices=["rasa", "actions"],
        default=[],
        help="with --trace: trace only this server (tracing Rasa slows the soak)",
    )
    p.add_argument(
        "--sse",
        type=int,
        default=0,
        help="agent console clients churning the event stream (open, read, drop, again) "
        "beside the message traffic",
    )
    p.add_argument(
        "--sse-events", type=int, default=2, help="events read per stream after the first"
    )
    p.add_argument("--agent", help="USER:PASSWORD for --sse with --rasa-url")
    p.add_argument(
        "--windows",
        default="",
        help="message counts bounding sub-windows for the slopes (default: halves and "
        "quarters after warm-up), e.g. 5000,50000,100000",
    )
    p.add_argument("--env", action="append", default=[], help="K=V for both servers")
    p.add_argument("--rasa-url")
    p.add_argument("--rasa-pid", type=int)
    p.add_argument("--actions-pid", type=int)
    p.add_argument("--in-process", action="store_true")
    p.add_argument("--model", default=str(REPO / "models" / "model.tar.gz"))
    p.add_argument("--top", type=int, default=12)
    p.add_argument("--max-slope", type=float, default=0.0, help="exit 1 above (KiB per 1,000)")
    p.add_argument("--json", help="write the result here")
    args = p.parse_args()
    if not args.messages and not args.seconds:
        args.messages = 3000 if args.in_process else 100_000
    if not args.turns:
        args.turns = 2 if args.socketio else 3
    if not args.warmup:
        args.warmup = args.messages // 5 if args.messages else 2000
    return run_in_process(args) if args.in_process else run_stack(args)


if __name__ == "__main__":
    sys.exit(main())
