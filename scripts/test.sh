#!/usr/bin/env bash
# Set everything up and run every check: lint, format, types, the dependency rule, then the
# whole test suite against a real PostGIS (a throwaway database). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
echo "== ruff"; .venv/bin/ruff check . && .venv/bin/ruff format --check .
echo "== mypy"; .venv/bin/mypy
echo "== import-linter"; .venv/bin/lint-imports
echo "== node --test"; node --test tests/js/
echo "== pytest"; .venv/bin/pytest "$@"
