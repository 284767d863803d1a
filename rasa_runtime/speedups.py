"""Measured fixes to Rasa 3.6 hot paths, applied before the server starts.

Custom-action results: Rasa validates every action-server response with
`jsonschema.validate(result, schema)`, which first re-checks Rasa's own constant
schema against the draft 2020-12 meta-schema. On the 2-core CI machine that is
~36 ms per custom action call (a definition answer makes one, a handoff two or
three) against ~2 ms for validating the response itself; see README, Measurements.
The replacement validates against the same schema with a validator built once and
raises the same `ValidationError` (the best match, as `jsonschema.validate` does).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema
from jsonschema.exceptions import best_match


@lru_cache(maxsize=1)
def _action_result_validator() -> Any:
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)  # once, instead of on every call
    return cls(schema)


def validate_action_result(result: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError if `result` is not a valid action-server response."""
    error = best_match(_action_result_validator().iter_errors(result))
    if error is not None:
        raise error


def apply() -> None:
    from rasa.core.actions.action import RemoteAction

    from rasa_runtime import rasa_version

    rasa_version.check("rasa_runtime.speedups")

    original = RemoteAction._validate_action_result
    if getattr(original, "_speedup", False):
        return

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validate_action_result(result)
        except jsonschema.ValidationError:
            # Rasa's own path words the error for the user; the result is invalid either way.
            return original(self, result)
        return True

    _validate_action_result._speedup = True  # type: ignore[attr-defined]
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
