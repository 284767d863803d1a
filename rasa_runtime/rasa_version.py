"""The Rasa versions this project's patches of Rasa were written for, in one place.

`speedups`, `graph_runner`, `unavailable`, `action_pool`, `lockwait`, `quiet.apply_to_rasa` and
`FastSQLTrackerStore` replace or wrap Rasa internals (private methods, module
globals, the SQL store's table and queries). Each was measured and tested against
Rasa's own behaviour for the versions below; on any other Rasa they refuse to apply
(UnsupportedRasaVersion at start) instead of silently patching code that may have
changed under them. Moving to another Rasa: pin it, re-check each patch against that
Rasa's code and its own tests, run `make test`, then add the version here.
"""

from __future__ import annotations

WRITTEN_FOR = frozenset({"3.6.21"})  # requirements.txt pins rasa==3.6.21


class UnsupportedRasaVersion(RuntimeError):
    pass


def installed() -> str:
    from rasa.version import __version__

    return __version__


def check(patch: str, version: str | None = None) -> None:
    """Raise UnsupportedRasaVersion unless `patch` was written for the installed Rasa
    (or for `version`)."""
    version = version or installed()
    if version not in WRITTEN_FOR:
        raise UnsupportedRasaVersion(
            f"{patch} was written for Rasa {', '.join(sorted(WRITTEN_FOR))}, "
            f"not for the installed Rasa {version}: refusing to patch it. Re-check the "
            f"patch against this Rasa, then add the version to rasa_runtime/rasa_version.py."
        )
