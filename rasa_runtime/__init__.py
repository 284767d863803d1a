"""How this project starts Rasa: `python -m rasa_runtime run ...` is `rasa run ...`
with the speed fixes in `speedups` applied first."""
