#!/usr/bin/env bash
# Set up everything the suite needs on a fresh Debian machine, then lint, type-check and test.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian's Chromium for the browser tests (Playwright's own browser download is not possible here).
if ! command -v chromium >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi

# Debian's redis-server for the tests of workers sharing a session (tests/test_redis.py).
if ! command -v redis-server >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server >/dev/null
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
