# The app image; the database is a separate PostGIS service (see docker-compose.yml).
# Three stages: the viewer's npm packages and the Python dependencies are built where node and
# pip's build tools live; the runtime image gets only their results and the source tree.
# Migrations are their own step, not part of serving: `mapsvc db upgrade` (compose runs it
# before `mapsvc serve`).

FROM node:20-bookworm-slim AS web-packages
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

FROM python:3.11-slim-bookworm AS python-packages
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
COPY pyproject.toml README.md ./
COPY mapsvc mapsvc
COPY layers layers
COPY importers importers
# The dependencies only: the code runs from /app, where it finds web/, data/ and node_modules/
# beside it (mapsvc.settings.PROJECT_DIR), so the package itself is not kept in the venv.
RUN pip install --no-cache-dir . && pip uninstall --yes mapsvc

FROM python:3.11-slim-bookworm
# pg_dump/pg_restore for `mapsvc backup` and `restore` (the server is PostgreSQL 15).
RUN apt-get update && apt-get install -y --no-install-recommends postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
COPY --from=python-packages /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PYTHONPATH=/app PYTHONDONTWRITEBYTECODE=1
RUN printf '#!/bin/sh\nexec python -m mapsvc "$@"\n' > /opt/venv/bin/mapsvc \
    && chmod 755 /opt/venv/bin/mapsvc
WORKDIR /app
COPY --from=web-packages /app/node_modules node_modules
COPY mapsvc mapsvc
COPY layers layers
COPY importers importers
COPY web web
COPY data data
RUN useradd --system mapsvc
USER mapsvc
EXPOSE 8000
CMD ["mapsvc", "serve", "--host", "0.0.0.0"]
