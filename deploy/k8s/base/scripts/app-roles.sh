#!/bin/bash
# After the migrations, on every primary (the main database and each shard), as the owner the
# migrations run as: one login role per service (murmur_user, murmur_post, murmur_feed,
# murmur_leaderboard), none superuser, none able to create databases, roles or objects, each
# with SELECT, INSERT, UPDATE and DELETE on the application's tables (and the sequences and id
# functions those need), through the NOLOGIN group role murmur_app. Tables later migrations
# create are granted by default privileges. The leaderboard role may also refresh the
# materialized views (MAINTAIN, PostgreSQL 17). Idempotent: it runs after every migration and
# sets the passwords again, so rotating one is a Secret change and a re-run.
#   DATABASE_URL, SHARDS     owner URLs (the migrate Job's env); every primary in them is done
#   <SERVICE>_DB_PASSWORD    USER_DB_PASSWORD, POST_DB_PASSWORD, FEED_DB_PASSWORD, LEADERBOARD_DB_PASSWORD
set -euo pipefail
: "${DATABASE_URL:?}" "${USER_DB_PASSWORD:?}" "${POST_DB_PASSWORD:?}" "${FEED_DB_PASSWORD:?}" "${LEADERBOARD_DB_PASSWORD:?}"
for url in "$DATABASE_URL" $(echo "${SHARDS:-}" | grep -o 'postgres://[^"]*'); do
  until psql "$url" -tAc 'select 1' >/dev/null 2>&1; do echo "waiting for ${url##*@}"; sleep 2; done
  psql "$url" -v ON_ERROR_STOP=1 -q \
    -v user_password="$USER_DB_PASSWORD" -v post_password="$POST_DB_PASSWORD" \
    -v feed_password="$FEED_DB_PASSWORD" -v leaderboard_password="$LEADERBOARD_DB_PASSWORD" <<'SQL'
SET client_min_messages = warning;
SELECT format('CREATE ROLE %I NOLOGIN', r) FROM unnest(ARRAY['murmur_app', 'murmur_user', 'murmur_post', 'murmur_feed', 'murmur_leaderboard']) AS r
  WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) \gexec
ALTER ROLE murmur_app NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
ALTER ROLE murmur_user LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'user_password';
ALTER ROLE murmur_post LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'post_password';
ALTER ROLE murmur_feed LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'feed_password';
ALTER ROLE murmur_leaderboard LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT PASSWORD :'leaderboard_password';
GRANT murmur_app TO murmur_user, murmur_post, murmur_feed, murmur_leaderboard;
-- Only the owner and the service roles connect; nobody but the owner creates anything.
SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database()) \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO murmur_app', current_database()) \gexec
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SELECT format('GRANT USAGE ON SCHEMA %I TO murmur_app', nspname),
       format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO murmur_app', nspname),
       format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO murmur_app', nspname),
       format('GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA %I TO murmur_app', nspname)
  FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' \gexec
ALTER DEFAULT PRIVILEGES GRANT USAGE ON SCHEMAS TO murmur_app;
ALTER DEFAULT PRIVILEGES GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO murmur_app;
ALTER DEFAULT PRIVILEGES GRANT USAGE, SELECT ON SEQUENCES TO murmur_app;
SELECT format('GRANT MAINTAIN ON %I.%I TO murmur_leaderboard', schemaname, matviewname) FROM pg_matviews
  WHERE current_setting('server_version_num')::int >= 170000 \gexec
SQL
  echo "roles granted on ${url##*@}"
done
