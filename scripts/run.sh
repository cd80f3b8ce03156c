#!/usr/bin/env bash
# Set everything up and serve mapsvc on http://127.0.0.1:8000 with the embedded database and the
# demo data. Ctrl-C stops the server and the embedded database. Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/mapsvc db upgrade
.venv/bin/mapsvc demo load
trap '.venv/bin/mapsvc db stop >/dev/null' EXIT
.venv/bin/mapsvc serve "$@"
