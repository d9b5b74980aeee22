#!/usr/bin/env bash
# Regenerate the README's screenshots in docs/screenshots/ on purpose: the browser tests take
# them, into a temporary folder unless told otherwise (so the test suite leaves the tree clean).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || bash scripts/test.sh --co -q >/dev/null
HANDSUP_SCREENSHOTS="$PWD/docs/screenshots" .venv/bin/python -m pytest -q -m browser "$@"
echo "screenshots written to docs/screenshots/"
