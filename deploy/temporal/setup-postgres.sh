#!/bin/sh
# One-shot job of docker-compose.yml (service `temporal-schema`, image temporalio/admin-tools):
# create Temporal's two databases in PostgreSQL and bring their schemas up to the version that
# this admin-tools image ships, which is the version of the temporalio/server image beside it.
# The layout of Temporal's own server samples (github.com/temporalio/samples-server, compose/).
#
# Safe to run again, and it runs at every `docker compose up`: `create` accepts an existing
# database, `setup-schema -v 0.0` leaves a schema that is already past 0.0 alone, and
# `update-schema` applies only the versions the database does not have yet. So upgrading the
# server is: bump both image tags in docker-compose.yml, `docker compose up -d`.
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS, the PostgreSQL host}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD, the password temporal-sql-tool uses}"
PORT="${DB_PORT:-5432}"
SCHEMA_DIR=/etc/temporal/schema/postgresql/v12

attempt=1
until nc -z -w 5 "$POSTGRES_SEEDS" "$PORT"; do
  if [ "$attempt" -ge 30 ]; then
    echo "PostgreSQL at $POSTGRES_SEEDS:$PORT did not open its port" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

sql_tool() {
  temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" "$@"
}

for pair in temporal:temporal temporal_visibility:visibility; do
  database="${pair%%:*}"
  schema="${pair#*:}"
  echo "database $database: create, set up, update to $SCHEMA_DIR/$schema/versioned"
  sql_tool --db "$database" create
  sql_tool --db "$database" setup-schema -v 0.0
  sql_tool --db "$database" update-schema -d "$SCHEMA_DIR/$schema/versioned"
done
echo "Temporal's schema is up to date"
