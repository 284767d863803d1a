"""Rasa's prediction graph run in plain topological order instead of through dask.

Rasa 3.6 runs the NLU graph (once a message) and the policy graph (about twice a
message) with `DaskGraphRunner`: each run recomputes the minimal schema for the
targets, builds a dask graph and hands it to dask's synchronous scheduler, which
orders and executes the same nodes one after the other. For a dozen small nodes that
bookkeeping cost about as much as the nodes (py-spy at 16 clients: dask's
`get_async` ~37 % of the Rasa process's busy time, the nodes inside it included).

`SequentialGraphRunner` keeps everything that matters — the same instantiated nodes,
the same `(name, value)` inputs to each `GraphNode`, the same result dict and
`GraphRunError` for a clash or a failure — and caches the order per target list.
Training still uses dask (it is not called per message). `apply()` makes Rasa's
message processor load models with it (`python -m rasa_runtime`).
"""

from __future__ import annotations

import graphlib
from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner


class SequentialGraphRunner(DaskGraphRunner):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # per target list: the nodes it needs, in an order that runs each after its needs
        self._plans: dict[tuple[str, ...], tuple[list[str], GraphSchema]] = {}

    def _plan(self, targets: list[str]) -> tuple[list[str], GraphSchema]:
        key = tuple(targets)
        if key not in self._plans:
            schema = self._graph_schema.minimal_graph_schema(targets)
            needs = {
                name: [n for n in node.needs.values() if n in schema.nodes]
                for name, node in schema.nodes.items()
            }
            try:
                order = list(graphlib.TopologicalSorter(needs).static_order())
            except graphlib.CycleError as e:
                raise GraphRunError(f"Cycle in the graph: {e.args[1]}") from e
            self._plans[key] = (order, schema)
        return self._plans[key]

    def run(
        self,
        inputs: dict[str, Any] | None = None,
        targets: list[str] | None = None,
    ) -> dict[str, Any]:
        run_targets = list(targets) if targets else self._graph_schema.target_names
        order, schema = self._plan(run_targets)
        inputs = inputs or {}
        for value in inputs.values():
            if isinstance(value, str) and value in schema.nodes:
                raise GraphRunError(
                    f"Input value '{value}' clashes with a node name. Make sure "
                    f"that none of the input names passed to the `run` method are the "
                    f"same as node names in the graph schema."
                )
        results: dict[str, Any] = {}
        try:
            for name in order:
                args = []
                for need in schema.nodes[name].needs.values():
                    if need in results:
                        args.append(results[need])
                    elif need in inputs:
                        args.append((need, inputs[need]))  # as dask passes an input
                    else:
                        raise GraphRunError(f"Node '{name}' needs '{need}', which is missing.")
                results[name] = self._instantiated_nodes[name](*args)
        except RuntimeError as e:
            raise GraphRunError("Error running runner.") from e
        return dict(results[t] for t in run_targets)


def apply() -> None:
    """Make Rasa's MessageProcessor load its prediction graph with this runner."""
    import rasa.core.processor

    from rasa_runtime import rasa_version

    rasa_version.check("rasa_runtime.graph_runner")
    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # type: ignore[misc]
