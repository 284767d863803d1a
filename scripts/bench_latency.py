"""Benchmark: NLU parse and REST round-trip latency, server memory, optional train time.

    python scripts/bench_latency.py [--messages 272] [--train]

Starts the real servers (action server + Rasa with the trained model) on free
localhost ports, sends the evaluation questions one at a time (fresh conversation
each), and prints a table. Numbers are for this machine; record them in the README.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devtools.launch import VENV_BIN, base_env, start_servers  # noqa: E402


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))
    return values[k]


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (MiB)."""
    total = 0
    pids = [pid] + [
        int(p)
        for p in subprocess.run(
            ["pgrep", "-P", str(pid)], capture_output=True, text=True
        ).stdout.split()
    ]
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def timed_posts(url: str, bodies: list[dict]) -> list[float]:
    session = requests.Session()
    out = []
    for body in bodies:
        t0 = time.perf_counter()
        r = session.post(url, json=body, timeout=60)
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def train_seconds() -> float:
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run(
            [
                str(VENV_BIN / "rasa"),
                "train",
                "--force",
                "--out",
                out,
                "--fixed-model-name",
                "bench",
            ],
            cwd=REPO,
            env=base_env(),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=272)
    parser.add_argument(
        "--train", action="store_true", help="also time a full `rasa train --force`"
    )
    parser.add_argument(
        "--content",
        default="",
        help="also the in-process glossary rows of scripts/bench_content.py at these sizes "
        "(e.g. 41,10000,100000)",
    )
    args = parser.parse_args()
    cases = yaml.safe_load((REPO / "tests/eval/cases.yml").read_text(encoding="utf-8"))["cases"]
    texts = [c["text"] for c in cases]
    texts = (texts * (args.messages // len(texts) + 1))[: args.messages]

    rows = []
    t0 = time.perf_counter()
    servers = start_servers(enable_api=True)
    startup = time.perf_counter() - t0
    try:
        warm = [{"sender": "warmup", "message": t} for t in texts[:10]]
        timed_posts(servers.rest_url, warm)
        nlu = timed_posts(f"{servers.rasa_url}/model/parse", [{"text": t} for t in texts])
        rest = timed_posts(
            servers.rest_url, [{"sender": f"b-{uuid.uuid4().hex[:8]}", "message": t} for t in texts]
        )
        rows += [
            (
                "NLU parse (/model/parse)",
                len(nlu),
                statistics.median(nlu),
                percentile(nlu, 95),
                max(nlu),
            ),
            (
                "REST round trip (/webhooks/rest)",
                len(rest),
                statistics.median(rest),
                percentile(rest, 95),
                max(rest),
            ),
        ]
        mem_rasa = rss_mb(servers.rasa.popen.pid)
        mem_actions = rss_mb(servers.actions.process.popen.pid)
    finally:
        servers.stop()

    if args.content:
        from scripts.bench_content import table_rows

        rows += table_rows([int(s) for s in args.content.split(",")])

    def ms(v: float | None) -> str:
        return f"{'—':>10}" if v is None else f"{v:>10.1f}" if v >= 10 else f"{v:>10.2f}"

    print(f"{'measure':<44}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name, n, p50, p95, mx in rows:
        print(f"{name:<44}{n:>6}{ms(p50)}{ms(p95)}{ms(mx)}")
    print(f"\n{'Rasa server RSS':<36}{mem_rasa:>10.0f} MiB")
    print(f"{'Action server RSS':<36}{mem_actions:>10.0f} MiB")
    print(f"{'Start-up (both servers ready)':<36}{startup:>10.1f} s")
    if args.train:
        print(f"{'rasa train --force':<36}{train_seconds():>10.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
