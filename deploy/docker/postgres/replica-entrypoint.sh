#!/bin/bash
# A streaming read replica on the official postgres image: on first start, clone the primary
# with pg_basebackup (-R writes primary_conninfo and standby.signal), then run postgres as usual.
set -euo pipefail
if [ -n "${REPLICATION_PASSWORD_FILE:-}" ]; then REPLICATION_PASSWORD="$(cat "$REPLICATION_PASSWORD_FILE")"; fi
: "${PRIMARY_HOST:?}" "${REPLICATION_PASSWORD:?}"
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD="$REPLICATION_PASSWORD"
  until pg_isready -h "$PRIMARY_HOST" -U "${REPLICATION_USER:-replicator}" -q; do sleep 1; done
  mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
  pg_basebackup -h "$PRIMARY_HOST" -U "${REPLICATION_USER:-replicator}" -D "$PGDATA" \
    -X stream -R -P --checkpoint=fast
  chown -R postgres:postgres "$PGDATA"
fi
exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on
