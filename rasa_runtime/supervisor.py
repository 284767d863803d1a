"""`python -m rasa_runtime.supervisor NAME CMD... [--- NAME CMD...]...`: keep a few
processes up, the way `make run` needs it.

`scripts/run.sh` used to `wait -n` for its children: the first crash (the action
server on a bad request, Rasa killed by the OOM killer) took the whole stack
down. Here each child runs in its own session, and when one exits it is started
again after a short backoff (1 s, doubling up to 30 s while it keeps dying within
a minute of its start). Ctrl-C / SIGTERM stop everything: SIGTERM to each child's
process group, SIGKILL after a grace period. On Linux the children also get
SIGTERM if the supervisor itself is killed (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

SEPARATOR = "---"
BACKOFF_START = 1.0
BACKOFF_MAX = 30.0
STABLE_AFTER = 60.0  # a child up this long starts again from the shortest backoff
GRACE = 15.0


def log(message: str) -> None:
    sys.stderr.write(f"supervisor: {message}\n")
    sys.stderr.flush()


def _die_with_parent() -> None:  # runs in the child between fork and exec
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - not Linux: the stop path still works
        pass


@dataclass
class Child:
    name: str
    argv: list[str]
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    failures: int = 0  # consecutive exits soon after a start
    restart_at: float | None = None
    restarts: int = 0
    history: list[int] = field(default_factory=list)

    def start(self) -> None:
        self.popen = subprocess.Popen(
            self.argv, start_new_session=True, preexec_fn=_die_with_parent
        )
        self.started_at = time.monotonic()
        self.restart_at = None
        log(f"{self.name} started (pid {self.popen.pid})")

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.popen is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)


def parse_specs(args: Sequence[str]) -> list[Child]:
    children: list[Child] = []
    group: list[str] = []
    for arg in [*args, SEPARATOR]:
        if arg == SEPARATOR:
            if group:
                if len(group) < 2:
                    raise SystemExit(f"supervisor: {group[0]!r} has no command")
                children.append(Child(group[0], group[1:]))
            group = []
        else:
            group.append(arg)
    if not children:
        raise SystemExit(
            "usage: python -m rasa_runtime.supervisor NAME CMD... [--- NAME CMD...]..."
        )
    names = [c.name for c in children]
    if len(set(names)) != len(names):
        raise SystemExit(f"supervisor: duplicate names in {names}")
    return children


class Supervisor:
    def __init__(self, children: list[Child], grace: float = GRACE, poll: float = 0.2):
        self.children = children
        self.grace = grace
        self.poll = poll
        self.stopping = False
        self.exit_code = 0

    def _on_signal(self, signum: int, _frame: Any) -> None:
        if not self.stopping:
            names = ", ".join(c.name for c in self.children)
            log(f"{signal.Signals(signum).name}: stopping {names}")
        self.stopping = True
        self.exit_code = 128 + signum

    def backoff(self, child: Child) -> float:
        return min(BACKOFF_MAX, BACKOFF_START * 2.0 ** max(0, child.failures - 1))

    def step(self, now: float) -> None:
        for child in self.children:
            if child.running():
                continue
            if child.restart_at is None:
                code = child.popen.returncode if child.popen else None
                lived = now - child.started_at
                child.failures = 1 if lived >= STABLE_AFTER else child.failures + 1
                delay = self.backoff(child)
                child.restart_at = now + delay
                child.history.append(code if code is not None else -1)
                how = (
                    f"killed by {signal.Signals(-code).name}"
                    if code and code < 0
                    else f"exit status {code}"
                )
                log(
                    f"{child.name} (pid {child.pid}) stopped ({how}) after {lived:.0f} s; "
                    f"restarting in {delay:.0f} s"
                )
            elif now >= child.restart_at:
                child.restarts += 1
                child.start()

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            # An ignored signal stays ignored: `scripts/run.sh shell` runs us in the
            # background, where Ctrl-C is for `rasa shell`, not for us.
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.signal(sig, self._on_signal)
        for child in self.children:
            child.start()
        try:
            while not self.stopping:
                self.step(time.monotonic())
                time.sleep(self.poll)
        finally:
            self.stop()
        return self.exit_code

    def stop(self) -> None:
        for child in self.children:
            if child.running():
                child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        for child in self.children:
            if child.popen is None:
                continue
            try:
                child.popen.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log(f"{child.name} ignored SIGTERM for {self.grace:.0f} s: SIGKILL")
                child.signal_group(signal.SIGKILL)
                child.popen.wait()
            # Whatever the child left in its group (workers) goes too.
            child.signal_group(signal.SIGKILL)
        log("stopped")


def main(argv: Sequence[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    grace = GRACE
    if args[:1] == ["--grace"]:
        grace = float(args[1])
        args = args[2:]
    sys.exit(Supervisor(parse_specs(args), grace=grace).run())


if __name__ == "__main__":
    main()
