"""devtools/: the harness moved out of rasa_runtime/."""


def test_the_old_harness_names_are_the_moved_modules():
    """rasa_runtime.launch / .console_client moved to devtools/; the old names are
    aliases of the same modules while other branches still import them."""
    import devtools.console_client
    import devtools.launch
    import rasa_runtime.console_client
    import rasa_runtime.launch

    assert rasa_runtime.launch is devtools.launch
    assert rasa_runtime.console_client is devtools.console_client
    from rasa_runtime.launch import custom_payloads, start_servers  # noqa: F401
