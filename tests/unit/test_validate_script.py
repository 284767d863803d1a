"""scripts/validate.py lets through only the warnings it explains."""

import importlib.util
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "validate", Path(__file__).parents[2] / "scripts" / "validate.py"
)
validate = importlib.util.module_from_spec(spec)
spec.loader.exec_module(validate)


def test_allowed_warnings_pass_and_others_fail():
    out = (
        "io.py:100: UserWarning: The utterance 'utter_faq' is not used in any story or rule.\n"
        "io.py:100: UserWarning: The following duplicated intents have been found"
        " across multiple domain files: faq\n"
    )
    assert validate.unexpected_warnings(out) == []
    bad = (
        out
        + "io.py:100: UserWarning: The utterance 'utter_greet' is not used in any story or rule.\n"
    )
    assert validate.unexpected_warnings(bad) == [
        "The utterance 'utter_greet' is not used in any story or rule."
    ]
    dup = (
        "UserWarning: The following duplicated intents have been found"
        " across multiple domain files: faq, greet\n"
    )
    assert len(validate.unexpected_warnings(dup)) == 1
