#!/usr/bin/env bash
# Set everything up and serve mapsvc on http://127.0.0.1:8000 with the embedded database and the
# demo data. Ctrl-C stops the server and the embedded database. Extra arguments go to `serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
.venv/bin/mapsvc db upgrade
.venv/bin/mapsvc demo load
if ! .venv/bin/mapsvc users list | grep -q ':admin'; then
  echo "Staff portal: ${MAPSVC_PUBLIC_URL:-http://${MAPSVC_HOST:-127.0.0.1}:${MAPSVC_PORT:-8000}}/staff/ — create the first administrator with"
  echo "  .venv/bin/mapsvc users create you@pref.osaka.lg.jp --municipality 270008 --role admin"
  echo "and open the link it prints (職員ポータルの最初の管理者を作り、表示されるリンクを開いてください)."
fi
trap '.venv/bin/mapsvc db stop >/dev/null' EXIT
.venv/bin/mapsvc serve "$@"
