"""Moved to devtools/console_client.py: the test and bench harness is not part of the runtime.
This alias keeps `rasa_runtime.console_client` imports written before the move working (the
same module object, so patches of its attributes apply to both names); new code
imports `devtools.console_client`. Remove once nothing imports this name."""

import sys

from devtools import console_client as _moved

sys.modules[__name__] = _moved
