#!/bin/sh
# One-shot (docker-compose.yml: postgres-setup): the application's role and database, and
# Temporal's role, from the values in deploy/compose.env. Runs on every `up`, so a password
# changed in the env file is set again, as `ascension stack up` does. Idempotent.
set -eu

# The stack's server; tests/test_compose_postgres.py points PGHOST/PGPORT at its own.
export PGHOST="${PGHOST:-postgres}" PGPORT="${PGPORT:-5432}"
export PGUSER=postgres PGPASSWORD="$POSTGRES_PASSWORD" PGDATABASE=postgres

psql -v ON_ERROR_STOP=1 -q \
    -v app_user="$APP_DB_USER" -v app_password="$APP_DB_PASSWORD" -v app_db="$APP_DB_NAME" \
    -v temporal_user="$TEMPORAL_DB_USER" -v temporal_password="$TEMPORAL_DB_PASSWORD" <<'SQL'
-- The application: a plain login role owning its database (migrations run as it).
SELECT format('CREATE ROLE %I LOGIN', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'app_user')\gexec
SELECT format('ALTER ROLE %I LOGIN PASSWORD %L', :'app_user', :'app_password')\gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'app_db', :'app_user')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'app_db')\gexec

-- Temporal: temporal-sql-tool creates its two databases (temporal, temporal_visibility).
SELECT format('CREATE ROLE %I LOGIN CREATEDB', :'temporal_user')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'temporal_user')\gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'temporal_user', :'temporal_password')\gexec
SQL
echo "postgres-setup: role $APP_DB_USER owns $APP_DB_NAME; role $TEMPORAL_DB_USER may create databases"
