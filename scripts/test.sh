#!/usr/bin/env bash
# Set up everything the suite needs on a fresh Debian machine, then lint, type-check and test.
set -euo pipefail
cd "$(dirname "$0")/.."

# From Debian: Chromium for the browser tests (Playwright's own browser download is not
# possible here), redis-server and nginx for the multi-worker tests. One apt-get call for all
# that are missing. The tests start their own redis-server and nginx on free loopback ports;
# none is started here, and the packages' own services are kept from starting (policy-rc.d
# 101, as in Debian's container images) so nothing grabs port 80 or 6379.
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }
MISSING=()
has chromium || MISSING+=(chromium fonts-dejavu-core)
has redis-server || MISSING+=(redis-server)
has nginx || MISSING+=(nginx)
if [ ${#MISSING[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    POLICY=/usr/sbin/policy-rc.d
    if [ ! -e "$POLICY" ]; then
        printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$POLICY" >/dev/null
        $SUDO chmod 755 "$POLICY"
        trap '$SUDO rm -f "$POLICY"' EXIT
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${MISSING[@]}" >/dev/null
    if [ "$(trap -p EXIT)" ]; then $SUDO rm -f "$POLICY"; trap - EXIT; fi
fi

# axe-core (npm registry) for the accessibility checks the browser tests inject into pages.
AXE=tests/.axe/node_modules/axe-core/axe.min.js
[ -f "$AXE" ] || npm install --silent --no-audit --no-fund --no-save --prefix tests/.axe axe-core@4.14.1

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'

.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/python -m pytest "$@"
