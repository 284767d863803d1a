"""`python -m rasa_runtime <rasa CLI arguments>`: Rasa's CLI with `speedups` applied."""
from rasa_runtime import speedups


def main() -> None:
    speedups.apply()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
