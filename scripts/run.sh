#!/usr/bin/env bash
# Starts the assistant: action server (:5055), Rasa with REST + socket.io (:5005),
# and the demo support page with the chat widget (:8080), all on 127.0.0.1, under a
# supervisor that restarts a process that dies (rasa_runtime/supervisor.py).
# Ctrl-C stops all three.
#
# `scripts/run.sh shell` (make shell): the action server in the background and
# `rasa shell` in this terminal.
#
# Environment: RASA_HOST/RASA_PORT, ACTIONS_HOST/ACTIONS_PORT, WEB_HOST/WEB_PORT,
# ACTION_ENDPOINT_URL, RASA_MODEL, ACTION_SERVER_TOKEN (random per start; Rasa and the
# action server share it), CHAT_ALLOWED_ORIGINS: docs/settings.md.
set -euo pipefail
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD" TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
mode="${1:-run}"
PY=.venv/bin/python

# Defaults, checks and the action server's URL come from assistant/settings.py
# (docs/settings.md) in one call: a bad value stops here with one line naming it.
settings="$($PY -m assistant.settings vars RASA_MODEL RASA_HOST RASA_PORT WEB_HOST WEB_PORT \
  ACTIONS_HOST ACTIONS_PORT ACTION_ENDPOINT_URL ACTIONS_LOCAL_URL MALLOC_ARENA_MAX)"
eval "$settings"
MODEL="$RASA_MODEL"
# endpoints.yml reads ${ACTION_ENDPOINT_URL}; the action server ACTIONS_HOST/PORT.
export ACTIONS_HOST ACTIONS_PORT ACTION_ENDPOINT_URL
# glibc: two malloc arenas and memory handed back every 30 s (rasa_runtime/memory.py):
# the Rasa process's RSS grew about twice as fast without (docs/memory.md).
export MALLOC_ARENA_MAX MALLOC_TRIM_EVERY="${MALLOC_TRIM_EVERY:-30}"
# The secret Rasa sends and the action server requires: new for every start unless
# given (several Rasa servers sharing one action server must share it).
if [ -z "${ACTION_SERVER_TOKEN:-}" ]; then
  ACTION_SERVER_TOKEN="$($PY -c 'import secrets; print(secrets.token_urlsafe(32))')"
fi
export ACTION_SERVER_TOKEN
mkdir -p var

actions_cmd=($PY -m rasa_runtime.actions --host "$ACTIONS_HOST" --port "$ACTIONS_PORT" --actions actions)

if [ "$mode" = shell ]; then
  # The action server runs supervised in the background (its log in var/), rasa
  # shell in the foreground; leaving the shell stops both.
  $PY -m rasa_runtime.supervisor actions "${actions_cmd[@]}" >var/actions-shell.log 2>&1 &
  supervisor=$!
  trap 'kill -TERM "$supervisor" 2>/dev/null || true; wait "$supervisor" 2>/dev/null || true' EXIT
  $PY - "$ACTIONS_LOCAL_URL/health" <<'PY' || { echo "action server did not start; see var/actions-shell.log" >&2; exit 1; }
import sys, time, urllib.request
url = sys.argv[1]
for _ in range(240):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.25)
sys.exit(1)
PY
  echo "Action server: $ACTION_ENDPOINT_URL (log: var/actions-shell.log)"
  $PY -m rasa_runtime shell --model "$MODEL" --endpoints endpoints.yml \
    --interface "$RASA_HOST" --port "$RASA_PORT"
  exit
fi

# The socket.io allowlist (credentials.yml) defaults to the demo page on :8080;
# on another port the demo page's origin must be allowed explicitly.
if [ "$WEB_PORT" != 8080 ] && [ -z "${CHAT_ALLOWED_ORIGINS:-}" ]; then
  export CHAT_ALLOWED_ORIGINS="http://localhost:$WEB_PORT,http://127.0.0.1:$WEB_PORT"
fi

services=(actions "${actions_cmd[@]}")
if [ -x scripts/install_browser.sh ] && [ -f scripts/serve_web.py ]; then
  scripts/install_browser.sh --web-only >/dev/null 2>&1 || true
  services+=(--- web $PY scripts/serve_web.py --host "$WEB_HOST" --port "$WEB_PORT"
    --rasa-url "http://localhost:$RASA_PORT")
fi
services+=(--- rasa $PY -m rasa_runtime run --model "$MODEL" --endpoints endpoints.yml
  --credentials credentials.yml --interface "$RASA_HOST" --port "$RASA_PORT")

cat <<MSG

  REST:          curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"ACWとは?"}'
  Demo page:     http://localhost:$WEB_PORT/  (chat widget, bottom right)
  Agent console: http://localhost:$RASA_PORT/agent/
  Stop:          Ctrl-C (a process that dies is restarted)

MSG
exec $PY -m rasa_runtime.supervisor "${services[@]}"
