# The app image; the database is a separate PostGIS service (see docker-compose.yml).
FROM python:3.11-slim-bookworm
# pg_dump/pg_restore for `mapsvc backup` and `restore` (the server is PostgreSQL 15).
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY mapsvc mapsvc
COPY layers layers
COPY importers importers
RUN pip install --no-cache-dir -e .
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev
COPY web web
COPY data data
RUN useradd --system mapsvc
USER mapsvc
EXPOSE 8000
CMD ["mapsvc", "serve", "--host", "0.0.0.0"]
