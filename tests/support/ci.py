"""Skip locally, fail in CI: for tests that need something a developer's machine may lack
(a trained model, PostgreSQL, Redis, Chromium, the seed texts). CI sets the environment
variable CI and must run every test, so there a missing piece is a failure, not a skip."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def in_ci() -> bool:
    return bool(os.environ.get("CI"))


def unavailable(reason: str) -> NoReturn:
    """Skip the test (or fixture) with `reason`; fail it instead when CI is set."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason)
