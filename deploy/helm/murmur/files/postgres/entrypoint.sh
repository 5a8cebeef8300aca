#!/bin/bash
# One StatefulSet per Postgres cluster: ordinal 0 is the primary (initdb + 10-replication.sh on
# first start), every other ordinal is a streaming read replica cloned from it with pg_basebackup.
set -euo pipefail
ordinal="${HOSTNAME##*-}"
if [ "$ordinal" != "0" ]; then
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    export PGPASSWORD="$REPLICATION_PASSWORD"
    until pg_isready -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -q; do
      echo "waiting for the primary $PRIMARY_HOST"
      sleep 2
    done
    mkdir -p "$PGDATA" && chmod 0700 "$PGDATA"
    # -R writes primary_conninfo and standby.signal: the node starts as a hot standby.
    pg_basebackup -h "$PRIMARY_HOST" -U "$REPLICATION_USER" -D "$PGDATA" -X stream -R --checkpoint=fast
  fi
  exec docker-entrypoint.sh postgres -c hot_standby=on -c hot_standby_feedback=on
fi
exec docker-entrypoint.sh postgres -c wal_level=replica -c max_wal_senders=10 -c hot_standby=on
