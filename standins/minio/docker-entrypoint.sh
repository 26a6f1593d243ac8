#!/bin/sh
# lobestack MinIO STAND-IN entrypoint: same contract as minio/minio's /usr/bin/docker-entrypoint.sh
# (any arguments are run as `minio ARGS...`, e.g. `server /data --console-address :9001`).
set -e
if [ "${1}" != "minio" ]; then
    if [ -n "${1}" ]; then
        set -- minio "$@"
    fi
fi
exec "$@"
