"""rasa_runtime.speedups validates action-server results exactly like Rasa does."""

from typing import Any

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from rasa_runtime import speedups

VALID: list[dict[str, Any]] = [
    {"events": [], "responses": []},
    {
        "events": [{"event": "slot", "name": "term", "value": "ACW", "timestamp": None}],
        "responses": [{"text": "ACWとは…", "custom": {"kind": "definition"}, "buttons": []}],
    },
    {
        "events": [{"event": "followup", "name": "action_handoff", "timestamp": None}],
        "responses": [],
    },
]
INVALID: list[Any] = [
    {"events": [{"event": "slot"}], "responses": []},  # slot event without a name
    {"events": [{"event": "no_such_event"}], "responses": []},
    {"events": "not a list", "responses": []},
]


@pytest.mark.parametrize("result", VALID)
def test_valid_results_pass(result):
    jsonschema.validate(result, RemoteAction.action_response_format_spec())  # Rasa's check agrees
    speedups.validate_action_result(result)


@pytest.mark.parametrize("result", INVALID)
def test_invalid_results_raise_as_in_rasa(result):
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError):
        speedups.validate_action_result(result)


def test_apply_patches_rasa_and_keeps_rejecting_bad_results():
    speedups.apply()
    speedups.apply()  # idempotent
    action = RemoteAction("action_define_term", None)
    assert action._validate_action_result(VALID[1]) is True
    with pytest.raises(jsonschema.ValidationError) as err:
        action._validate_action_result(INVALID[0])
    assert "Failed to validate Action server response" in err.value.message
