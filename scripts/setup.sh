#!/usr/bin/env bash
# Install what mapsvc needs on Debian/Ubuntu, idempotently: Debian packages (PostGIS, the Python
# venv module, Node.js/npm), the Python virtual environment and the front-end npm packages.
# A second run installs nothing and takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
ls /usr/share/postgresql/*/extension/postgis.control >/dev/null 2>&1 || missing+=(postgis)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
command -v ogr2ogr >/dev/null 2>&1 || missing+=(gdal-bin)  # bench and interoperability tests
command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # browser tests (Playwright drives it)
[ -d /usr/share/fonts/opentype/noto ] || missing+=(fonts-noto-cjk)  # Japanese in screenshots
command -v nginx >/dev/null 2>&1 || missing+=(nginx)  # the proxy of deploy/nginx (proxy tests)
# A compose client checks docker-compose.yml (no Docker engine is needed for that).
command -v docker-compose >/dev/null 2>&1 || docker compose version >/dev/null 2>&1 \
  || missing+=(docker-compose)
# Brotli for the viewer's files where the distribution has the module (Debian 12 does).
[ -e /usr/lib/nginx/modules/ngx_http_brotli_filter_module.so ] \
  || ! apt-cache show libnginx-mod-http-brotli-filter >/dev/null 2>&1 \
  || missing+=(libnginx-mod-http-brotli-filter)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages for: ${missing[*]}"
  sudo_if_needed apt-get update -qq
  packages=()
  for need in "${missing[@]}"; do
    if [ "$need" = postgis ]; then
      # Debian 12's PostgreSQL is 15; elsewhere take the distribution's default PostgreSQL.
      if apt-cache show postgresql-15-postgis-3 >/dev/null 2>&1; then
        packages+=(postgresql-15-postgis-3)
      else
        packages+=(postgresql-postgis)
      fi
    else
      packages+=("$need")
    fi
  done
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${packages[@]}" >/dev/null
fi

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "setup: mapsvc needs Python 3.11 or newer" >&2; exit 1; }

# Python environment: reinstalled only when pyproject.toml changes.
stamp=".venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -e "$stamp" ]; then
  echo "setup: installing Python packages into .venv"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi

# ogctests (the OGC API Features conformance suite) pins an older pytest and httpx: its own venv.
stamp_ogc=".venv-ogctests/.installed-ogctests-0.1.15"
if [ ! -e "$stamp_ogc" ]; then
  echo "setup: installing ogctests into .venv-ogctests"
  [ -x .venv-ogctests/bin/python ] || python3 -m venv .venv-ogctests
  .venv-ogctests/bin/pip install --quiet --disable-pip-version-check ogctests==0.1.15
  touch "$stamp_ogc"
fi

# Front-end packages (Leaflet), served by the app itself: reinstalled when the lock changes.
stamp_js="node_modules/.installed-$(sha256sum package-lock.json | cut -c1-16)"
if [ ! -e "$stamp_js" ]; then
  echo "setup: installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
  touch "$stamp_js"
fi
