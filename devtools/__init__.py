"""Development tools, not part of the runtime: start the real servers on free ports
for tests, benchmarks, the eval and the scale-out run (`launch`), and talk to the
agent console over HTTP as staff do (`console_client`). Production code never
imports this package (.importlinter)."""
