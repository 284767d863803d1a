#!/usr/bin/env bash
# Starts the assistant: action server (:5055), Rasa with REST + socket.io (:5005),
# and the demo support page with the chat widget (:8080). Ctrl-C stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
RASA_PORT="${RASA_PORT:-5005}"
ACTIONS_PORT="${ACTIONS_PORT:-5055}"
WEB_PORT="${WEB_PORT:-8080}"
mkdir -p var
# The socket.io allowlist (credentials.yml) defaults to the demo page on :8080;
# on another port the demo page's origin must be allowed explicitly.
if [ "$WEB_PORT" != 8080 ] && [ -z "${CHAT_ALLOWED_ORIGINS:-}" ]; then
  export CHAT_ALLOWED_ORIGINS="http://localhost:$WEB_PORT,http://127.0.0.1:$WEB_PORT"
fi

pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

.venv/bin/rasa run actions --port "$ACTIONS_PORT" --actions actions &
pids+=($!)
if [ -x scripts/install_browser.sh ] && [ -f scripts/serve_web.py ]; then
  scripts/install_browser.sh --web-only >/dev/null 2>&1 || true
  .venv/bin/python scripts/serve_web.py --port "$WEB_PORT" --rasa-url "http://localhost:$RASA_PORT" &
  pids+=($!)
fi
.venv/bin/python -m rasa_runtime run --model models/model.tar.gz --endpoints endpoints.yml \
  --credentials credentials.yml --interface 127.0.0.1 --port "$RASA_PORT" &
pids+=($!)

cat <<MSG

  REST:        curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"ACWとは?"}'
  Demo page:   http://localhost:$WEB_PORT/  (chat widget, bottom right)
  Stop:        Ctrl-C

MSG
wait -n "${pids[@]}"
