"""Side by side: this project's bot vs a stock Rasa 3.6 + GiNZA bot, same data, same load.

    python scripts/bench_stock.py [--seconds 30] [--clients 1,16] [--train-only]

The stock bot is Rasa 3.6's `rasa init` config.yml (read from the installed rasa
package) with `language: ja` and SpacyNLP (ja_ginza) + SpacyTokenizer + SpacyFeaturizer
in place of WhitespaceTokenizer; the rest of the default pipeline and the default
policies (MemoizationPolicy, TEDPolicy, RulePolicy) as they are. It is trained on
this project's domain.yml and data/ into var/bench/stock-<hash>/ (hash = sha256 of
that config, domain.yml and every file under data/) only when that model is missing,
so a repeated run reuses it (training takes 10–20 minutes on 2 cores).

Both bots are then served, one after the other, with the same action server and
channels (devtools/launch.py); the stock bot with Rasa's own SQL tracker store
(SQLite), the project with its FastSQLTrackerStore (same table). Both get the same load:
REST, the eval questions (tests/eval/cases.yml), 1 and 16 concurrent clients (each its own
sender ids) for --seconds each, loopback only. Then RSS of the Rasa process, start-up (spawn →
ready), train time and eval accuracy (scripts/eval.py's cases and judge). One table:
project, stock, ratio (stock / project).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests
import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from devtools.launch import (  # noqa: E402
    MODEL,
    RASA_CLI,
    base_env,
    sqlite_tracker_store,
    start_servers,
)

CASES = REPO / "tests" / "eval" / "cases.yml"
CACHE = REPO / "var" / "bench"

SPACY_HEAD = [
    {"name": "SpacyNLP", "model": "ja_ginza"},
    {"name": "SpacyTokenizer"},
    {"name": "SpacyFeaturizer"},
]


def rasa_init_config() -> dict:
    """Rasa's `rasa init` config.yml with its commented-out default pipeline and
    policies made real (they are what Rasa uses when the lists are empty)."""
    import rasa

    path = Path(rasa.__file__).parent / "cli" / "initial_project" / "config.yml"
    text = path.read_text(encoding="utf-8")
    # The defaults are commented out as `#   - name: …` under `pipeline:`/`policies:`.
    text = re.sub(r"^#   ", "  ", text, flags=re.M)
    config: dict = yaml.safe_load(text)
    return config


def stock_config() -> dict:
    config = rasa_init_config()
    config["language"] = "ja"
    config["assistant_id"] = "stock-rasa-ginza"
    pipeline = [c for c in config["pipeline"] if c["name"] != "WhitespaceTokenizer"]
    config["pipeline"] = SPACY_HEAD + pipeline
    return config


def data_hash(config_text: str) -> str:
    h = hashlib.sha256()
    h.update(config_text.encode())
    h.update((REPO / "domain.yml").read_bytes())
    for path in sorted(p for p in (REPO / "data").rglob("*") if p.is_file()):
        h.update(str(path.relative_to(REPO)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def stock_model() -> tuple[Path, float]:
    """The cached stock model (trained if missing) and its training time in seconds."""
    config_text = yaml.safe_dump(stock_config(), allow_unicode=True, sort_keys=False)
    folder = CACHE / f"stock-{data_hash(config_text)}"
    model = folder / "stock.tar.gz"
    timing = folder / "train.json"
    if model.exists() and timing.exists():
        seconds = json.loads(timing.read_text())["train_seconds"]
        print(f"stock model cached: {model} (trained in {seconds:.0f} s)", flush=True)
        return model, seconds
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.yml").write_text(config_text, encoding="utf-8")
    log = folder / "train.log"
    print(f"training the stock model into {folder} (10–20 min; log: {log})", flush=True)
    t0 = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [
                *RASA_CLI,
                "train",
                "--config",
                str(folder / "config.yml"),
                "--domain",
                "domain.yml",
                "--data",
                "data",
                "--out",
                str(folder),
                "--fixed-model-name",
                "stock",
            ],
            cwd=REPO,
            env=base_env(),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        while True:
            try:
                proc.wait(timeout=30)  # returns when training ends, not at the next tick
                break
            except subprocess.TimeoutExpired:
                print(f"  … {time.perf_counter() - t0:.0f} s", flush=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0 or not model.exists():
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        raise RuntimeError(f"stock training failed ({proc.returncode}):\n{tail}")
    timing.write_text(json.dumps({"train_seconds": round(seconds, 1), "config_hash": folder.name}))
    print(f"stock model trained in {seconds:.0f} s", flush=True)
    return model, seconds


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[max(0, min(len(values) - 1, round(q / 100 * (len(values) - 1))))]


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(rest_url: str, texts: list[str], clients: int, seconds: float) -> dict:
    """`clients` threads, each posting the questions in turn (its own offset), each
    message in a new conversation with the client's own sender ids, for `seconds`."""
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    stop_at = time.perf_counter() + seconds

    def client(i: int) -> None:
        session = requests.Session()
        k = i * len(texts) // clients
        while time.perf_counter() < stop_at:
            body = {
                "sender": f"bench-{i}-{uuid.uuid4().hex[:10]}",
                "message": texts[k % len(texts)],
            }
            k += 1
            t0 = time.perf_counter()
            try:
                r = session.post(rest_url, json=body, timeout=60)
                ok = r.status_code == 200
            except requests.RequestException:
                ok = False
            if ok:
                latencies[i].append((time.perf_counter() - t0) * 1000)
            else:
                errors[i] += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    done = [v for per in latencies for v in per]
    return {
        "rps": len(done) / elapsed,
        "p50": statistics.median(done) if done else float("nan"),
        "p95": percentile(done, 95) if done else float("nan"),
        "n": len(done),
        "errors": sum(errors),
    }


def measure(
    name: str,
    model: Path,
    cases: list[dict],
    levels: list[int],
    seconds: float,
    rasa_tracker_store: bool = False,
) -> dict:
    from scripts.eval import is_new
    from scripts.eval import run as eval_run

    texts = [c["text"] for c in cases]
    print(f"\n[{name}] starting servers with {model}", flush=True)
    workdir = Path(tempfile.mkdtemp(prefix=f"cc-bench-{name}-"))
    # The stock bot keeps Rasa's own SQL tracker store; the project's is FastSQLTrackerStore.
    tracker = sqlite_tracker_store(workdir, "SQL") if rasa_tracker_store else None
    t0 = time.perf_counter()
    servers = start_servers(model=model, workdir=workdir, tracker_store=tracker)
    out: dict = {"startup": time.perf_counter() - t0}
    try:
        warm = requests.Session()
        for t in texts[:10]:
            warm.post(servers.rest_url, json={"sender": "warmup", "message": t}, timeout=60)
        for clients in levels:
            print(f"[{name}] load: {clients} client(s), {seconds:.0f} s", flush=True)
            out[f"load{clients}"] = load(servers.rest_url, texts, clients, seconds)
        out["rss"] = rss_mib(servers.rasa.popen.pid)
        print(f"[{name}] eval: {len(cases)} cases", flush=True)
        results = eval_run(servers.rest_url, cases)
    finally:
        servers.stop()
    groups: dict[str, list[bool]] = {}
    for case, ok, _ in results:
        groups.setdefault(("new: " if is_new(case) else "") + case["group"], []).append(ok)
    out["groups"] = {g: (sum(oks), len(oks)) for g, oks in groups.items()}
    for label, pick in (
        ("established", lambda c: not is_new(c)),
        ("new", is_new),
        ("all", lambda c: True),
    ):
        oks = [ok for case, ok, _ in results if pick(case)]
        out[f"acc_{label}"] = (sum(oks), len(oks))
    return out


def print_table(project: dict, stock: dict, levels: list[int]) -> None:
    rows: list[tuple[str, float, float, str]] = []
    for clients in levels:
        p, s = project[f"load{clients}"], stock[f"load{clients}"]
        c = f"{clients} client{'s' if clients > 1 else ''}"
        rows += [
            (f"throughput, {c} (msg/s)", p["rps"], s["rps"], "{:.1f}"),
            (f"p50, {c} (ms)", p["p50"], s["p50"], "{:.0f}"),
            (f"p95, {c} (ms)", p["p95"], s["p95"], "{:.0f}"),
        ]
    rows += [
        ("Rasa RSS after the load (MiB)", project["rss"], stock["rss"], "{:.0f}"),
        (
            "start-up, spawn → both servers ready (s)",
            project["startup"],
            stock["startup"],
            "{:.1f}",
        ),
        ("train time (s)", project["train"], stock["train"], "{:.0f}"),
    ]
    for label in ("established", "new", "all"):
        (pc, pn), (sc, sn) = project[f"acc_{label}"], stock[f"acc_{label}"]
        if pn and sn:
            rows.append(
                (f"eval accuracy, {label} ({pn} cases) (%)", 100 * pc / pn, 100 * sc / sn, "{:.1f}")
            )
    print(f"\n{'measure':<48}{'project':>10}{'stock':>10}{'stock/project':>15}")
    for name, p, s, fmt in rows:
        ratio = f"{s / p:.2f}×" if p else "—"
        print(f"{name:<48}{fmt.format(p):>10}{fmt.format(s):>10}{ratio:>15}")
    errors = {
        n: sum(d[f"load{c}"]["errors"] for c in levels)
        for n, d in (("project", project), ("stock", stock))
    }
    if any(errors.values()):
        print(f"(failed requests under load: {errors})")
    print(f"\n{'eval group':<36}{'n':>5}{'project':>10}{'stock':>10}")
    for group, (pc, n) in project["groups"].items():
        sc, _ = stock["groups"].get(group, (0, n))
        print(f"{group:<36}{n:>5}{pc / n:>10.1%}{sc / n:>10.1%}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=30, help="load per level and bot")
    parser.add_argument("--clients", default="1,16", help="concurrency levels")
    parser.add_argument(
        "--train-only", action="store_true", help="only train (or find) the stock model"
    )
    parser.add_argument(
        "--project-train-seconds",
        type=float,
        default=None,
        help="the project's `rasa train --force` time (default: measured here, ~30 s)",
    )
    args = parser.parse_args()
    model, stock_train = stock_model()
    if args.train_only:
        return 0
    if not MODEL.exists():
        print(f"{MODEL} missing: run `make train` first")
        return 1
    levels = [int(c) for c in args.clients.split(",")]
    cases = yaml.safe_load(CASES.read_text(encoding="utf-8"))["cases"]
    project = measure("project", MODEL, cases, levels, args.seconds)
    if args.project_train_seconds is None:
        from scripts.bench_latency import train_seconds

        print("[project] rasa train --force", flush=True)
        args.project_train_seconds = train_seconds()
    project["train"] = args.project_train_seconds
    stock = measure("stock", model, cases, levels, args.seconds, rasa_tracker_store=True)
    stock["train"] = stock_train
    print_table(project, stock, levels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
