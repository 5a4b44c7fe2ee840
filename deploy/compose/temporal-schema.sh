#!/bin/sh
# One-shot (docker-compose.yml: temporal-schema, image temporalio/admin-tools): Temporal's
# persistence and visibility schemas on PostgreSQL, created or upgraded to the server's version
# with temporal-sql-tool. Every step is idempotent, so it runs on every `up` (an upgraded
# server image gets its schema upgrade first).
set -eu

export SQL_PASSWORD="$TEMPORAL_DB_PASSWORD"
schemas=/etc/temporal/schema/postgresql/v12

for pair in temporal:temporal temporal_visibility:visibility; do
    db=${pair%%:*}
    schema=${pair#*:}
    sql() {
        temporal-sql-tool --plugin postgres12 --ep postgres -p 5432 -u "$TEMPORAL_DB_USER" \
            --db "$db" "$@"
    }
    sql create
    sql setup-schema -v 0.0
    sql update-schema -d "$schemas/$schema/versioned"
done
echo "temporal-schema: temporal and temporal_visibility are at the server's schema version"
