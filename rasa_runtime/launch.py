"""Moved to devtools/launch.py: the test and bench harness is not part of the runtime.
This alias keeps `rasa_runtime.launch` imports written before the move working (the
same module object, so patches of its attributes apply to both names); new code
imports `devtools.launch`. Remove once nothing imports this name."""

import sys

from devtools import launch as _moved

sys.modules[__name__] = _moved
