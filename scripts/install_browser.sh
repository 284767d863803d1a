#!/usr/bin/env bash
# What the widget's browser tests need, installed only when missing:
# Debian's chromium (Playwright drives it; never `playwright install`, which
# downloads a browser build), CJK fonts for readable screenshots, and the
# socket.io client from the npm registry (web/node_modules, from the lock file).
# --web-only: just the npm packages (what `make run` needs for the demo page and the console).
set -euo pipefail
cd "$(dirname "$0")/.."

web_only=false
[ "${1:-}" = "--web-only" ] && web_only=true

apt_packages=()
[ -x /usr/bin/chromium ] || apt_packages+=(chromium)
# grep without -q reads all of fc-list: -q would SIGPIPE it and fail the pipeline.
fc-list 2>/dev/null | grep -i "Noto Sans CJK" >/dev/null || apt_packages+=(fonts-noto-cjk)
if ! $web_only && [ ${#apt_packages[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${apt_packages[@]}"
fi

# npm ci again whenever the lock file changed (e.g. chart.js added for the staff console).
if ! cmp -s web/package-lock.json web/node_modules/.cc-installed-lock.json; then
  (cd web && npm ci --no-audit --no-fund && cp package-lock.json node_modules/.cc-installed-lock.json)
fi
