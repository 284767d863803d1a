"""Third-party deprecation warnings off, ours on.

`make run` used to print a screen of DeprecationWarnings (pkg_resources, pyparsing
via matplotlib/packaging, click via typer/spaCy, distutils via sanic_cors,
SQLAlchemy via Rasa's tracker store) before its first useful line. None of them is
ours to fix, and they hid the lines that matter. Warnings attributed to this
project's own modules stay visible; an explicit PYTHONWARNINGS / -W wins.

Two libraries put broader filters in front of ours later: Sanic's import adds
`once` for every DeprecationWarning (so it is imported first), and Rasa's CLI adds
`once` for every UserWarning when it configures logging, which catches
pyparsing's deprecation warnings (UserWarning subclasses too) — `apply_to_rasa`
puts ours back in front after that.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
from typing import Any

OWN_MODULES = r"(actions|assistant|channels|components|devtools|rasa_runtime|scripts|tests)(\..*)?$"
CATEGORIES = (DeprecationWarning, PendingDeprecationWarning, FutureWarning)


def _explicit() -> bool:
    return bool(os.environ.get("PYTHONWARNINGS") or sys.warnoptions)


def _install() -> None:
    # Each call moves these filters to the front (warnings drops the duplicates).
    for category in CATEGORIES:
        warnings.filterwarnings("ignore", category=category)
    for category in CATEGORIES:
        warnings.filterwarnings("default", category=category, module=OWN_MODULES)


def quiet_third_party_warnings() -> None:
    if _explicit():
        return
    with contextlib.suppress(ImportError):  # sanic comes with rasa and rasa-sdk
        import sanic  # noqa: F401  (see the module docstring)
    _install()


def apply_to_rasa() -> None:
    """Re-install our filters after Rasa's CLI has set up its own."""
    if _explicit():
        return
    import rasa.utils.common as common

    from rasa_runtime import rasa_version

    rasa_version.check("rasa_runtime.quiet")
    original = common._filter_warnings
    if getattr(original, "_quiet", False):
        return

    def _filter_warnings(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        _install()

    _filter_warnings._quiet = True  # type: ignore[attr-defined]
    common._filter_warnings = _filter_warnings
