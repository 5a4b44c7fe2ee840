#!/bin/sh
# One-shot (docker-compose.yml: minio-setup, image minio/mc): both buckets and their lifecycle
# rules, before any application process starts. The rules are the ones the API also sets at
# start (core/storage/s3.py expire_prefix: same rule ids, so either writer leaves the same
# configuration): unsaved uploads expire 7 days after upload (seed 000), stored Temporal
# payloads after ASCENSION_PAYLOAD_RETENTION_DAYS. `mc ilm import` replaces the whole
# configuration, so running this on every `up` is idempotent.
set -eu

mc alias set store http://minio:9000 "$ASCENSION_S3_ACCESS_KEY" "$ASCENSION_S3_SECRET_KEY"
mc mb --ignore-existing "store/$ASCENSION_BUCKET" "store/$ASCENSION_PAYLOAD_BUCKET"

printf '%s' '{"Rules": [{"ID": "expire-uploads", "Status": "Enabled",
  "Filter": {"Prefix": "uploads/"}, "Expiration": {"Days": 7}}]}' \
    | mc ilm import "store/$ASCENSION_BUCKET"
printf '{"Rules": [{"ID": "expire-all", "Status": "Enabled", "Filter": {"Prefix": ""},
  "Expiration": {"Days": %d}}]}' "$ASCENSION_PAYLOAD_RETENTION_DAYS" \
    | mc ilm import "store/$ASCENSION_PAYLOAD_BUCKET"
echo "minio-setup: $ASCENSION_BUCKET (uploads/ expire after 7 days)," \
    "$ASCENSION_PAYLOAD_BUCKET (payloads expire after $ASCENSION_PAYLOAD_RETENTION_DAYS days)"
