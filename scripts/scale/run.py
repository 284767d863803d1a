"""Scale-out test: two Rasa servers and two action servers behind HAProxy, PostgreSQL,
Redis (scripts/scale/cluster.py), then

1. burst: 20 messages at once into one conversation, through the balancer (both
   servers): how long until all are answered, each in the tracker exactly once;
2. agent push across servers: the customer's socket on Rasa 1, the agent console on
   Rasa 2; the agent's message must reach the socket (socket.io Redis manager);
3. load: locust (scripts/scale/locustfile.py), N users mixing REST and socket.io for
   a bounded time; one Rasa server is killed (-9) in the middle and restarted at
   once, then an action server is killed and restarted, PostgreSQL and Redis are
   restarted (chaos; the short version: Rasa and an action server); afterwards every
   message is counted in the tracker store and every handoff ticket looked up
   (scripts/scale/verify.py), and the restarted server must answer.

Prints the figures; exits non-zero if a message was lost or duplicated, a ticket is
missing, or a step failed.

    python scripts/scale/run.py                 # make scale-test: 50 users, 60 s
    python scripts/scale/run.py --short         # 15 users, 25 s (CI runs it via tests/scale)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # `python scripts/scale/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from scripts.scale.cluster import Cluster, say, start_cluster
from scripts.scale.journal import journal_record
from scripts.scale.verify import Report, existing_tickets, load_journal, tracker_counts, verify
from scripts.scale.widget import WidgetCustomer

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"

# kill_at: Rasa 1 killed (-9) and restarted; chaos: (component, seconds into the load) —
# "actions": action server 1 killed (-9) and restarted; "postgres": PostgreSQL restarted
# (every connection cut); "redis": Redis restarted (locks and socket.io channels gone).
FULL: dict[str, Any] = {
    "users": 50,
    "spawn_rate": 10,
    "duration": 60,
    "kill_at": 12,
    "chaos": (("actions", 22.0), ("postgres", 32.0), ("redis", 44.0)),
}
SHORT: dict[str, Any] = {
    "users": 15,
    "spawn_rate": 5,
    "duration": 25,
    "kill_at": 6,
    "chaos": (("actions", 14.0),),
}


# -- 1. burst ----------------------------------------------------------------------


@dataclass
class Burst:
    messages: int
    seconds: float
    slowest: float
    counts: dict[str, int]

    @property
    def exactly_once(self) -> bool:
        return all(n == 1 for n in self.counts.values())


def burst(cluster: Cluster, messages: int = 20, base_url: str | None = None) -> Burst:
    """`messages` REST messages at once into one conversation, through the balancer
    (no cookie: round robin over both servers) unless base_url is given."""
    sender = f"burst-{uuid.uuid4().hex[:10]}"
    tags = [uuid.uuid4().hex[:16] for _ in range(messages)]
    say(base_url or cluster.url, sender, "こんにちは")  # the conversation exists

    def one(tag: str) -> float:
        t = time.monotonic()
        say(base_url or cluster.url, sender, f"ACWとは? #{tag}", timeout=120)
        return time.monotonic() - t

    started = time.monotonic()
    with ThreadPoolExecutor(messages) as pool:
        took = list(pool.map(one, tags))
    seconds = time.monotonic() - started
    counts = tracker_counts(cluster.tracker_url)
    return Burst(messages, seconds, max(took), {t: counts.get(t, 0) for t in tags})


# -- 2. agent push across servers -------------------------------------------------------


def agent_push(cluster: Cluster) -> float:
    """Seconds from the agent's POST on Rasa 2 to the text in the socket held by Rasa 1."""
    from devtools.console_client import Console, add_agent

    customer = WidgetCustomer(cluster.rasa[0].url)
    try:
        customer.say("オペレーターと話したい")
        ticket = customer.wait_for("handoff", timeout=30)["ticket"]
        username = f"agent{uuid.uuid4().hex[:6]}"
        password = add_agent(cluster.env, username, "佐藤")
        console = Console(cluster.rasa[1].url)
        assert console.login(username, password).status_code == 200, "agent log-in failed"
        assert console.claim(ticket).status_code == 200, "claim failed"
        customer.wait_for("agent_joined", timeout=10)
        text = f"担当の佐藤です #{uuid.uuid4().hex[:16]}"
        started = time.monotonic()
        r = console.say(ticket, text)
        assert r.status_code == 201, f"agent message: HTTP {r.status_code} {r.text}"
        deadline = started + 10
        while time.monotonic() < deadline:
            if any(
                p.get("kind") == "agent_message" and p.get("text") == text
                for p in customer.payloads()
            ):
                return time.monotonic() - started
            time.sleep(0.005)
        raise AssertionError(
            f"the agent's message never reached the socket on the other server: {customer.kinds()}"
        )
    finally:
        customer.close()


# -- 3. load with a server killed ---------------------------------------------------------


def send_like_a_client(base_url: str, sender: str, text: str, step: str, channel: str) -> dict:
    """One tagged REST message with a client's retries (as scripts/scale/locustfile.py),
    recorded in the journal's format."""
    import requests

    rec = journal_record(channel, sender, text, step, first_sent=time.time())
    for attempt in range(6):
        rec["attempts"] += 1
        try:
            r = requests.post(
                f"{base_url}/webhooks/rest/webhook",
                json={"sender": sender, "message": rec["text"], "message_id": rec["message_id"]},
                timeout=60,
            )
            if r.status_code == 200:
                rec["acked"] = True
                rec["latency_ms"] = round((time.time() - rec["first_sent"]) * 1000, 1)
                for m in r.json():
                    custom = m.get("custom") or {}
                    rec["kinds"].append(custom.get("kind"))
                    if custom.get("kind") == "handoff":
                        rec["ticket"] = custom.get("ticket")
                return rec
            rec["errors"].append(f"HTTP {r.status_code} @{time.time():.1f}")
        except requests.RequestException as e:
            rec["errors"].append(f"{type(e).__name__} @{time.time():.1f}")
        time.sleep(min(8.0, 0.5 * 2**attempt))
    return rec


def under_way(cluster: Cluster, count: int) -> Callable[[], list[dict]]:
    """`count` new conversations each sending a message through the balancer (round
    robin: about half on each server) right now, half of them asking for a person;
    returns a function that waits for their records."""
    pool = ThreadPoolExecutor(count)
    futures = [
        pool.submit(
            send_like_a_client,
            cluster.url,
            f"lt-k-{uuid.uuid4().hex[:12]}",
            "オペレーターと話したい" if i % 2 else "ACWとは?",
            "handoff" if i % 2 else "question",
            "rest at kill",
        )
        for i in range(count)
    ]

    def records() -> list[dict]:
        out = [f.result() for f in futures]
        pool.shutdown()
        return out

    return records


@dataclass
class Load:
    report: Report
    users: int
    duration: int
    killed: str = ""
    killed_at: float = 0.0  # seconds into the run
    back_after: float | None = None  # seconds from kill -9 to the balancer seeing it up again
    locust_rc: int = 0
    locust_summary: str = ""
    restarted_answers: bool = False
    problems: list[str] = field(default_factory=list)
    chaos: list[str] = field(default_factory=list)  # what else was killed/restarted, when

    @property
    def ok(self) -> bool:
        return self.report.ok and not self.problems


def run_load(
    cluster: Cluster,
    users: int,
    spawn_rate: int,
    duration: int,
    kill_at: float | None,
    workdir: Path,
    log: Callable[[str], None] = print,
    socket_share: float = 0.5,
    handoff_share: float = 0.3,
    kill_messages: int = 10,
    chaos: Sequence[tuple[str, float]] = (),
) -> Load:
    journal = workdir / f"journal-{uuid.uuid4().hex[:6]}.jsonl"
    grace = 60  # for the messages under way at the end (retries included)
    env = dict(
        cluster.env,
        SCALE_JOURNAL=str(journal),
        SCALE_SOCKET_SHARE=str(socket_share),
        SCALE_HANDOFF_SHARE=str(handoff_share),
        SCALE_END_AT=str(time.time() + duration),
        SCALE_GRACE=str(grace),
    )
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--host",
        cluster.url,
        "-u",
        str(users),
        "-r",
        str(spawn_rate),
        "-t",
        f"{duration + grace + 30}s",
        "--stop-timeout",
        "10",
        "--only-summary",
        "--loglevel",
        "WARNING",
        "--exit-code-on-error",
        "0",
    ]
    out_path = workdir / "locust.out"
    log(
        f"load: {users} users for {duration}s against {cluster.url}"
        + (f", kill -9 {cluster.rasa[0].name} at {kill_at}s" if kill_at is not None else "")
    )
    started = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            cmd, cwd=str(HERE.parents[1]), env=env, stdout=out, stderr=subprocess.STDOUT
        )
    load = Load(Report({}, verify([], Counter(), {}).total, 0), users, duration)
    restart: threading.Thread | None = None
    at_kill: Callable[[], list[dict]] = list
    if kill_at is not None:
        node = cluster.rasa[0]
        while time.monotonic() - started < kill_at and proc.poll() is None:
            time.sleep(0.1)
        # The kill must hit messages being processed: send some now, kill while they run.
        at_kill = under_way(cluster, kill_messages)
        time.sleep(0.15)
        cluster.kill_rasa(node)
        killed = time.monotonic()
        load.killed, load.killed_at = node.name, killed - started
        log(f"load: killed {node.name} (kill -9) at {load.killed_at:.1f}s; restarting it")

        def bring_back() -> None:
            try:
                cluster.start_rasa(node, wait=True, timeout=300)
                cluster.wait_lb_up([node.name], timeout=60)
                load.back_after = time.monotonic() - killed
                log(
                    f"load: {node.name} back behind the balancer"
                    f" {load.back_after:.1f}s after the kill"
                )
            except Exception as e:  # noqa: BLE001 - reported as a problem
                load.problems.append(f"{node.name} did not come back: {e}")

        restart = threading.Thread(target=bring_back, daemon=True)
        restart.start()
    chaos_threads = run_chaos(cluster, chaos, started, proc, load, log)
    load.locust_rc = proc.wait()
    for t in chaos_threads:
        t.join(300)
    log(f"load: locust finished after {time.monotonic() - started:.1f}s (exit {load.locust_rc})")
    if restart is not None:
        restart.join(300)
        if load.back_after is not None:
            try:  # the restarted server answers, REST and socket.io
                node = cluster.rasa[0]
                say(node.url, f"lt-after-{uuid.uuid4().hex[:8]}", "ACWとは?")
                c = WidgetCustomer(node.url)
                c.say("SVとは?")
                c.wait_for("definition", timeout=30)
                c.close()
                load.restarted_answers = True
            except Exception as e:  # noqa: BLE001
                load.problems.append(f"restarted server does not answer: {e!r}")
    summary = out_path.read_text(errors="replace")
    load.locust_summary = (
        summary[summary.find("Type ") :] if "Type " in summary else summary[-3000:]
    )
    if load.locust_rc != 0:
        load.problems.append(f"locust exited {load.locust_rc}:\n{summary[-2000:]}")
    records = load_journal(journal)
    if not records:
        load.problems.append("no journal written by the load clients")
    records += at_kill()
    counts = tracker_counts(cluster.tracker_url, ("lt-", "ws-"))
    tickets = existing_tickets(
        cluster.handoff_url, [r["ticket"] for r in records if r.get("ticket")]
    )
    load.report = verify(records, counts, tickets)
    return load


def run_chaos(
    cluster: Cluster,
    chaos: Sequence[tuple[str, float]],
    started: float,
    proc: subprocess.Popen,
    load: Load,
    log: Callable[[str], None],
) -> list[threading.Thread]:
    """Kill or restart the other components at their times (seconds into the load)."""
    threads: list[threading.Thread] = []
    for component, at in sorted(chaos, key=lambda c: c[1]):
        while time.monotonic() - started < at and proc.poll() is None:
            time.sleep(0.1)
        if proc.poll() is not None:
            load.problems.append(f"the load ended before {component} at {at}s")
            break
        t0 = time.monotonic()
        when = t0 - started
        try:
            if component == "actions":
                cluster.kill_actions(0)
                log(f"load: killed actions1 (kill -9) at {when:.1f}s; restarting it")

                def back(t0: float = t0, when: float = when) -> None:
                    try:
                        cluster.start_actions(0)
                        cluster.wait_lb_up(["actions1"], timeout=60)
                        load.chaos.append(
                            f"action server 1 killed (-9) at {when:.1f}s, back behind the "
                            f"balancer {time.monotonic() - t0:.1f}s later"
                        )
                    except Exception as e:  # noqa: BLE001 - reported
                        load.problems.append(f"actions1 did not come back: {e}")

                thread = threading.Thread(target=back, daemon=True)
                thread.start()
                threads.append(thread)
            elif component == "postgres":
                cluster.restart_postgres()
                load.chaos.append(
                    f"PostgreSQL restarted at {when:.1f}s (down and up in "
                    f"{time.monotonic() - t0:.1f}s, every connection cut)"
                )
            elif component == "redis":
                cluster.restart_redis()
                load.chaos.append(
                    f"Redis restarted at {when:.1f}s (down and up in {time.monotonic() - t0:.1f}s, "
                    "locks and socket.io channels gone)"
                )
            else:
                load.problems.append(f"unknown chaos component {component!r}")
                continue
            if component != "actions":  # (the action server's line comes when it is back)
                log(f"load: {load.chaos[-1]}")
        except Exception as e:  # noqa: BLE001 - reported
            load.problems.append(f"{component} at {at}s failed: {e}")
    return threads


def describe(load: Load) -> str:
    lines = [
        f"{load.users} users, {load.duration}s, REST + socket.io through HAProxy,"
        " 2 Rasa + 2 action servers"
    ]
    if load.killed:
        back = (
            f"back behind the balancer after {load.back_after:.1f}s"
            if load.back_after
            else "NOT back"
        )
        lines.append(
            f"{load.killed} killed (-9) at {load.killed_at:.1f}s and restarted: {back}"
            + ("; answers REST and socket.io" if load.restarted_answers else "")
        )
    lines += load.chaos
    lines.append(load.report.table())
    lines += [f"PROBLEM: {p}" for p in load.problems]
    if load.report.total.lost or load.report.total.duplicated or load.report.total.tickets_missing:
        lines.append("FAILED: messages lost or duplicated, or tickets missing")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--short", action="store_true", help=f"the CI version: {SHORT}")
    ap.add_argument("--users", type=int)
    ap.add_argument("--spawn-rate", type=int)
    ap.add_argument("--duration", type=int, help="seconds of load")
    ap.add_argument("--kill-at", type=float, help="seconds into the load when Rasa 1 is killed")
    ap.add_argument("--no-kill", action="store_true")
    ap.add_argument(
        "--no-chaos",
        action="store_true",
        help="kill only Rasa 1 (no action server, PostgreSQL or Redis restarts)",
    )
    ap.add_argument("--socket-share", type=float, default=0.5)
    ap.add_argument("--handoff-share", type=float, default=0.3)
    ap.add_argument(
        "--keep", action="store_true", help="leave the cluster running (Ctrl-C stops it)"
    )
    args = ap.parse_args(argv)
    cfg = dict(SHORT if args.short else FULL)
    for k in cfg:
        if getattr(args, k, None) is not None:
            cfg[k] = getattr(args, k)
    t0 = time.monotonic()
    cluster = start_cluster()
    failed = []
    try:
        print(
            f"cluster up in {time.monotonic() - t0:.1f}s: balancer {cluster.url}, "
            f"Rasa {[n.port for n in cluster.rasa]}, actions {[a.port for a in cluster.actions]}",
            flush=True,
        )
        b = burst(cluster)
        print(
            f"burst: {b.messages} messages at once into one conversation (both servers): "
            f"{b.seconds:.2f}s, slowest reply {b.slowest:.2f}s, "
            + ("each in the tracker once" if b.exactly_once else f"NOT exactly once: {b.counts}"),
            flush=True,
        )
        if not b.exactly_once:
            failed.append("burst")
        try:
            push = agent_push(cluster)
            print(
                "agent push across servers (console on rasa2 → socket on rasa1):"
                f" {push * 1000:.0f} ms",
                flush=True,
            )
        except Exception as e:  # noqa: BLE001
            print(f"agent push across servers FAILED: {e}", flush=True)
            failed.append("agent push")
        load = run_load(
            cluster,
            cfg["users"],
            cfg["spawn_rate"],
            cfg["duration"],
            None if args.no_kill else cfg["kill_at"],
            cluster.workdir,
            socket_share=args.socket_share,
            handoff_share=args.handoff_share,
            chaos=() if args.no_chaos else cfg["chaos"],
        )
        print("\nlocust:\n" + load.locust_summary, flush=True)
        print("\n" + describe(load), flush=True)
        if not load.ok:
            failed.append("load")
        if args.keep:
            print(f"cluster kept: balancer {cluster.url}; Ctrl-C stops it")
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
    finally:
        if failed:
            print(cluster.tail_logs(15))
        cluster.stop()
    print(
        f"\nscale test {'FAILED: ' + ', '.join(failed) if failed else 'passed'} "
        f"({time.monotonic() - t0:.0f}s in all)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
