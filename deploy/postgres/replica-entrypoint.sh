#!/bin/sh
# A streaming replica: on an empty volume, copy the primary (pg_basebackup -R writes
# standby.signal and primary_conninfo), then start as the image always does.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h "$PRIMARY_HOST" -U replicator -d postgres; do sleep 1; done
  mkdir -p "$PGDATA" && chown postgres:postgres "$PGDATA" && chmod 700 "$PGDATA"
  gosu postgres pg_basebackup -h "$PRIMARY_HOST" -U replicator -D "$PGDATA" -R -X stream \
    -C -S mapsvc_replica --checkpoint=fast
fi
exec docker-entrypoint.sh "$@"
