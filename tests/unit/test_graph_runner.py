"""SequentialGraphRunner (rasa_runtime/graph_runner.py) gives what Rasa's DaskGraphRunner
gives: same results for every target list (diamond dependencies, inputs, a subset of
targets, repeated runs), the same GraphRunError on a clashing input or a failing node,
and `apply()` makes Rasa's message processor use it."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage

from rasa_runtime.graph_runner import SequentialGraphRunner, apply

CALLS: list = []


class Add(GraphComponent):
    """Adds its config's `n` to the sum of its inputs and records the call."""

    def __init__(self, n: int) -> None:
        self.n = n

    @classmethod
    def create(cls, config: dict[str, Any], model_storage, resource, execution_context) -> Add:
        return cls(config["n"])

    def run(self, **inputs: Any) -> int:
        CALLS.append(self.n)
        if self.n < 0:
            raise RuntimeError("boom")
        return self.n + sum(inputs.values())


def node(n: int, needs: dict[str, str], target: bool = False) -> SchemaNode:
    return SchemaNode(
        needs=needs,
        uses=Add,
        constructor_name="create",
        fn="run",
        config={"n": n},
        is_target=target,
    )


# x → a → (b, c) → d (diamond); e hangs off x alone; f fails
SCHEMA = GraphSchema(
    {
        "a": node(1, {"x": "__x__"}),
        "b": node(10, {"a": "a"}),
        "c": node(100, {"a": "a"}),
        "d": node(1000, {"b": "b", "c": "c"}, target=True),
        "e": node(7, {"x": "__x__"}, target=True),
        "f": node(-1, {"a": "a"}),
    }
)


@pytest.fixture
def runners(tmp_path):
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(SCHEMA, "test")
    return (
        DaskGraphRunner.create(SCHEMA, storage, context),
        SequentialGraphRunner.create(SCHEMA, storage, context),
    )


@pytest.mark.parametrize("targets", [None, ["d"], ["e"], ["b", "c"], ["d", "a"], ["c", "b", "e"]])
@pytest.mark.parametrize("x", [0, 5])
def test_same_results_as_dask(runners, targets, x):
    dask_runner, sequential = runners
    expected = dask_runner.run(inputs={"__x__": x}, targets=targets)
    for _ in range(2):  # the cached plan gives the same again
        assert sequential.run(inputs={"__x__": x}, targets=targets) == expected


def test_each_node_runs_once_per_run(runners):
    _, sequential = runners
    CALLS.clear()
    sequential.run(inputs={"__x__": 1}, targets=["d", "b", "c"])
    assert sorted(CALLS) == [1, 10, 100, 1000]  # a once, though b, c and d need it


def test_errors_are_graph_run_errors(runners):
    dask_runner, sequential = runners
    for runner in runners:
        with pytest.raises(GraphRunError):
            runner.run(inputs={"__x__": "a"}, targets=["d"])  # an input value naming a node
    with pytest.raises(Exception) as from_dask:
        dask_runner.run(inputs={"__x__": 1}, targets=["f"])
    with pytest.raises(Exception) as from_sequential:
        sequential.run(inputs={"__x__": 1}, targets=["f"])
    assert type(from_sequential.value) is type(from_dask.value)
    with pytest.raises(GraphRunError):
        sequential.run(inputs={}, targets=["e"])  # a missing input


def test_apply_makes_the_processor_load_with_it(monkeypatch):
    import rasa.core.processor

    monkeypatch.setattr(rasa.core.processor, "DaskGraphRunner", DaskGraphRunner)
    apply()
    assert rasa.core.processor.DaskGraphRunner is SequentialGraphRunner
