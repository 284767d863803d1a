"""How this project runs its servers.

`python -m rasa_runtime run ...` is `rasa run ...` with the fixes in `__main__`
applied first; `python -m rasa_runtime.actions` is the rasa-sdk action server bound
to loopback and requiring the shared token (`auth`); `python -m
rasa_runtime.supervisor` keeps `make run`'s processes up. The harness that starts
them for tests and benchmarks is `devtools/`, not part of the runtime."""
