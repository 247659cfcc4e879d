#!/bin/sh
# One-shot job of docker-compose.yml (service `temporal-namespace`, image temporalio/admin-tools):
# once the server answers, register the namespace the workers and the API use, with the
# retention of closed appeals' histories. Safe to run again: an existing namespace is left as it is
# (change its retention with `temporal operator namespace update`).
#
# The appeals' custom search attributes are not made here: every worker registers the missing
# ones at start (stack/search_attributes.py), against this cluster or any other.
set -eu

NAMESPACE="${DEFAULT_NAMESPACE:-default}"
RETENTION="${DEFAULT_NAMESPACE_RETENTION:-720h}"
ADDRESS="${TEMPORAL_ADDRESS:-temporal:7233}"
ATTEMPTS="${ATTEMPTS:-60}"

attempt=1
until temporal operator cluster health --address "$ADDRESS" >/dev/null 2>&1; do
  if [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "Temporal at $ADDRESS is not healthy after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done

attempt=1
until temporal operator namespace describe --namespace "$NAMESPACE" --address "$ADDRESS" >/dev/null 2>&1; do
  if temporal operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" --address "$ADDRESS"; then
    echo "namespace $NAMESPACE created (retention $RETENTION)"
  elif [ "$attempt" -ge "$ATTEMPTS" ]; then
    echo "could not create namespace $NAMESPACE after $ATTEMPTS attempts" >&2
    exit 1
  fi
  attempt=$((attempt + 1))
  sleep 2
done
echo "namespace $NAMESPACE is ready"
