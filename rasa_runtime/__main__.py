"""`python -m rasa_runtime <rasa CLI arguments>`: Rasa's CLI with this project's
runtime fixes applied first:

* `quiet`: third-party deprecation warnings off (ours stay on);
* `auth`: ACTION_ENDPOINT_URL defaults to the local action server for
  endpoints.yml, and every action call carries ACTION_SERVER_TOKEN;
* `speedups`: the action-response validator built once;
* `unavailable`: a failed action call still answers the user and records a
  handoff request or follow-up on the ticket.
* `action_pool`: one keep-alive connection pool per event loop for the action
  server instead of a new connection per call (ACTION_CONNECTION_REUSE).
* `graph_runner`: the prediction graph run in order, without dask's bookkeeping;
* `lockwait`: conversation locks without Rasa's 1-second sleep between looks,
  atomic on Redis, renewed while held (a dead server's lock ends after
  TICKET_LOCK_LIFETIME, 10 s).
* `loud_store`: a tracker store error fails the turn instead of Rasa's silent
  fallback to memory (no turn acknowledged unsaved).
* `memory`: malloc_trim every MALLOC_TRIM_EVERY seconds; with MEMTRACE_DIR set,
  tracemalloc snapshots on SIGUSR1 (scripts/soak.py, docs/memory.md).

Each refuses to patch a Rasa it was not written for (`rasa_version`).
"""

from assistant.settings import check_or_exit
from rasa_runtime import quiet


def main() -> None:
    # Every setting checked first: a bad value stops start-up with one line naming it.
    check_or_exit("rasa_runtime")
    quiet.quiet_third_party_warnings()
    from rasa_runtime.memory import install_memory_hooks

    install_memory_hooks()  # MALLOC_TRIM_EVERY, MEMTRACE_DIR (docs/memory.md)
    from rasa_runtime import auth, graph_runner, speedups, unavailable

    quiet.apply_to_rasa()

    auth.set_default_action_endpoint_url()
    speedups.apply()
    graph_runner.apply()
    unavailable.apply()
    from rasa_runtime import action_pool

    action_pool.apply()
    from rasa_runtime import lockwait

    lockwait.apply()
    from rasa_runtime import loud_store

    loud_store.apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
