"""rasa_runtime/rasa_version.py: every patch of Rasa refuses a Rasa it was not written
for, and leaves Rasa untouched then; the versions it was written for are the pin."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rasa_runtime import (
    action_pool,
    graph_runner,
    lockwait,
    quiet,
    rasa_version,
    speedups,
    unavailable,
)
from rasa_runtime.rasa_version import UnsupportedRasaVersion

REPO = Path(__file__).resolve().parents[2]


def test_written_for_the_pinned_and_installed_rasa():
    pin = re.search(r"^rasa==(\S+)$", (REPO / "requirements.txt").read_text(), re.M).group(1)
    assert pin in rasa_version.WRITTEN_FOR
    assert rasa_version.installed() == pin
    rasa_version.check("any patch")  # the installed Rasa passes


def test_another_rasa_is_refused_with_a_clear_message():
    with pytest.raises(UnsupportedRasaVersion) as error:
        rasa_version.check("rasa_runtime.lockwait", version="3.7.0")
    message = str(error.value)
    assert "rasa_runtime.lockwait" in message and "3.7.0" in message
    assert "3.6.21" in message and "rasa_runtime/rasa_version.py" in message


def _patched_attributes():
    import rasa.core.processor
    import rasa.core.run
    import rasa.utils.common
    from rasa.core.actions.action import RemoteAction
    from rasa.core.lock_store import LockStore
    from rasa.utils.endpoints import EndpointConfig

    return {
        "RemoteAction.run": RemoteAction.run,
        "RemoteAction._validate_action_result": RemoteAction._validate_action_result,
        "processor.DaskGraphRunner": rasa.core.processor.DaskGraphRunner,
        "LockStore.lock": LockStore.lock,
        "LockStore.issue_ticket": LockStore.issue_ticket,
        "common._filter_warnings": rasa.utils.common._filter_warnings,
        "EndpointConfig.request": EndpointConfig.request,
        "run.close_resources": rasa.core.run.close_resources,
    }


@pytest.mark.parametrize(
    "apply",
    [
        speedups.apply,
        graph_runner.apply,
        unavailable.apply,
        action_pool.apply,
        lockwait.apply,
        quiet.apply_to_rasa,
    ],
    ids=lambda f: f.__module__,
)
def test_each_patch_refuses_a_rasa_it_was_not_written_for(apply, monkeypatch):
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)  # quiet stands back when set
    monkeypatch.setattr("sys.warnoptions", [])
    monkeypatch.setattr(rasa_version, "WRITTEN_FOR", frozenset({"3.5.0"}))
    before = _patched_attributes()
    with pytest.raises(UnsupportedRasaVersion, match=apply.__module__):
        apply()
    assert _patched_attributes() == before  # nothing patched


def test_the_fast_tracker_store_refuses_too(monkeypatch, tmp_path):
    from rasa_runtime.tracker_store import FastSQLTrackerStore

    monkeypatch.setattr(rasa_version, "WRITTEN_FOR", frozenset({"3.5.0"}))
    with pytest.raises(UnsupportedRasaVersion, match="FastSQLTrackerStore"):
        FastSQLTrackerStore(dialect="sqlite", db=str(tmp_path / "t.db"))
