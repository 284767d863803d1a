#!/usr/bin/env bash
# Debian packages the scale-out test (make scale-test, scale-test-short) starts for
# real: PostgreSQL and Redis (scripts/install_test_services.sh) and HAProxy, the
# load balancer. Idempotent: installs only what is missing (needs root, as on CI
# and dev machines). The test runs its own throwaway servers on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install_test_services.sh
if ! command -v haproxy >/dev/null 2>&1 && [ ! -x /usr/sbin/haproxy ]; then
  echo "installing: haproxy"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends haproxy >/dev/null
  # The package starts a system service; the test runs its own balancer.
  (service haproxy stop || true) >/dev/null 2>&1
fi
