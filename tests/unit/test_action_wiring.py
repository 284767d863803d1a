"""actions/: one composition root, imports that run one way, nothing built at import,
the turn's facts read once."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
ACTIONS = REPO / "actions"


def _local_imports(tree: ast.AST):
    """(module imported from actions/, inside a function?) for each relative import."""

    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            nested = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.ImportFrom) and (
                child.level or (child.module or "").startswith("actions")
            ):
                if child.level and child.module:
                    yield child.module.split(".")[0], in_function
                else:
                    for alias in child.names:
                        yield (
                            (child.module or "").removeprefix("actions").strip(".") or alias.name,
                            in_function,
                        )
            yield from walk(child, nested)

    yield from walk(tree, False)


def test_actions_import_one_way_at_module_level():
    graph, inside = {}, []
    for path in ACTIONS.glob("*.py"):
        found = list(_local_imports(ast.parse(path.read_text(encoding="utf-8"))))
        graph[path.stem] = {m for m, _ in found}
        inside += [f"{path.stem} -> {m}" for m, in_fn in found if in_fn]
    assert inside == []  # no cycle worked around with an import inside a function
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as e:
        pytest.fail(f"import cycle in actions/: {e.args[1]}")
    assert order.index("services") < order.index("route")


def test_importing_the_actions_builds_no_store_and_starts_no_thread(tmp_path):
    db = tmp_path / "handoff.db"
    code = (
        "import threading, actions.route, actions.handoff_actions, actions.training_actions;"
        "print(sorted(t.name for t in threading.enumerate()))"
    )
    env = {
        **os.environ,
        "HANDOFF_DB_URL": f"sqlite:///{db}",
        "HANDOFF_WEBHOOK_URL": "http://127.0.0.1:9/hook",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "['MainThread']"
    assert not db.exists()


def test_reset_forgets_every_built_service(tmp_path, monkeypatch):
    from actions import services

    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'a.db'}")
    services.reset()
    first = (services.store(), services.training_store(), services.handoff(), services.knowledge())
    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'b.db'}")
    services.reset()
    second = (services.store(), services.training_store(), services.handoff(), services.knowledge())
    assert all(a is not b for a, b in zip(first, second, strict=True))
    assert str(services.store().engine.url).endswith("b.db")
    assert services.trainer().store.engine is services.store().engine
    assert services.handoff().store is services.store()
    services.reset()


def test_the_training_state_is_read_once_per_turn(tmp_path, monkeypatch):
    from actions import services
    from actions.route import ActionRoute
    from assistant.training.session import Trainer
    from tests.unit.test_actions import kinds, make_tracker, run

    monkeypatch.setenv("HANDOFF_DB_URL", f"sqlite:///{tmp_path / 'h.db'}")
    services.reset()
    reads = []
    real = Trainer.active

    def counted(self, sender):
        reads.append(sender)
        return real(self, sender)

    monkeypatch.setattr(Trainer, "active", counted)
    for text, kind in [
        ("アップセルとは", "unknown_term"),
        ("ACWとは?", "definition"),
        ("😀", "fallback"),
    ]:
        reads.clear()
        messages, _ = run(ActionRoute(), make_tracker(text))
        assert kinds(messages)[:1] == [kind]
        assert reads == ["u1"]
    services.reset()
