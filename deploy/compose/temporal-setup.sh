#!/bin/sh
# One-shot (docker-compose.yml: temporal-setup, image temporalio/admin-tools): the namespace
# and the four Keyword search attributes support staff search by (schema/names.py
# SEARCH_ATTRIBUTE_TYPES), which the dev server gets from --search-attribute. Idempotent.
set -eu

# The stack's frontend; tests/test_compose_temporal.py points it at a dev server.
address="${TEMPORAL_ADDRESS:-temporal:7233}"
namespace="$TEMPORAL_NAMESPACE"

# A freshly created namespace reaches the frontend's cache within seconds: retry, bounded.
retry() {
    tries=0
    until "$@"; do
        tries=$((tries + 1))
        if [ "$tries" -ge 30 ]; then
            echo "temporal-setup: gave up on: $*" >&2
            exit 1
        fi
        sleep 2
    done
}

retry temporal operator cluster health --address "$address"

if ! temporal operator namespace describe --namespace "$namespace" --address "$address" \
    >/dev/null 2>&1; then
    temporal operator namespace create --namespace "$namespace" \
        --retention "$TEMPORAL_RETENTION" --address "$address"
fi

for name in AnalysisId UserId AnalysisStatus AnalysisStage; do
    if temporal operator search-attribute list --namespace "$namespace" --address "$address" \
        2>/dev/null | grep -qw "$name"; then
        continue
    fi
    retry temporal operator search-attribute create --namespace "$namespace" \
        --address "$address" --name "$name" --type Keyword
done
echo "temporal-setup: namespace $namespace with AnalysisId, UserId, AnalysisStatus, AnalysisStage"
