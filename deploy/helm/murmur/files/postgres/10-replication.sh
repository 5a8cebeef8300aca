#!/bin/bash
# Runs once on a primary's first start (docker-entrypoint-initdb.d): a replication role and a
# pg_hba rule so the replicas can stream WAL from it.
set -euo pipefail
# compose gives the password as a file (REPLICATION_PASSWORD_FILE), Kubernetes as a variable
if [ -n "${REPLICATION_PASSWORD_FILE:-}" ]; then REPLICATION_PASSWORD="$(cat "$REPLICATION_PASSWORD_FILE")"; fi
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE ${REPLICATION_USER:-replicator} WITH REPLICATION LOGIN PASSWORD '${REPLICATION_PASSWORD:?}';
SQL
echo "host replication ${REPLICATION_USER:-replicator} all scram-sha-256" >> "$PGDATA/pg_hba.conf"
