#!/bin/sh
# Creates LobeChat's bucket and lets anyone read its objects (not list them).
set -eu
mc alias set local http://minio:9000 "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD"
mc mb --ignore-existing local/lobe
cat > /tmp/read.json <<'JSON'
{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:GetObject"],"Resource":["arn:aws:s3:::lobe/*"]}]}
JSON
mc anonymous set-json /tmp/read.json local/lobe
