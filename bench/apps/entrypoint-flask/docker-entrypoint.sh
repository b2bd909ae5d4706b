#!/bin/sh
# Write the runtime configuration from the environment, then run the command.
set -e
mkdir -p /app/config
printf '{"greeting": "%s", "workers": "%s"}\n' "${GREETING:-hello}" "${WEB_CONCURRENCY:-2}" \
    > /app/config/runtime.json
exec "$@"
