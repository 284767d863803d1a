"""Where the time and the memory of the Rasa server go (measurement only; nothing changes).

    python scripts/profile_breakdown.py [--model models/model.tar.gz] [--runs 1] [--no-actions]

In one process, with Rasa's own API:

1. memory (VmRSS) after each step: Python, `import tensorflow`, `import rasa` (+ the
   rasa_runtime patches the server applies), ja_ginza as LeanSpacyNLP loads it (the
   Sudachi tokenizer and dictionary + vectors; the model reuses this copy), `Agent.load(model)`,
   the parses; then the resident memory by mapping (/proc/self/smaps): TensorFlow's
   shared libraries, the Sudachi dictionary, other files, anonymous memory;
2. per-component time of the NLU graph over the evaluation questions
   (`tests/eval/cases.yml`, each GraphNode's call timed by wrapping GraphNode.__call__);
3. per-step cost of a REST turn without HTTP: `agent.handle_message` on the project's
   SQLite tracker store (FastSQLTrackerStore) with a real action server (started here),
   timing tracker retrieve / save, NLU, policy graph, action-server calls (HTTP round trip +
   response validation).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import functools
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("SQLALCHEMY_SILENCE_UBER_WARNING", "1")


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def smaps_breakdown() -> list[tuple[str, float]]:
    """Resident MiB by kind of mapping."""
    groups: collections.Counter[str] = collections.Counter()
    name = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if head and not head[0].endswith(":"):
            name = head[5] if len(head) > 5 else ""
        elif head and head[0] == "Rss:":
            kb = int(head[1])
            if "sudachi" in name.lower():
                key = "file: Sudachi dictionary / library"
            elif "tensorflow" in name or "libtensorflow" in name:
                key = "file: TensorFlow shared libraries"
            elif name.endswith(".so") or ".so." in name or "/lib/" in name:
                key = "file: other shared libraries"
            elif name.startswith("/"):
                key = "file: other files"
            else:
                key = "anonymous (heap, Python objects, TF/numpy buffers)"
            groups[key] += kb
    return [(k, v / 1024) for k, v in groups.most_common()]


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


class Timers:
    def __init__(self) -> None:
        self.samples: dict[str, list[float]] = collections.defaultdict(list)

    def add(self, key: str, ms: float) -> None:
        self.samples[key].append(ms)

    def wrap_sync(self, owner: Any, attr: str, key: str) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.add(key, (time.perf_counter() - t0) * 1000)

        setattr(owner, attr, timed)

    def wrap_async(self, owner: Any, attr: str, key: str) -> None:
        original = getattr(owner, attr)

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.add(key, (time.perf_counter() - t0) * 1000)

        setattr(owner, attr, timed)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default=str(REPO / "models" / "model.tar.gz"))
    parser.add_argument("--runs", type=int, default=1, help="passes over the questions")
    parser.add_argument("--no-actions", action="store_true", help="skip the REST-step part")
    args = parser.parse_args()

    memory: list[tuple[str, float]] = [("Python + this script", rss_mib())]
    t0 = time.perf_counter()
    import tensorflow  # noqa: F401

    memory.append(("+ import tensorflow", rss_mib()))
    from rasa_runtime import quiet

    quiet.quiet_third_party_warnings()
    from rasa_runtime import auth, graph_runner, lockwait, speedups, unavailable

    quiet.apply_to_rasa()
    speedups.apply()
    graph_runner.apply()
    unavailable.apply()
    lockwait.apply()
    import logging

    import rasa.core.agent
    import rasa.engine.graph
    import rasa.nlu.utils.spacy_utils
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)

    memory.append(("+ import rasa (agent, NLU, rasa_runtime patches)", rss_mib()))
    import spacy

    from components.lean_spacy import GINZA_UNUSED

    nlp = spacy.load("ja_ginza", exclude=GINZA_UNUSED)  # as LeanSpacyNLP loads it
    memory.append(("+ ja_ginza's Sudachi tokenizer + vectors (as LeanSpacyNLP)", rss_mib()))
    # The model's LeanSpacyNLP loads ja_ginza again: hand it the copy above, so the next
    # row is the model itself.
    real_load = spacy.load
    spacy.load = lambda name, *a, **k: nlp if name == "ja_ginza" else real_load(name, *a, **k)

    from rasa.core.agent import Agent
    from rasa.core.lock_store import InMemoryLockStore
    from rasa.utils.endpoints import EndpointConfig

    from rasa_runtime.tracker_store import FastSQLTrackerStore

    action_server = None
    action_endpoint = None
    if not args.no_actions:
        from devtools.launch import base_env, start_action_server

        env = base_env()
        action_server = start_action_server(Path(tempfile.mkdtemp(prefix="cc-profile-")), env)
        action_endpoint = EndpointConfig(action_server.url, headers=action_server.headers)
        os.environ[auth.TOKEN_ENV] = action_server.token
    db = Path(tempfile.mkdtemp()) / "tracker.db"
    load_t0 = time.perf_counter()
    agent = Agent.load(args.model, action_endpoint=action_endpoint, lock_store=InMemoryLockStore())
    agent.tracker_store = FastSQLTrackerStore(domain=agent.domain, dialect="sqlite", db=str(db))
    assert agent.processor is not None  # Agent.load made one
    agent.processor.tracker_store = agent.tracker_store
    load_s = time.perf_counter() - load_t0
    memory.append(("+ Agent.load(model) (linear classifiers, featurizers, policies)", rss_mib()))

    import yaml

    cases = yaml.safe_load((REPO / "tests/eval/cases.yml").read_text(encoding="utf-8"))["cases"]
    texts = [c["text"] for c in cases]

    # -- NLU per component ------------------------------------------------------------
    timers = Timers()
    node_ms: dict[str, list[float]] = collections.defaultdict(list)
    current: dict[str, float] = collections.defaultdict(float)
    graph_node = rasa.engine.graph.GraphNode
    original_call = graph_node.__call__

    def timed_call(self: Any, *inputs: Any) -> Any:
        t = time.perf_counter()
        try:
            return original_call(self, *inputs)
        finally:
            current[self._node_name] += (time.perf_counter() - t) * 1000

    graph_node.__call__ = timed_call  # type: ignore[method-assign]  # the timing patch

    loop = asyncio.new_event_loop()
    for text in texts[:10]:  # warm-up (TF traces its functions on the first calls)
        loop.run_until_complete(agent.parse_message(text))
    memory.append(("+ first parses (TF function tracing)", rss_mib()))
    parse_ms: list[float] = []
    for _ in range(args.runs):
        for text in texts:
            current.clear()
            t = time.perf_counter()
            loop.run_until_complete(agent.parse_message(text))
            parse_ms.append((time.perf_counter() - t) * 1000)
            for node, ms in current.items():
                node_ms[node].append(ms)
    memory.append((f"+ {len(parse_ms)} parses", rss_mib()))

    # -- REST steps without HTTP --------------------------------------------------------
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

    turn_ms: list[float] = []
    if action_server is not None:
        timers.wrap_async(FastSQLTrackerStore, "_retrieve", "tracker store: retrieve (SQLite)")
        timers.wrap_async(FastSQLTrackerStore, "save", "tracker store: save (SQLite)")
        timers.wrap_async(RemoteAction, "run", "action server: call (HTTP + validation)")
        timers.wrap_sync(
            RemoteAction, "_validate_action_result", "action server: response validation"
        )
        timers.wrap_async(type(agent.processor), "parse_message", "NLU: processor.parse_message")
        timers.wrap_sync(
            type(agent.processor),
            "_predict_next_with_tracker",
            "policies: predict next action",
        )
        for text in texts[:5]:
            msg = UserMessage(text, CollectingOutputChannel(), sender_id="warm-" + uuid.uuid4().hex)
            loop.run_until_complete(agent.handle_message(msg))
        timers.samples.clear()
        for text in texts:
            msg = UserMessage(text, CollectingOutputChannel(), sender_id="p-" + uuid.uuid4().hex)
            t = time.perf_counter()
            loop.run_until_complete(agent.handle_message(msg))
            turn_ms.append((time.perf_counter() - t) * 1000)
        action_server.stop()
    graph_node.__call__ = original_call  # type: ignore[method-assign]

    # -- report ---------------------------------------------------------------------------
    print(
        f"{time.strftime('%Y-%m-%d')}, {platform.node() or 'host'}: {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; model {Path(args.model).name} "
        f"(Agent.load {load_s:.1f} s; script {time.perf_counter() - t0:.0f} s)"
    )
    print(f"\nNLU per component ({len(parse_ms)} parses of the eval questions; ms)")
    print(f"{'graph node':<58}{'p50':>8}{'p95':>8}{'mean':>8}{'share':>8}")
    total_mean = statistics.mean(parse_ms)
    for node, times in sorted(node_ms.items(), key=lambda kv: -statistics.mean(kv[1])):
        mean = statistics.mean(times)
        if mean < 0.005:
            continue
        print(
            f"{node[:58]:<58}{statistics.median(times):>8.2f}{percentile(times, 95):>8.2f}"
            f"{mean:>8.2f}{100 * mean / total_mean:>7.0f}%"
        )
    print(
        f"{'whole agent.parse_message':<58}{statistics.median(parse_ms):>8.2f}"
        f"{percentile(parse_ms, 95):>8.2f}{total_mean:>8.2f}{100:>7.0f}%"
    )

    print("\nMemory (VmRSS after each step, MiB)")
    prev = 0.0
    for label, mib in memory:
        print(f"{label:<70}{mib:>8.0f}{mib - prev:>+8.0f}")
        prev = mib
    print("\nResident memory by mapping at the end (MiB)")
    for label, mib in smaps_breakdown():
        print(f"{label:<70}{mib:>8.0f}")

    if turn_ms:
        print(
            f"\nOne REST turn without HTTP ({len(turn_ms)} messages, each a new conversation; "
            "agent.handle_message, SQLite tracker store, real action server; ms)"
        )
        print(f"{'step':<58}{'calls/msg':>10}{'p50':>8}{'p95':>8}{'ms/msg':>8}")
        for key, times in sorted(timers.samples.items()):
            print(
                f"{key:<58}{len(times) / len(turn_ms):>10.2f}{statistics.median(times):>8.2f}"
                f"{percentile(times, 95):>8.2f}{sum(times) / len(turn_ms):>8.2f}"
            )
        print(
            f"{'whole agent.handle_message':<58}{1:>10.2f}{statistics.median(turn_ms):>8.2f}"
            f"{percentile(turn_ms, 95):>8.2f}{statistics.mean(turn_ms):>8.2f}"
        )
    loop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
